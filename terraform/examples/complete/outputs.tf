output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "lake_bucket_name" {
  description = "Lake bucket (Helm: dagster compute-log bucket)."
  value       = module.lake_bucket.bucket_name
}

output "lake_url" {
  description = "Lake root (Helm: lake.url)."
  value       = module.lake_bucket.lake_url
}

output "runs_role_arn" {
  description = "IRSA role of runs (Helm: serviceAccounts.runs.roleArn)."
  value       = module.irsa.runs_role_arn
}

output "data_api_role_arn" {
  description = "IRSA role of the Data API (Helm: serviceAccounts.dataApi.roleArn)."
  value       = module.irsa.data_api_role_arn
}

output "metadata_db_address" {
  description = "Dagster metadata database host (Helm: dagster.postgresql.postgresqlHost)."
  value       = module.metadata_db.address
}

output "metadata_db_master_user_secret_arn" {
  description = "Secrets Manager secret with the database password (Kubernetes Secret clearlake-dagster-postgresql)."
  value       = module.metadata_db.master_user_secret_arn
}

output "reports_file_system_id" {
  description = "EFS file system of the reports (Helm: reports.storageClass.parameters.fileSystemId)."
  value       = module.reports_volume.file_system_id
}

output "image_repository_url" {
  description = "ECR repository (Helm: image.repository; push clearlake:<git sha>)."
  value       = module.image_repository.repository_url
}

output "helm_values" {
  description = "Values file for helm/clearlake with everything above (use with values-aws.yaml)."
  precondition {
    condition     = var.dagster_db_role != module.metadata_db.username
    error_message = "dagster_db_role is the RDS master user, whose password RDS rotates every 7 days: give Dagster its own role (helm/DEPLOY.md)."
  }
  value = yamlencode({
    image = { repository = module.image_repository.repository_url }
    lake  = { url = module.lake_bucket.lake_url, region = var.region }
    serviceAccounts = {
      runs    = { roleArn = module.irsa.runs_role_arn }
      dataApi = { roleArn = module.irsa.data_api_role_arn }
    }
    networkPolicy = { databases = { cidrs = [var.vpc_cidr] } }
    experiments = {
      nodes        = module.eks.node_capacity
      devicePlugin = { enabled = var.enable_gpu_node_group }
    }
    reports = {
      storageClass = { parameters = { fileSystemId = module.reports_volume.file_system_id } }
    }
    dagster = {
      serviceAccount = {
        annotations = { "eks.amazonaws.com/role-arn" = module.irsa.dagster_role_arn }
      }
      postgresql = {
        postgresqlHost     = module.metadata_db.address
        postgresqlUsername = var.dagster_db_role
        postgresqlDatabase = module.metadata_db.db_name
      }
      computeLogManager = {
        config = {
          s3ComputeLogManager = { bucket = module.lake_bucket.bucket_name, region = var.region }
        }
      }
    }
  })
}

output "drop_sftp_server_id" {
  description = "The SFTP server into the drop zone (null unless enable_drop_sftp)."
  value       = one(module.drop_sftp[*].endpoint)
}
