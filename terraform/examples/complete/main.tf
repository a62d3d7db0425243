# Everything Clearlake needs on AWS, composed from the modules. Its outputs feed the Helm
# values (`terraform output -raw helm_values`), see helm/DEPLOY.md.

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

module "eks" {
  source = "../../modules/eks"

  cluster_name                 = var.cluster_name
  create_cluster               = var.create_cluster
  create_oidc_provider         = var.create_oidc_provider
  subnet_ids                   = var.private_subnet_ids
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  enable_gpu_node_group        = var.enable_gpu_node_group
}

module "lake_bucket" {
  source = "../../modules/lake_bucket"

  name = "${var.name}-lake"
}

module "metadata_db" {
  source = "../../modules/metadata_db"

  identifier          = "${var.name}-metadata"
  vpc_id              = var.vpc_id
  subnet_ids          = var.private_subnet_ids
  allowed_cidr_blocks = [var.vpc_cidr]
}

module "irsa" {
  source = "../../modules/irsa"

  name_prefix       = var.name
  namespace         = var.namespace
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer_url   = module.eks.oidc_issuer_url
  lake_bucket_arn   = module.lake_bucket.bucket_arn
  lake_kms_key_arn  = module.lake_bucket.kms_key_arn
  efs_csi_driver    = var.install_efs_csi_driver
}

# Reports (executed notebooks, the gallery) on EFS, shared by every Clearlake pod; the Helm
# chart's EFS StorageClass (values-aws.yaml) provisions the reports claim on it.
module "reports_volume" {
  source = "../../modules/reports_volume"

  name                   = "${var.name}-reports"
  vpc_id                 = var.vpc_id
  subnet_ids             = var.private_subnet_ids
  node_security_group_id = coalesce(var.node_security_group_id, module.eks.node_security_group_id)
  cluster_name           = module.eks.cluster_name
  install_csi_driver     = var.install_efs_csi_driver
  csi_driver_role_arn    = module.irsa.efs_csi_driver_role_arn

  # The driver add-on runs on the nodes: create it once the node group exists.
  depends_on = [module.eks]
}

# Optional SFTP for partners, writing into s3://<lake bucket>/drops/<dataset>/ (the chart's
# default lake.dropsUrl): off unless enable_drop_sftp.
module "drop_sftp" {
  source = "../../modules/drop_sftp"
  count  = var.enable_drop_sftp ? 1 : 0

  name                = "${var.name}-drops"
  bucket_name         = module.lake_bucket.bucket_name
  bucket_arn          = module.lake_bucket.bucket_arn
  kms_key_arn         = module.lake_bucket.kms_key_arn
  vpc_id              = var.vpc_id
  subnet_ids          = var.private_subnet_ids
  allowed_cidr_blocks = var.drop_sftp_allowed_cidr_blocks
  users               = var.drop_sftp_users
}

module "image_repository" {
  source = "../../modules/image_repository"

  name = "clearlake"
}
