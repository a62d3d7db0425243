variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region such as eu-west-1."
  }
}

variable "name" {
  description = "Prefix of every name, e.g. clearlake-prod (bucket: <name>-lake)."
  type        = string
  default     = "clearlake-prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}[a-z0-9]$", var.name))
    error_message = "name must be 4-42 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "Existing VPC of the cluster and the database."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "vpc_cidr" {
  description = "Address range of the VPC (database ingress, Helm networkPolicy.databases.cidrs)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a CIDR range such as 10.20.0.0/16."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (two availability zones at least) of the cluster and the database."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must list at least two subnets."
  }
}

variable "create_cluster" {
  description = "Create the EKS cluster (true) or attach to the existing cluster_name (false)."
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "EKS cluster to create or attach to."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create the cluster's IAM OIDC provider; false if the cluster already has one."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "Ranges allowed to reach a created cluster's API from the internet (empty: private)."
  type        = list(string)
  default     = []
}

variable "node_security_group_id" {
  description = "Security group of the nodes allowed to mount the reports file system; null = the cluster security group (managed node groups without a launch template)."
  type        = string
  default     = null

  validation {
    condition     = var.node_security_group_id == null || can(regex("^sg-[0-9a-f]{8,17}$", var.node_security_group_id))
    error_message = "node_security_group_id must be a security group id (sg-...) or null."
  }
}

variable "install_efs_csi_driver" {
  description = "Install the EFS CSI driver add-on and its IRSA role (false if the cluster already runs the driver)."
  type        = bool
  default     = true
}

variable "namespace" {
  description = "Kubernetes namespace of the Helm release."
  type        = string
  default     = "clearlake"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = { project = "clearlake" }
}

variable "enable_drop_sftp" {
  description = "Create the SFTP endpoint (AWS Transfer Family) into the drop zone's S3 prefix for partners."
  type        = bool
  default     = false
}

variable "drop_sftp_allowed_cidr_blocks" {
  description = "Networks allowed to reach the SFTP endpoint on port 22 (with enable_drop_sftp)."
  type        = list(string)
  default     = []
}

variable "drop_sftp_users" {
  description = "SFTP users (with enable_drop_sftp): SSH public keys and the drop datasets each may upload to."
  type = map(object({
    ssh_public_keys = list(string)
    datasets        = list(string)
  }))
  default = {}
}

variable "enable_gpu_node_group" {
  description = "Create the GPU node group (and enable the chart's NVIDIA device plugin through helm_values) for the `gpu` profile."
  type        = bool
  default     = false
}

variable "dagster_db_role" {
  description = "Dagster's own PostgreSQL role (helm_values: dagster.postgresql.postgresqlUsername), created once as helm/DEPLOY.md shows; never the RDS master user, whose password RDS rotates."
  type        = string
  default     = "dagster_app"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.dagster_db_role))
    error_message = "dagster_db_role must be a PostgreSQL role name: lowercase letters, digits and underscores, starting with a letter or underscore."
  }
}
