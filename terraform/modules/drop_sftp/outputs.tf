output "endpoint" {
  description = "Server id; partners connect to the VPC endpoint's address (sftp <user>@<address>)."
  value       = aws_transfer_server.this.id
}

output "drops_url" {
  description = "Helm lake.dropsUrl: where uploads land (s3://<bucket>/<drops prefix>)."
  value       = "s3://${var.bucket_name}/${trimsuffix(var.drops_prefix, "/")}"
}

output "role_arn" {
  description = "IAM role the SFTP users act as (drop prefix only)."
  value       = aws_iam_role.this.arn
}
