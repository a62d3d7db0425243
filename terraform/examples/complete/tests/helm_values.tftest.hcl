# The example composes every module; its helm_values output is a complete set of the
# environment-specific Helm values (checked against the chart by tests/helm).

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_db_instance" {
    defaults = { address = "clearlake-prod-metadata.abc.eu-west-1.rds.amazonaws.com" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = { repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clearlake" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/mocked" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      endpoint              = "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
      certificate_authority = [{ data = "Q0EK" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" }] }]
      # A configured block: its computed attributes are mocked per element.
      vpc_config = { cluster_security_group_id = "sg-0123456789abcdef0" }
    }
  }
  mock_data "aws_eks_cluster" {
    defaults = {
      name                  = "clearlake-prod"
      endpoint              = "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
      certificate_authority = [{ data = "Q0EK" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC" }] }]
      vpc_config            = [{ cluster_security_group_id = "sg-0123456789abcdef0" }]
    }
  }
  mock_resource "aws_efs_file_system" {
    defaults = {
      id  = "fs-0123456789abcdef0"
      arn = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0"
    }
  }
  mock_data "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }
  }
}

variables {
  vpc_id             = "vpc-0123456789abcdef0"
  vpc_cidr           = "10.20.0.0/16"
  private_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  cluster_name       = "clearlake-prod"
}

run "outputs_feed_the_helm_values" {
  command = plan

  assert {
    condition = yamldecode(output.helm_values) == {
      image = { repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clearlake" }
      lake  = { url = "s3://clearlake-prod-lake/lake", region = "eu-west-1" }
      serviceAccounts = {
        runs    = { roleArn = "arn:aws:iam::123456789012:role/mocked" }
        dataApi = { roleArn = "arn:aws:iam::123456789012:role/mocked" }
      }
      networkPolicy = { databases = { cidrs = ["10.20.0.0/16"] } }
      experiments = {
        nodes = {
          general = { cpu = "3920m", memory = "14Gi", gpu = 0 }
          large   = { cpu = "15890m", memory = "57Gi", gpu = 0 }
        }
        devicePlugin = { enabled = false }
      }
      reports = {
        storageClass = { parameters = { fileSystemId = "fs-0123456789abcdef0" } }
      }
      dagster = {
        serviceAccount = {
          annotations = { "eks.amazonaws.com/role-arn" = "arn:aws:iam::123456789012:role/mocked" }
        }
        postgresql = {
          postgresqlHost     = "clearlake-prod-metadata.abc.eu-west-1.rds.amazonaws.com"
          postgresqlUsername = "dagster_app"
          postgresqlDatabase = "dagster"
        }
        computeLogManager = {
          config = { s3ComputeLogManager = { bucket = "clearlake-prod-lake", region = "eu-west-1" } }
        }
      }
    }
    error_message = "helm_values must carry every environment-specific Helm value."
  }

  assert {
    condition     = output.lake_bucket_name == "clearlake-prod-lake" && output.cluster_name == "clearlake-prod"
    error_message = "The bucket is <name>-lake; the cluster is the one created."
  }

  assert {
    condition     = output.reports_file_system_id == "fs-0123456789abcdef0"
    error_message = "The reports file system id is an output."
  }

  assert {
    condition     = module.irsa.efs_csi_driver_role_arn == "arn:aws:iam::123456789012:role/mocked"
    error_message = "The EFS CSI driver add-on gets its IRSA role."
  }
}

run "cluster_already_runs_the_efs_csi_driver" {
  command = plan

  variables {
    install_efs_csi_driver = false
    node_security_group_id = "sg-0fedcba9876543210"
  }

  assert {
    condition     = module.irsa.efs_csi_driver_role_arn == null && module.reports_volume.csi_driver_addon_version == null
    error_message = "Without install_efs_csi_driver neither the add-on nor its role is created."
  }

  assert {
    condition     = yamldecode(output.helm_values).reports.storageClass.parameters.fileSystemId == "fs-0123456789abcdef0"
    error_message = "The Helm values still name the reports file system."
  }
}

run "attach_to_an_existing_cluster" {
  command = plan

  variables {
    create_cluster       = false
    create_oidc_provider = false
  }

  assert {
    condition     = yamldecode(output.helm_values).serviceAccounts.runs.roleArn == "arn:aws:iam::123456789012:role/mocked"
    error_message = "Attaching must produce the same Helm values."
  }
}

run "malformed_values" {
  command = plan

  variables {
    region             = "Ireland"
    name               = "Clearlake"
    vpc_id             = "default"
    vpc_cidr           = "10.20.0.0"
    private_subnet_ids = ["subnet-0123456789abcdef0"]
  }

  expect_failures = [var.region, var.name, var.vpc_id, var.vpc_cidr, var.private_subnet_ids]
}

run "malformed_node_security_group" {
  command = plan

  variables {
    node_security_group_id = "nodes"
  }

  expect_failures = [var.node_security_group_id]
}

run "malformed_dagster_role" {
  command = plan

  variables {
    dagster_db_role = "Dagster-App"
  }

  expect_failures = [var.dagster_db_role]
}

run "dagster_never_gets_the_master_user" {
  command = plan

  variables {
    dagster_db_role = "dagster"
  }

  expect_failures = [output.helm_values]
}
