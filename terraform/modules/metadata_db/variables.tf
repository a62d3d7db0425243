variable "identifier" {
  description = "RDS instance identifier, e.g. clearlake-prod-metadata."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.identifier))
    error_message = "identifier must start with a letter, hold lowercase letters, digits and hyphens, end with a letter or digit, and have at most 63 characters."
  }

  validation {
    condition     = !strcontains(var.identifier, "--")
    error_message = "identifier must not contain two consecutive hyphens."
  }
}

variable "engine_version" {
  description = "PostgreSQL major or major.minor version, e.g. 16 or 16.6."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[3-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 13 or newer, as <major> or <major>.<minor>."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20
    error_message = "allocated_storage must be at least 20 (GiB, the gp3 minimum)."
  }
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 200

  validation {
    condition     = var.max_allocated_storage >= var.allocated_storage
    error_message = "max_allocated_storage must be at least allocated_storage."
  }
}

variable "db_name" {
  description = "Database holding Dagster's run, event and schedule storage (Helm: dagster.postgresql.postgresqlDatabase)."
  type        = string
  default     = "dagster"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and hold lowercase letters, digits and underscores (at most 63)."
  }
}

variable "username" {
  description = "Master user: administers the instance (its password lives in Secrets Manager, rotated by RDS); Dagster gets its own role (helm/DEPLOY.md)."
  type        = string
  default     = "dagster"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.username))
    error_message = "username must start with a letter and hold lowercase letters, digits and underscores."
  }

  validation {
    condition     = !contains(["postgres", "admin", "rdsadmin", "root"], var.username)
    error_message = "username must not be a reserved name (postgres, admin, rdsadmin, root)."
  }
}

variable "vpc_id" {
  description = "VPC of the database and the cluster."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the database, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets (RDS needs two availability zones)."
  }

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "subnet_ids must hold subnet ids (subnet-...)."
  }
}

variable "allowed_cidr_blocks" {
  description = "Address ranges allowed to connect on 5432 (the cluster's node and pod ranges)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidr_blocks) >= 1
    error_message = "allowed_cidr_blocks must list at least one range, or nothing can reach the database."
  }

  validation {
    condition     = alltrue([for cidr in var.allowed_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "allowed_cidr_blocks must hold CIDR ranges such as 10.0.0.0/16."
  }

  validation {
    condition     = !contains(var.allowed_cidr_blocks, "0.0.0.0/0")
    error_message = "allowed_cidr_blocks must not contain 0.0.0.0/0: the database is private."
  }
}

variable "backup_retention_days" {
  description = "Days automated backups are kept."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off only to decommission it)."
  type        = bool
  default     = true
}

variable "multi_az" {
  description = "Keep a synchronous standby in another availability zone."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key encrypting storage and Performance Insights; null uses the AWS-managed RDS key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "monitoring_interval" {
  description = "Seconds between Enhanced Monitoring samples (0 turns it off)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
