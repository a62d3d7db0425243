output "address" {
  description = "Hostname of the database (Helm: dagster.postgresql.postgresqlHost)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name (Helm: dagster.postgresql.postgresqlDatabase)."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user (administers the instance; Dagster uses its own role, helm/DEPLOY.md)."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the password (copy it into the Kubernetes Secret clearlake-dagster-postgresql)."
  value       = one(aws_db_instance.this.master_user_secret[*].secret_arn)
}

output "security_group_id" {
  description = "Security group guarding the database."
  value       = aws_security_group.this.id
}
