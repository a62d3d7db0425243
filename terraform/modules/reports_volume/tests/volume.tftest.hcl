# Encrypted, backed up, TLS-only NFS reachable from the nodes only; one mount target per
# subnet; the EFS CSI driver add-on with its IRSA role (or none, for a cluster that has it).

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_efs_file_system" {
    defaults = {
      id  = "fs-0123456789abcdef0"
      arn = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0"
    }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0fedcba9876543210" }
  }
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
  name                   = "clearlake-test-reports"
  vpc_id                 = "vpc-0123456789abcdef0"
  subnet_ids             = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  node_security_group_id = "sg-0123456789abcdef0"
  cluster_name           = "clearlake-test"
  csi_driver_role_arn    = "arn:aws:iam::123456789012:role/clearlake-test-efs-csi-driver"
}

run "protected_by_default" {
  command = plan

  assert {
    condition     = aws_efs_file_system.this.encrypted && length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "The file system must be encrypted with a dedicated, rotating KMS key by default."
  }

  assert {
    condition     = aws_efs_backup_policy.this.backup_policy[0].status == "ENABLED"
    error_message = "Automatic backups must be on."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_efs_file_system_policy.this.policy).Statement :
      s.Effect == "Deny" && lookup(s.Condition.Bool, "aws:SecureTransport", null) == "false"
    ])
    error_message = "The file system must refuse clients without TLS."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_efs_file_system_policy.this.policy).Statement : s.Action if s.Effect == "Allow"
    ])) == toset(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"])
    error_message = "Clients may mount and write, never act as root."
  }

  assert {
    condition = (
      length(aws_security_group.this.ingress) == 1
      && one(aws_security_group.this.ingress).from_port == 2049
      && one(aws_security_group.this.ingress).to_port == 2049
      && one(aws_security_group.this.ingress).security_groups == toset(["sg-0123456789abcdef0"])
      && length(coalesce(one(aws_security_group.this.ingress).cidr_blocks, [])) == 0
    )
    error_message = "Only NFS (2049) from the nodes' security group may reach the mount targets."
  }

  assert {
    condition = (
      toset([for t in aws_efs_mount_target.this : t.subnet_id]) == toset(var.subnet_ids)
      && alltrue([for t in aws_efs_mount_target.this : t.security_groups == toset(["sg-0fedcba9876543210"])])
    )
    error_message = "Every node subnet gets a mount target guarded by the NFS security group."
  }

  assert {
    condition     = aws_efs_file_system.this.throughput_mode == "elastic" && one(aws_efs_file_system.this.lifecycle_policy).transition_to_ia == "AFTER_30_DAYS"
    error_message = "Elastic throughput, and reports unread for 30 days move to Infrequent Access."
  }

  assert {
    condition     = output.file_system_id == "fs-0123456789abcdef0"
    error_message = "file_system_id feeds Helm reports.storageClass.parameters.fileSystemId."
  }

  assert {
    condition = (
      aws_eks_addon.this[0].addon_name == "aws-efs-csi-driver"
      && aws_eks_addon.this[0].cluster_name == "clearlake-test"
      && aws_eks_addon.this[0].service_account_role_arn == var.csi_driver_role_arn
    )
    error_message = "The EFS CSI driver add-on runs under its IRSA role."
  }
}

run "existing_key_existing_driver" {
  command = plan

  variables {
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/abcd"
    install_csi_driver  = false
    csi_driver_role_arn = null
    transition_to_ia    = null
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_efs_file_system.this.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/abcd"
    error_message = "A given key is used instead of a new one."
  }

  assert {
    condition     = length(aws_eks_addon.this) == 0 && output.csi_driver_addon_version == null
    error_message = "No add-on when the cluster already runs the driver."
  }

  assert {
    condition     = length(aws_efs_file_system.this.lifecycle_policy) == 0
    error_message = "transition_to_ia = null keeps every file in Standard."
  }
}

run "malformed_values" {
  command = plan

  variables {
    name                   = "Clearlake Reports"
    vpc_id                 = "default"
    subnet_ids             = ["subnet-x"]
    node_security_group_id = "nodes"
    kms_key_arn            = "alias/reports"
    throughput_mode        = "provisioned"
    transition_to_ia       = "AFTER_2_DAYS"
    cluster_name           = "-clearlake"
    csi_driver_role_arn    = "efs-csi-driver"
    csi_driver_version     = "2.1.4"
  }

  expect_failures = [
    var.name,
    var.vpc_id,
    var.subnet_ids,
    var.node_security_group_id,
    var.kms_key_arn,
    var.throughput_mode,
    var.transition_to_ia,
    var.cluster_name,
    var.csi_driver_role_arn,
    var.csi_driver_version,
  ]
}

run "inconsistent_values" {
  command = plan

  variables {
    subnet_ids          = []
    csi_driver_role_arn = null
  }

  expect_failures = [var.subnet_ids, var.csi_driver_role_arn]
}
