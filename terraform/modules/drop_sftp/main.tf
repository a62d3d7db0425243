# An SFTP endpoint for partners (AWS Transfer Family), writing into the drop zone's S3
# prefix: a file uploaded to /<dataset>/x.csv lands at s3://<bucket>/<drops_prefix><dataset>/x.csv,
# where the drop-zone sensor takes it with the same identity, quarantine and once-only rules
# as any drop. Transfer Family writes the object when the client closes the file; an
# interrupted upload can leave a partial object, which the sensor's rules catch (a CSV cut
# mid-row is quarantined; datasets whose partners can write <file>.done declare a marker).

data "aws_partition" "current" {}

locals {
  drops_arn = "${var.bucket_arn}/${var.drops_prefix}"
  user_keys = merge([
    for user, spec in var.users : {
      for index, key in spec.ssh_public_keys : "${user}/${index}" => { user = user, key = key }
    }
  ]...)
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV_AWS_24:Port 22 is the service; the allowed_cidr_blocks validation refuses 0.0.0.0/0, which checkov cannot see through a variable.
  name        = "${var.name}-sftp"
  description = "SFTP (port 22) into the Clearlake drop zone from the allowed networks only."
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description = "SFTP from the allowed networks"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidr_blocks
  }
}

resource "aws_transfer_server" "this" {
  #checkov:skip=CKV_AWS_164:The endpoint type is VPC (not PUBLIC); checkov flags any endpoint it cannot prove private.
  identity_provider_type = "SERVICE_MANAGED"
  protocols              = ["SFTP"]
  domain                 = "S3"
  endpoint_type          = "VPC"
  security_policy_name   = "TransferSecurityPolicy-2025-03"
  tags                   = merge(var.tags, { Name = var.name })

  endpoint_details {
    vpc_id             = var.vpc_id
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["transfer.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [aws_transfer_server.this.arn]
    }
  }
}

# Uploads and listings under the drops prefix only: never the lake's tables.
data "aws_iam_policy_document" "drops" {
  statement {
    sid       = "ListTheDropZone"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.drops_prefix, "${var.drops_prefix}*"]
    }
  }
  statement {
    sid       = "UploadIntoTheDropZone"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:AbortMultipartUpload"]
    resources = ["${local.drops_arn}*"]
  }
  statement {
    sid       = "EncryptWithTheLakeKey"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-sftp"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "drop-zone-uploads"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.drops.json
}

resource "aws_transfer_user" "this" {
  for_each = var.users

  server_id           = aws_transfer_server.this.id
  user_name           = each.key
  role                = aws_iam_role.this.arn
  home_directory_type = "LOGICAL"
  tags                = var.tags

  dynamic "home_directory_mappings" {
    for_each = each.value.datasets
    content {
      entry  = "/${home_directory_mappings.value}"
      target = "/${var.bucket_name}/${var.drops_prefix}${home_directory_mappings.value}"
    }
  }
}

resource "aws_transfer_ssh_key" "this" {
  for_each = local.user_keys

  server_id = aws_transfer_server.this.id
  user_name = aws_transfer_user.this[each.value.user].user_name
  body      = each.value.key
}
