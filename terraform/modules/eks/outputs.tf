output "cluster_name" {
  description = "Name of the cluster (aws eks update-kubeconfig --name ...)."
  value       = local.cluster.name
}

output "cluster_endpoint" {
  description = "API server endpoint."
  value       = local.cluster.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the API server."
  value       = local.cluster.certificate_authority[0].data
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster (irsa module input)."
  value       = local.issuer
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (irsa module input)."
  value       = local.oidc_provider_arn
}

output "node_security_group_id" {
  description = "Security group of the nodes: the cluster security group EKS creates, which managed node groups without a launch template use (reports_volume module input)."
  value       = local.cluster.vpc_config[0].cluster_security_group_id
}

output "node_capacity" {
  description = "Allocatable resources of one node per node group (Helm experiments.nodes); groups of instance types missing from the module's table are left out (unchecked)."
  value = {
    for name, types in local.node_groups : name => local.allocatable[types[0]]
    if contains(keys(local.allocatable), types[0])
  }
}
