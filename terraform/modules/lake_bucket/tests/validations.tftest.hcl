# Every validation rule rejects what it exists to reject. Each run breaks several variables
# at once (one rule each); expect_failures requires every one of them to fail.

mock_provider "aws" {}

variables {
  name = "clearlake-test-lake"
}

run "malformed_values" {
  command = plan

  variables {
    name                               = "Clearlake_Lake"
    kms_key_arn                        = "alias/clearlake"
    quarantine_prefix                  = "/quarantine"
    quarantine_transition_days         = 7
    noncurrent_version_expiration_days = 0
    access_log_bucket                  = "s3://logs"
  }

  expect_failures = [
    var.name,
    var.kms_key_arn,
    var.quarantine_prefix,
    var.quarantine_transition_days,
    var.noncurrent_version_expiration_days,
    var.access_log_bucket,
  ]
}

run "inconsistent_values" {
  command = plan

  variables {
    name                       = "clearlake..lake"
    quarantine_transition_days = 60
    quarantine_expiration_days = 60
  }

  expect_failures = [var.name, var.quarantine_expiration_days]
}
