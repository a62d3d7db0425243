variable "name" {
  description = "Name of the file system (creation token and Name tag), e.g. clearlake-prod-reports."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}[a-z0-9]$", var.name))
    error_message = "name must be 3-64 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster (the security group lives there)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the cluster's nodes, one per availability zone: each gets a mount target (a node mounts through the one in its zone)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must list at least one subnet, or no node can mount the file system."
  }

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "subnet_ids must hold subnet ids (subnet-...)."
  }
}

variable "node_security_group_id" {
  description = "Security group of the cluster's nodes (eks module output node_security_group_id): the only source allowed to reach NFS (2049)."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.node_security_group_id))
    error_message = "node_security_group_id must be a security group id (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the file system; null creates a dedicated key with rotation."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "throughput_mode" {
  description = "EFS throughput mode: elastic (pay per use, suits bursts of report writes) or bursting."
  type        = string
  default     = "elastic"

  validation {
    condition     = contains(["elastic", "bursting"], var.throughput_mode)
    error_message = "throughput_mode must be elastic or bursting."
  }
}

variable "transition_to_ia" {
  description = "Age after which unread reports move to Infrequent Access, e.g. AFTER_30_DAYS; null keeps everything in Standard."
  type        = string
  default     = "AFTER_30_DAYS"

  validation {
    condition = var.transition_to_ia == null ? true : contains([
      "AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS",
      "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS",
    ], var.transition_to_ia)
    error_message = "transition_to_ia must be null or one of AFTER_1_DAY, AFTER_7_DAYS, AFTER_14_DAYS, AFTER_30_DAYS, AFTER_60_DAYS, AFTER_90_DAYS, AFTER_180_DAYS, AFTER_270_DAYS, AFTER_365_DAYS."
  }
}

variable "install_csi_driver" {
  description = "Install the EFS CSI driver as an EKS add-on (false if the cluster already runs it)."
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "EKS cluster that gets the EFS CSI driver add-on (eks module output cluster_name)."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be 1-100 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "csi_driver_role_arn" {
  description = "IRSA role of the EFS CSI driver (irsa module output efs_csi_driver_role_arn); required with install_csi_driver."
  type        = string
  default     = null

  validation {
    condition     = var.csi_driver_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.csi_driver_role_arn))
    error_message = "csi_driver_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) or null."
  }

  validation {
    condition     = !var.install_csi_driver || var.csi_driver_role_arn != null
    error_message = "csi_driver_role_arn is required when install_csi_driver is true: pass the irsa module's efs_csi_driver_role_arn."
  }
}

variable "csi_driver_version" {
  description = "Add-on version, e.g. v2.1.4-eksbuild.1; null = the default for the cluster's Kubernetes version."
  type        = string
  default     = null

  validation {
    condition     = var.csi_driver_version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.csi_driver_version))
    error_message = "csi_driver_version must be an add-on version such as v2.1.4-eksbuild.1, or null."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
