# The lake bucket's protections and outputs, planned against a mocked AWS provider.

mock_provider "aws" {
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
}

variables {
  name = "clearlake-test-lake"
}

run "defaults_protect_the_lake" {
  command = plan

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "The lake bucket must be versioned."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "The lake bucket must be encrypted with SSE-KMS."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "Every public access block setting must be on."
  }

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "Without kms_key_arn the module must create a rotating key."
  }

  assert {
    condition = jsondecode(aws_s3_bucket_policy.this.policy).Statement[0] == {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::clearlake-test-lake", "arn:aws:s3:::clearlake-test-lake/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
    error_message = "The bucket policy must deny every request not made over TLS."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_lifecycle_configuration.this.rule : [
        one(rule.filter).prefix, one(rule.transition).days, one(rule.transition).storage_class, one(rule.expiration).days
      ] if rule.id == "quarantine"
    ] == [["quarantine/", 30, "STANDARD_IA", 180]]
    error_message = "quarantine/ objects must move to STANDARD_IA after 30 days and expire after 180."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "Access logging is off unless access_log_bucket is set."
  }

  assert {
    condition     = output.bucket_name == "clearlake-test-lake" && output.lake_url == "s3://clearlake-test-lake/lake"
    error_message = "bucket_name and lake_url must name the bucket (Helm: lake.url)."
  }

  assert {
    condition     = output.bucket_arn == "arn:aws:s3:::clearlake-test-lake"
    error_message = "bucket_arn must be the bucket's ARN."
  }
}

run "given_key_logs_and_schedule" {
  command = plan

  variables {
    kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234"
    access_log_bucket          = "clearlake-access-logs"
    quarantine_prefix          = "drops/quarantine/"
    quarantine_transition_days = 45
    quarantine_expiration_days = 365
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && output.kms_key_arn == var.kms_key_arn
    error_message = "A given key must be used instead of creating one."
  }

  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "clearlake-access-logs"
    error_message = "Access logs must go to access_log_bucket."
  }

  assert {
    condition = [
      for rule in aws_s3_bucket_lifecycle_configuration.this.rule : [
        one(rule.filter).prefix, one(rule.transition).days, one(rule.expiration).days
      ] if rule.id == "quarantine"
    ] == [["drops/quarantine/", 45, 365]]
    error_message = "The quarantine rule must follow quarantine_prefix and its day counts."
  }
}
