# An EKS cluster for Clearlake: created here (private API endpoint, encrypted secrets, audit
# logs, VPC CNI enforcing NetworkPolicies) or an existing one attached by name. Either way the
# module provides the IAM OIDC provider that IRSA roles trust.

locals {
  create  = var.create_cluster ? 1 : 0
  cluster = var.create_cluster ? aws_eks_cluster.this[0] : data.aws_eks_cluster.this[0]
  issuer  = local.cluster.identity[0].oidc[0].issuer
  oidc_provider_arn = (
    var.create_oidc_provider ? aws_iam_openid_connect_provider.this[0].arn : data.aws_iam_openid_connect_provider.this[0].arn
  )
  node_policies = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
  ])
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_eks_cluster" "this" {
  count = 1 - local.create
  name  = var.cluster_name
}

resource "aws_kms_key" "this" {
  count = local.create

  description             = "Encrypts Kubernetes secrets of ${var.cluster_name}."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role" "cluster" {
  count = local.create

  name        = "${var.cluster_name}-cluster"
  description = "EKS control plane of ${var.cluster_name}."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  count = local.create

  role       = aws_iam_role.cluster[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_eks_cluster" "this" {
  count = local.create

  name                      = var.cluster_name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster[0].arn
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = length(var.endpoint_public_access_cidrs) > 0
    public_access_cidrs     = length(var.endpoint_public_access_cidrs) > 0 ? var.endpoint_public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.this[0].arn
    }
  }

  access_config {
    authentication_mode = "API_AND_CONFIG_MAP"
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_eks_addon" "this" {
  count = local.create

  cluster_name = aws_eks_cluster.this[0].name
  addon_name   = "vpc-cni"
  # Clearlake's chart relies on NetworkPolicies: make the VPC CNI enforce them.
  configuration_values = jsonencode({ enableNetworkPolicy = "true" })
  tags                 = var.tags
}

resource "aws_iam_role" "node" {
  count = local.create

  name        = "${var.cluster_name}-node"
  description = "Worker nodes of ${var.cluster_name}."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = var.create_cluster ? local.node_policies : toset([])

  role       = aws_iam_role.node[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.key}"
}

resource "aws_eks_node_group" "this" {
  count = local.create

  cluster_name    = aws_eks_cluster.this[0].name
  node_group_name = "${var.cluster_name}-default"
  node_role_arn   = aws_iam_role.node[0].arn
  subnet_ids      = var.subnet_ids
  instance_types  = var.node_instance_types

  scaling_config {
    min_size     = var.node_min_size
    max_size     = var.node_max_size
    desired_size = var.node_desired_size
  }

  update_config {
    max_unavailable = 1
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.node]
}

# Node groups sized for the experiment profiles, and the optional GPU group. Their
# allocatable resources go to the chart (experiments.nodes) so that the CLI refuses a profile
# no group can hold before launching it.
resource "aws_eks_node_group" "experiments" {
  for_each = local.create == 1 ? var.experiment_node_groups : {}

  cluster_name    = aws_eks_cluster.this[0].name
  node_group_name = "${var.cluster_name}-${each.key}"
  node_role_arn   = aws_iam_role.node[0].arn
  subnet_ids      = var.subnet_ids
  instance_types  = each.value.instance_types
  labels          = { "clearlake/node-group" = each.key }

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  update_config {
    max_unavailable = 1
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.node]
}

resource "aws_eks_node_group" "gpu" {
  count = local.create == 1 && var.enable_gpu_node_group ? 1 : 0

  cluster_name    = aws_eks_cluster.this[0].name
  node_group_name = "${var.cluster_name}-gpu"
  node_role_arn   = aws_iam_role.node[0].arn
  subnet_ids      = var.subnet_ids
  instance_types  = var.gpu_instance_types
  ami_type        = "AL2023_x86_64_NVIDIA"
  labels          = { "nvidia.com/gpu.present" = "true", "clearlake/node-group" = "gpu" }

  taint {
    key    = "nvidia.com/gpu"
    effect = "NO_SCHEDULE"
  }

  scaling_config {
    min_size     = 0
    max_size     = var.gpu_max_size
    desired_size = 1
  }

  update_config {
    max_unavailable = 1
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.node]
}

locals {
  # Allocatable per node (EKS AMI reservations), for the chart's experiments.nodes.
  allocatable = {
    "m6i.xlarge"  = { cpu = "3920m", memory = "14Gi", gpu = 0 }
    "m6i.2xlarge" = { cpu = "7910m", memory = "29Gi", gpu = 0 }
    "m6i.4xlarge" = { cpu = "15890m", memory = "57Gi", gpu = 0 }
    "m6i.8xlarge" = { cpu = "31850m", memory = "118Gi", gpu = 0 }
    "g5.xlarge"   = { cpu = "3920m", memory = "14Gi", gpu = 1 }
    "g5.2xlarge"  = { cpu = "7910m", memory = "28Gi", gpu = 1 }
    "g5.4xlarge"  = { cpu = "15890m", memory = "57Gi", gpu = 1 }
  }
  # The smallest instance type of each group decides what a pod can count on.
  node_groups = merge(
    { general = var.node_instance_types },
    { for name, group in var.experiment_node_groups : name => group.instance_types },
    var.enable_gpu_node_group ? { gpu = var.gpu_instance_types } : {},
  )
}

resource "aws_iam_openid_connect_provider" "this" {
  count = var.create_oidc_provider ? 1 : 0

  url            = local.issuer
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

data "aws_iam_openid_connect_provider" "this" {
  count = var.create_oidc_provider ? 0 : 1
  url   = local.issuer
}
