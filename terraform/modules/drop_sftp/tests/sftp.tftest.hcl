# The SFTP endpoint's confinement, planned against a mocked AWS provider.

mock_provider "aws" {
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_iam_policy_document.assume
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.drops
    values = { json = "{}" }
  }
}

variables {
  name                = "clearlake-drops"
  bucket_name         = "clearlake-test-lake"
  bucket_arn          = "arn:aws:s3:::clearlake-test-lake"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/abc"
  vpc_id              = "vpc-0123456789abcdef0"
  subnet_ids          = ["subnet-0123456789abcdef0"]
  allowed_cidr_blocks = ["203.0.113.0/24"]
  users = {
    partner = { ssh_public_keys = ["ssh-ed25519 AAAAC3Nza partner"], datasets = ["delay_annotations", "claims"] }
  }
}

run "a_private_sftp_server_into_the_drops_prefix" {
  command = plan

  assert {
    condition     = aws_transfer_server.this.endpoint_type == "VPC" && aws_transfer_server.this.domain == "S3"
    error_message = "The server must be a VPC endpoint writing to S3."
  }

  assert {
    condition     = aws_transfer_server.this.protocols == toset(["SFTP"])
    error_message = "SFTP only."
  }

  assert {
    condition = [for m in aws_transfer_user.this["partner"].home_directory_mappings : m.target] == [
      "/clearlake-test-lake/drops/delay_annotations",
      "/clearlake-test-lake/drops/claims",
    ]
    error_message = "Each dataset maps to its drops/<dataset> prefix."
  }

  assert {
    condition     = output.drops_url == "s3://clearlake-test-lake/drops"
    error_message = "drops_url is Helm's lake.dropsUrl."
  }

  assert {
    condition     = length(aws_transfer_ssh_key.this) == 1
    error_message = "One SSH key per declared key."
  }
}

run "rejects_a_bad_name" {
  command = plan
  variables {
    name = "-bad"
  }
  expect_failures = [var.name]
}

run "rejects_a_bad_prefix" {
  command = plan
  variables {
    drops_prefix = "/drops"
  }
  expect_failures = [var.drops_prefix]
}

run "rejects_no_subnet" {
  command = plan
  variables {
    subnet_ids = []
  }
  expect_failures = [var.subnet_ids]
}

run "rejects_the_whole_internet" {
  command = plan
  variables {
    allowed_cidr_blocks = ["0.0.0.0/0"]
  }
  expect_failures = [var.allowed_cidr_blocks]
}

run "rejects_an_undeclarable_dataset" {
  command = plan
  variables {
    users = { partner = { ssh_public_keys = [], datasets = ["no/slash"] } }
  }
  expect_failures = [var.users]
}
