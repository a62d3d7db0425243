output "file_system_id" {
  description = "The reports file system (Helm: reports.storageClass.parameters.fileSystemId)."
  value       = aws_efs_file_system.this.id
}

output "file_system_arn" {
  description = "ARN of the reports file system."
  value       = aws_efs_file_system.this.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the file system."
  value       = local.kms_key_arn
}

output "security_group_id" {
  description = "Security group of the mount targets (NFS from the nodes only)."
  value       = aws_security_group.this.id
}

output "csi_driver_addon_version" {
  description = "Version of the installed EFS CSI driver add-on; null when install_csi_driver is false."
  value       = one(aws_eks_addon.this[*].addon_version)
}
