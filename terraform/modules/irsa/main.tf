# IAM roles for service accounts: run and step pods (and the code-location server) read and
# write the lake; the Data API may only read it. Each role trusts one service account only.
# Optionally, the EFS CSI driver's role (the reports volume), trusted by its own accounts.

data "aws_partition" "current" {}

locals {
  issuer = trimprefix(var.oidc_issuer_url, "https://")
  efs_csi_driver_subjects = [
    for account in var.efs_csi_driver_service_accounts : "system:serviceaccount:kube-system:${account}"
  ]

  trust = {
    for role, account in {
      runs     = var.runs_service_account
      data_api = var.data_api_service_account
      dagster  = var.dagster_service_account
      } : role => jsonencode({
        Version = "2012-10-17"
        Statement = [{
          Effect    = "Allow"
          Principal = { Federated = var.oidc_provider_arn }
          Action    = "sts:AssumeRoleWithWebIdentity"
          Condition = {
            StringEquals = {
              "${local.issuer}:sub" = "system:serviceaccount:${var.namespace}:${account}"
              "${local.issuer}:aud" = "sts.amazonaws.com"
            }
          }
        }]
    })
  }

  list_bucket = {
    Sid      = "ListTheLake"
    Effect   = "Allow"
    Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
    Resource = var.lake_bucket_arn
  }
}

resource "aws_iam_role" "runs" {
  name                 = "${var.name_prefix}-runs"
  description          = "Clearlake run and step pods: read and write the lake."
  assume_role_policy   = local.trust.runs
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "runs" {
  name = "lake-read-write"
  role = aws_iam_role.runs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.list_bucket,
      {
        Sid      = "ReadWriteLakeObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = "${var.lake_bucket_arn}/*"
      },
      {
        Sid      = "UseTheLakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource = var.lake_kms_key_arn
      },
    ]
  })
}

resource "aws_iam_role" "data_api" {
  name                 = "${var.name_prefix}-data-api"
  description          = "Clearlake Data API: read the lake, nothing else."
  assume_role_policy   = local.trust.data_api
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "data_api" {
  name = "lake-read-only"
  role = aws_iam_role.data_api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.list_bucket,
      {
        Sid      = "ReadLakeObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.lake_bucket_arn}/*"
      },
      {
        Sid      = "DecryptWithTheLakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = var.lake_kms_key_arn
      },
    ]
  })
}

resource "aws_iam_role" "dagster" {
  name                 = "${var.name_prefix}-dagster"
  description          = "Dagster webserver and daemon: read the compute logs, nothing else."
  assume_role_policy   = local.trust.dagster
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "dagster" {
  name = "compute-logs-read-only"
  role = aws_iam_role.dagster.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.list_bucket,
      {
        Sid      = "ReadComputeLogs"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.lake_bucket_arn}/${var.compute_logs_prefix}/*"
      },
      {
        Sid      = "DecryptWithTheLakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = var.lake_kms_key_arn
      },
    ]
  })
}

resource "aws_iam_role" "efs_csi_driver" {
  count = var.efs_csi_driver ? 1 : 0

  name                 = "${var.name_prefix}-efs-csi-driver"
  description          = "EFS CSI driver (kube-system): access points on the Clearlake reports file system."
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = local.efs_csi_driver_subjects
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
  tags = var.tags
}

# AWS's policy for the driver: describe file systems and mount targets, create and delete
# only the access points it tags as its own (efs.csi.aws.com/cluster).
resource "aws_iam_role_policy_attachment" "this" {
  count = var.efs_csi_driver ? 1 : 0

  role       = aws_iam_role.efs_csi_driver[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
}
