output "bucket_name" {
  description = "Name of the lake bucket (Helm: dagster compute-log bucket)."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the lake bucket (IAM policies)."
  value       = local.bucket_arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the lake (IAM policies need kms:Decrypt on it)."
  value       = local.kms_key_arn
}

output "lake_url" {
  description = "Lake root for Clearlake (Helm: lake.url)."
  value       = "s3://${var.name}/lake"
}
