variable "cluster_name" {
  description = "Name of the EKS cluster to create, or of the existing cluster to attach to."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be 1-100 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "create_cluster" {
  description = "true: create the cluster and its node group; false: attach to the existing cluster cluster_name."
  type        = bool
  default     = false
}

variable "create_oidc_provider" {
  description = "Create the cluster's IAM OIDC provider (IRSA); false looks up the existing one."
  type        = bool
  default     = true
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of a created cluster, e.g. 1.33."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as 1.33."
  }
}

variable "subnet_ids" {
  description = "Private subnets of a created cluster and its nodes (ignored when attaching)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "subnet_ids must hold subnet ids (subnet-...)."
  }

  validation {
    condition     = !var.create_cluster || length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets when create_cluster is true."
  }
}

variable "endpoint_public_access_cidrs" {
  description = "Ranges allowed to reach the API endpoint from the internet; empty keeps it private."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.endpoint_public_access_cidrs : can(cidrhost(cidr, 0))])
    error_message = "endpoint_public_access_cidrs must hold CIDR ranges such as 203.0.113.0/24."
  }

  validation {
    condition     = !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "endpoint_public_access_cidrs must not contain 0.0.0.0/0: name your office or VPN ranges."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group of a created cluster."
  type        = list(string)
  default     = ["m6i.xlarge"]

  validation {
    condition     = length(var.node_instance_types) >= 1
    error_message = "node_instance_types must list at least one instance type."
  }
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_max_size" {
  description = "Maximum number of nodes (experiments scale up to it)."
  type        = number
  default     = 6

  validation {
    condition     = var.node_max_size >= var.node_min_size
    error_message = "node_max_size must be at least node_min_size."
  }
}

variable "node_desired_size" {
  description = "Initial number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_size >= var.node_min_size && var.node_desired_size <= var.node_max_size
    error_message = "node_desired_size must lie between node_min_size and node_max_size."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "experiment_node_groups" {
  description = "Extra node groups of a created cluster, sized for the project's experiment profiles (the default holds the example's `large`: 8 CPU / 16Gi requests)."
  type = map(object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
  }))
  default = {
    large = { instance_types = ["m6i.4xlarge"], min_size = 0, max_size = 2, desired_size = 1 }
  }

  validation {
    condition = alltrue([
      for group in values(var.experiment_node_groups) :
      length(group.instance_types) >= 1 && group.min_size >= 0 && group.max_size >= group.min_size && group.desired_size >= group.min_size && group.desired_size <= group.max_size
    ])
    error_message = "experiment_node_groups: each group needs an instance type and min_size <= desired_size <= max_size."
  }
}

variable "enable_gpu_node_group" {
  description = "Create a GPU node group (NVIDIA AMI; label nvidia.com/gpu.present=true, taint nvidia.com/gpu:NoSchedule) for the `gpu` profile; run the chart's device plugin with it (experiments.devicePlugin.enabled)."
  type        = bool
  default     = false
}

variable "gpu_instance_types" {
  description = "Instance types of the GPU node group (one NVIDIA GPU each by default)."
  type        = list(string)
  default     = ["g5.2xlarge"]

  validation {
    condition     = length(var.gpu_instance_types) >= 1
    error_message = "gpu_instance_types must list at least one instance type."
  }
}

variable "gpu_max_size" {
  description = "Maximum number of GPU nodes (the group starts at zero nodes)."
  type        = number
  default     = 2

  validation {
    condition     = var.gpu_max_size >= 1
    error_message = "gpu_max_size must be at least 1."
  }
}
