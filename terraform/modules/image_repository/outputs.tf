output "repository_url" {
  description = "Repository URL (Helm: image.repository; push clearlake:<git sha> here)."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "Repository ARN (CI push permissions)."
  value       = aws_ecr_repository.this.arn
}

output "name" {
  description = "Repository name."
  value       = aws_ecr_repository.this.name
}
