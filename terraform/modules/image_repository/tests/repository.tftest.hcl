# Immutable, scanned, encrypted; old images pruned without touching recent commits.

mock_provider "aws" {}

variables {
  name = "clearlake"
}

run "immutable_and_scanned" {
  command = plan

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Tags must be immutable: an image tag names one commit forever."
  }

  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "Every push must be scanned."
  }

  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS"
    error_message = "Images must be encrypted with KMS."
  }

  assert {
    condition = [for rule in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : [rule.selection.tagStatus, rule.selection.countNumber]] == [
      ["untagged", 14], ["any", 200]
    ]
    error_message = "Untagged images expire after 14 days; the 200 newest images are kept."
  }

  assert {
    condition     = output.name == "clearlake"
    error_message = "name must be the repository name."
  }
}

run "invalid_values" {
  command = plan

  variables {
    name                 = "Clearlake:latest"
    kms_key_arn          = "aws/ecr"
    untagged_expiry_days = 0
    keep_tagged_images   = 3
  }

  expect_failures = [var.name, var.kms_key_arn, var.untagged_expiry_days, var.keep_tagged_images]
}

run "name_too_short" {
  command = plan

  variables {
    name = "c"
  }

  expect_failures = [var.name]
}
