variable "name" {
  description = "Name of the SFTP server and of its IAM role, e.g. clearlake-drops."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{1,62}$", var.name))
    error_message = "name must be 2 to 63 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "bucket_name" {
  description = "The lake bucket (module lake_bucket output bucket_name): uploads land in it under drops_prefix."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the lake bucket (module lake_bucket output bucket_arn)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the lake bucket (module lake_bucket output kms_key_arn): uploads are encrypted with it."
  type        = string
}

variable "drops_prefix" {
  description = "Key prefix of the drop zone in the bucket (Helm lake.dropsUrl = s3://<bucket>/<prefix without />)."
  type        = string
  default     = "drops/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.drops_prefix))
    error_message = "drops_prefix must be a relative key prefix ending with \"/\" (for example drops/)."
  }
}

variable "vpc_id" {
  description = "VPC of the server's endpoint (the server is never public: partners reach it through the VPC, a VPN or an Elastic IP the operator attaches)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the server's endpoint."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must name at least one subnet."
  }
}

variable "allowed_cidr_blocks" {
  description = "Networks allowed to connect on port 22."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.allowed_cidr_blocks : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_cidr_blocks must be CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "users" {
  description = "SFTP users: their SSH public keys and the drop datasets they may upload to (each seen as /<dataset> in their session)."
  type = map(object({
    ssh_public_keys = list(string)
    datasets        = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue(flatten([for user in values(var.users) : [for d in user.datasets : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", d))]]))
    error_message = "users[*].datasets must be drop dataset names (letters, digits, underscores), as declared under drops: in clearlake.yaml."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
