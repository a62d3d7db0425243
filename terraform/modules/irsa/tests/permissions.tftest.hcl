# Runs may read and write the lake; the Data API may only read it; each role trusts exactly
# one service account of the release namespace.

mock_provider "aws" {
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
}

variables {
  name_prefix       = "clearlake-test"
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
  oidc_issuer_url   = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
  lake_bucket_arn   = "arn:aws:s3:::clearlake-test-lake"
  lake_kms_key_arn  = "arn:aws:kms:eu-west-1:123456789012:key/abcd"
}

run "least_privilege" {
  command = plan

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.runs.policy).Statement : s.Action])) == toset([
      "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
      "s3:AbortMultipartUpload", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
    ])
    error_message = "Runs must read and write lake objects and use the lake key, nothing more."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.data_api.policy).Statement : s.Action])) == toset([
      "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt",
    ])
    error_message = "The Data API must only list, read and decrypt."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.data_api.policy).Statement :
      !anytrue([for action in flatten([s.Action]) : can(regex("Put|Delete|Encrypt|GenerateDataKey|\\*", action))])
    ])
    error_message = "The Data API role must not be able to write, delete or encrypt."
  }

  assert {
    condition = jsondecode(aws_iam_role.runs.assume_role_policy).Statement[0].Condition.StringEquals == {
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub" = "system:serviceaccount:clearlake:clearlake-runs"
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud" = "sts.amazonaws.com"
    }
    error_message = "The runs role must trust only clearlake/clearlake-runs."
  }

  assert {
    condition     = jsondecode(aws_iam_role.data_api.assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] == "system:serviceaccount:clearlake:clearlake-data-api"
    error_message = "The Data API role must trust only clearlake/clearlake-data-api."
  }

  assert {
    condition     = jsondecode(aws_iam_role.dagster.assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] == "system:serviceaccount:clearlake:clearlake-dagster"
    error_message = "The dagster role must trust only clearlake/clearlake-dagster (webserver and daemon)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.dagster.policy).Statement :
      !anytrue([for action in flatten([s.Action]) : can(regex("Put|Delete|Encrypt|GenerateDataKey|\\*", action))])
    ]) && contains([for s in jsondecode(aws_iam_role_policy.dagster.policy).Statement : s.Resource], "arn:aws:s3:::clearlake-test-lake/dagster/compute-logs/*")
    error_message = "The dagster role may only read the compute logs."
  }

  assert {
    condition     = aws_iam_role.runs.name == "clearlake-test-runs" && aws_iam_role.data_api.name == "clearlake-test-data-api"
    error_message = "Roles are named <name_prefix>-runs and <name_prefix>-data-api."
  }

  assert {
    condition     = length(aws_iam_role.efs_csi_driver) == 0 && output.efs_csi_driver_role_arn == null
    error_message = "No EFS CSI driver role unless efs_csi_driver is set."
  }
}

run "efs_csi_driver_role" {
  command = plan

  variables {
    efs_csi_driver = true
  }

  assert {
    condition = jsondecode(aws_iam_role.efs_csi_driver[0].assume_role_policy).Statement[0].Condition.StringEquals == {
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub" = [
        "system:serviceaccount:kube-system:efs-csi-controller-sa",
        "system:serviceaccount:kube-system:efs-csi-node-sa",
      ]
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud" = "sts.amazonaws.com"
    }
    error_message = "The EFS CSI driver role must trust only the driver's controller and node accounts."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.this[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
    error_message = "The driver gets AWS's EFS CSI driver policy, nothing else."
  }

  assert {
    condition     = aws_iam_role.efs_csi_driver[0].name == "clearlake-test-efs-csi-driver"
    error_message = "The role is named <name_prefix>-efs-csi-driver."
  }
}

run "invalid_values" {
  command = plan

  variables {
    name_prefix                     = "clearlake test"
    oidc_provider_arn               = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
    oidc_issuer_url                 = "http://oidc.example"
    namespace                       = "Clearlake"
    runs_service_account            = "Runs"
    data_api_service_account        = "data_api"
    dagster_service_account         = "Dagster"
    compute_logs_prefix             = "/dagster/"
    lake_bucket_arn                 = "arn:aws:s3:::clearlake-test-lake/lake"
    lake_kms_key_arn                = "alias/lake"
    efs_csi_driver_service_accounts = ["EFS CSI"]
  }

  expect_failures = [
    var.name_prefix,
    var.oidc_provider_arn,
    var.oidc_issuer_url,
    var.namespace,
    var.runs_service_account,
    var.data_api_service_account,
    var.dagster_service_account,
    var.compute_logs_prefix,
    var.lake_bucket_arn,
    var.lake_kms_key_arn,
    var.efs_csi_driver_service_accounts,
  ]
}

run "no_efs_csi_driver_accounts" {
  command = plan

  variables {
    efs_csi_driver_service_accounts = []
  }

  expect_failures = [var.efs_csi_driver_service_accounts]
}
