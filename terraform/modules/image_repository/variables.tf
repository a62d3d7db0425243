variable "name" {
  description = "ECR repository name, e.g. clearlake (images are tagged with the platform commit)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", var.name))
    error_message = "name must be lowercase letters and digits separated by . _ - or / (an ECR repository name)."
  }

  validation {
    condition     = length(var.name) >= 2 && length(var.name) <= 256
    error_message = "name must be 2 to 256 characters long."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images; null uses the AWS-managed ECR key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (failed or superseded pushes) are deleted."
  type        = number
  default     = 14

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "keep_tagged_images" {
  description = "Commit-tagged images kept for rollbacks and re-runs; older ones are deleted."
  type        = number
  default     = 200

  validation {
    condition     = var.keep_tagged_images >= 10
    error_message = "keep_tagged_images must be at least 10 (runs re-execute old commits)."
  }
}

variable "force_delete" {
  description = "Allow deleting the repository while it holds images (test environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
