# Create a hardened cluster, or attach to an existing one by name.

mock_provider "aws" {
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_eks_cluster.this
    values = {
      name                  = "existing-cluster"
      endpoint              = "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
      certificate_authority = [{ data = "Q0EK" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" }] }]
      vpc_config            = [{ cluster_security_group_id = "sg-0123456789abcdef0" }]
    }
  }
}

run "attach_to_an_existing_cluster" {
  command = plan

  variables {
    cluster_name = "existing-cluster"
  }

  assert {
    condition     = length(aws_eks_cluster.this) == 0 && length(aws_eks_node_group.this) == 0 && length(aws_iam_role.cluster) == 0
    error_message = "Attaching must not create a cluster, nodes or roles."
  }

  assert {
    condition     = output.cluster_name == "existing-cluster" && output.oidc_issuer_url == "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
    error_message = "Outputs must describe the attached cluster."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.this[0].url == "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
    error_message = "The OIDC provider must trust the cluster's issuer."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.this[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider's audience must be STS."
  }

  assert {
    condition     = output.node_security_group_id == "sg-0123456789abcdef0"
    error_message = "The nodes' security group is the attached cluster's security group."
  }
}

run "create_a_hardened_cluster" {
  command = plan

  variables {
    cluster_name   = "clearlake-test"
    create_cluster = true
    subnet_ids     = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  }

  assert {
    condition     = aws_eks_cluster.this[0].version == "1.33" && aws_eks_cluster.this[0].name == "clearlake-test"
    error_message = "The cluster must run the requested version under the requested name."
  }

  assert {
    condition     = aws_eks_cluster.this[0].vpc_config[0].endpoint_private_access && !aws_eks_cluster.this[0].vpc_config[0].endpoint_public_access
    error_message = "Without endpoint_public_access_cidrs the API endpoint must be private."
  }

  assert {
    condition     = one(aws_eks_cluster.this[0].encryption_config).resources == toset(["secrets"])
    error_message = "Kubernetes secrets must be encrypted with KMS."
  }

  assert {
    condition     = contains(aws_eks_cluster.this[0].enabled_cluster_log_types, "audit")
    error_message = "Audit logs must be enabled."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.this[0].configuration_values).enableNetworkPolicy == "true"
    error_message = "The VPC CNI must enforce NetworkPolicies."
  }

  assert {
    condition     = aws_eks_node_group.this[0].scaling_config[0].min_size == 2 && aws_eks_node_group.this[0].scaling_config[0].max_size == 6
    error_message = "The node group must scale between node_min_size and node_max_size."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.node) == 3
    error_message = "Nodes need the worker, CNI and ECR read-only policies."
  }
}

run "public_endpoint_for_named_ranges" {
  command = plan

  variables {
    cluster_name                 = "clearlake-test"
    create_cluster               = true
    subnet_ids                   = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    endpoint_public_access_cidrs = ["203.0.113.0/24"]
  }

  assert {
    condition     = aws_eks_cluster.this[0].vpc_config[0].endpoint_public_access && aws_eks_cluster.this[0].vpc_config[0].public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "A public endpoint must be limited to the named ranges."
  }
}

run "node_groups_sized_for_the_profiles_and_an_optional_gpu_group" {
  command = plan

  variables {
    cluster_name          = "clearlake-test"
    create_cluster        = true
    subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    enable_gpu_node_group = true
  }

  assert {
    condition     = one(aws_eks_node_group.experiments["large"].instance_types) == "m6i.4xlarge"
    error_message = "The default experiments group holds the `large` profile (8 CPU / 16Gi requests)."
  }

  assert {
    condition     = aws_eks_node_group.gpu[0].ami_type == "AL2023_x86_64_NVIDIA" && aws_eks_node_group.gpu[0].labels["nvidia.com/gpu.present"] == "true"
    error_message = "The GPU group runs the NVIDIA AMI and carries the label the gpu profile selects."
  }

  assert {
    condition     = one(aws_eks_node_group.gpu[0].taint).key == "nvidia.com/gpu" && one(aws_eks_node_group.gpu[0].taint).effect == "NO_SCHEDULE"
    error_message = "Only pods tolerating nvidia.com/gpu land on GPU nodes."
  }

  assert {
    condition     = output.node_capacity.gpu == { cpu = "7910m", memory = "28Gi", gpu = 1 }
    error_message = "node_capacity feeds Helm experiments.nodes, GPU group included."
  }
}

run "malformed_values" {
  command = plan

  variables {
    cluster_name                 = "-clearlake"
    kubernetes_version           = "v1.33"
    subnet_ids                   = ["subnet-x"]
    endpoint_public_access_cidrs = ["203.0.113.0"]
    node_instance_types          = []
    node_min_size                = 0
    gpu_instance_types           = []
    gpu_max_size                 = 0
    experiment_node_groups       = { large = { instance_types = [], min_size = 0, max_size = 1, desired_size = 1 } }
  }

  expect_failures = [
    var.gpu_instance_types,
    var.gpu_max_size,
    var.experiment_node_groups,
    var.cluster_name,
    var.kubernetes_version,
    var.subnet_ids,
    var.endpoint_public_access_cidrs,
    var.node_instance_types,
    var.node_min_size,
  ]
}

run "inconsistent_values" {
  command = plan

  variables {
    cluster_name                 = "clearlake-test"
    create_cluster               = true
    subnet_ids                   = ["subnet-0123456789abcdef0"]
    endpoint_public_access_cidrs = ["0.0.0.0/0"]
    node_min_size                = 3
    node_desired_size            = 1
  }

  expect_failures = [
    var.subnet_ids,
    var.endpoint_public_access_cidrs,
    var.node_desired_size,
  ]
}

run "max_below_min" {
  command = plan

  variables {
    cluster_name      = "clearlake-test"
    node_min_size     = 3
    node_max_size     = 2
    node_desired_size = 3
  }

  # node_desired_size is not judged while the range it refers to is invalid.
  expect_failures = [var.node_max_size]
}
