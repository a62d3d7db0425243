variable "name_prefix" {
  description = "Prefix of the role names, e.g. clearlake-prod (roles: <prefix>-runs, <prefix>-data-api)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,50}$", var.name_prefix))
    error_message = "name_prefix must be 1-50 characters valid in IAM role names."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (eks module output oidc_provider_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/...)."
  }
}

variable "oidc_issuer_url" {
  description = "OIDC issuer URL of the cluster (eks module output oidc_issuer_url)."
  type        = string

  validation {
    condition     = can(regex("^https://[^\\s/]+(/[^\\s]*)?$", var.oidc_issuer_url))
    error_message = "oidc_issuer_url must be an https:// URL."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the Clearlake release."
  type        = string
  default     = "clearlake"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes namespace name (DNS label)."
  }
}

variable "runs_service_account" {
  description = "Service account of run and step pods (Helm: serviceAccounts.runs.name)."
  type        = string
  default     = "clearlake-runs"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.runs_service_account))
    error_message = "runs_service_account must be a Kubernetes service account name."
  }
}

variable "data_api_service_account" {
  description = "Service account of the Data API (Helm: serviceAccounts.dataApi.name)."
  type        = string
  default     = "clearlake-data-api"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.data_api_service_account))
    error_message = "data_api_service_account must be a Kubernetes service account name."
  }
}

variable "dagster_service_account" {
  description = "Service account of the dagster chart's webserver and daemon (<release>-dagster)."
  type        = string
  default     = "clearlake-dagster"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.dagster_service_account))
    error_message = "dagster_service_account must be a Kubernetes service account name."
  }
}

variable "compute_logs_prefix" {
  description = "Key prefix of Dagster's compute logs in the lake bucket (Helm: dagster.computeLogManager...prefix)."
  type        = string
  default     = "dagster/compute-logs"

  validation {
    condition     = can(regex("^[^/].*[^/]$", var.compute_logs_prefix))
    error_message = "compute_logs_prefix must not start or end with a slash."
  }
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (lake_bucket module output bucket_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lake_bucket_arn))
    error_message = "lake_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "lake_kms_key_arn" {
  description = "KMS key of the lake (lake_bucket module output kms_key_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.lake_kms_key_arn))
    error_message = "lake_kms_key_arn must be a KMS key ARN."
  }
}

variable "efs_csi_driver" {
  description = "Also create <name_prefix>-efs-csi-driver, the role of the EFS CSI driver add-on (the reports volume)."
  type        = bool
  default     = false
}

variable "efs_csi_driver_service_accounts" {
  description = "Service accounts of the EFS CSI driver in kube-system that may assume its role (the add-on's controller and node)."
  type        = list(string)
  default     = ["efs-csi-controller-sa", "efs-csi-node-sa"]

  validation {
    condition     = length(var.efs_csi_driver_service_accounts) >= 1
    error_message = "efs_csi_driver_service_accounts must list at least one service account."
  }

  validation {
    condition     = alltrue([for account in var.efs_csi_driver_service_accounts : can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", account))])
    error_message = "efs_csi_driver_service_accounts must hold Kubernetes service account names."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
