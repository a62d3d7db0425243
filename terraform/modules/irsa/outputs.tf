output "runs_role_arn" {
  description = "Role of run and step pods (Helm: serviceAccounts.runs.roleArn)."
  value       = aws_iam_role.runs.arn
}

output "data_api_role_arn" {
  description = "Role of the Data API (Helm: serviceAccounts.dataApi.roleArn)."
  value       = aws_iam_role.data_api.arn
}

output "dagster_role_arn" {
  description = "Role of the dagster webserver and daemon (Helm: dagster.serviceAccount.annotations)."
  value       = aws_iam_role.dagster.arn
}

output "runs_role_name" {
  description = "Name of the runs role."
  value       = aws_iam_role.runs.name
}

output "data_api_role_name" {
  description = "Name of the Data API role."
  value       = aws_iam_role.data_api.name
}

output "efs_csi_driver_role_arn" {
  description = "Role of the EFS CSI driver add-on (reports_volume module input csi_driver_role_arn); null unless efs_csi_driver."
  value       = one(aws_iam_role.efs_csi_driver[*].arn)
}
