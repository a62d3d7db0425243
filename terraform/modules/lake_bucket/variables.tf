variable "name" {
  description = "Name of the lake bucket (globally unique S3 bucket name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = !strcontains(var.name, "..")
    error_message = "name must not contain two adjacent dots."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the objects; null creates a dedicated key with rotation."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "quarantine_prefix" {
  description = "Key prefix of quarantined drop-zone files (kept, then archived and expired)."
  type        = string
  default     = "quarantine/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.quarantine_prefix))
    error_message = "quarantine_prefix must be a relative key prefix ending with \"/\" (for example quarantine/)."
  }
}

variable "quarantine_transition_days" {
  description = "Days after which quarantined objects move to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    condition     = var.quarantine_transition_days >= 30
    error_message = "quarantine_transition_days must be at least 30 (the STANDARD_IA minimum)."
  }
}

variable "quarantine_expiration_days" {
  description = "Days after which quarantined objects are deleted."
  type        = number
  default     = 180

  validation {
    condition     = var.quarantine_expiration_days > var.quarantine_transition_days
    error_message = "quarantine_expiration_days must be greater than quarantine_transition_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept (recovery window)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "access_log_bucket" {
  description = "Existing bucket receiving S3 server access logs; null disables access logging."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be an S3 bucket name or null."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it holds objects (test environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
