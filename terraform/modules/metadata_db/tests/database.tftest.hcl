# Encrypted, private, backed up, TLS-only; deletion protection is a toggle.

mock_provider "aws" {
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
}

variables {
  identifier          = "clearlake-test-metadata"
  vpc_id              = "vpc-0123456789abcdef0"
  subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  allowed_cidr_blocks = ["10.20.0.0/16"]
}

run "protected_by_default" {
  command = plan

  assert {
    condition     = aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible
    error_message = "The database must be encrypted and not publicly accessible."
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 14 && aws_db_instance.this.deletion_protection
    error_message = "Backups are kept 14 days and deletion protection is on by default."
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password && aws_db_instance.this.password == null
    error_message = "The password must be managed by RDS in Secrets Manager, never set in Terraform."
  }

  assert {
    condition     = [for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"] == ["1"]
    error_message = "The database must refuse connections without TLS."
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "postgres16" && aws_db_instance.this.engine == "postgres"
    error_message = "The parameter group family must follow the engine's major version."
  }

  assert {
    condition = (
      length(aws_security_group.this.ingress) == 1
      && one(aws_security_group.this.ingress).from_port == 5432
      && one(aws_security_group.this.ingress).to_port == 5432
      && one(aws_security_group.this.ingress).cidr_blocks == tolist(["10.20.0.0/16"])
    )
    error_message = "Only PostgreSQL from the allowed ranges may reach the database."
  }

  assert {
    condition     = output.db_name == "dagster" && output.username == "dagster"
    error_message = "db_name and username outputs feed the Helm values."
  }
}

run "deletion_protection_off_and_no_monitoring" {
  command = plan

  variables {
    deletion_protection = false
    monitoring_interval = 0
    engine_version      = "15.8"
  }

  assert {
    condition     = !aws_db_instance.this.deletion_protection && !aws_db_instance.this.skip_final_snapshot
    error_message = "Turning protection off must still keep a final snapshot."
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && aws_db_instance.this.monitoring_interval == 0
    error_message = "No monitoring role without Enhanced Monitoring."
  }

  assert {
    condition     = aws_db_parameter_group.this.family == "postgres15"
    error_message = "The parameter group family must follow engine_version."
  }
}

run "malformed_values" {
  command = plan

  variables {
    identifier            = "1-clearlake"
    engine_version        = "12"
    instance_class        = "t4g.medium"
    allocated_storage     = 10
    db_name               = "Dagster-DB"
    username              = "Dagster"
    vpc_id                = "clearlake-vpc"
    subnet_ids            = ["subnet-0123456789abcdef0"]
    allowed_cidr_blocks   = []
    backup_retention_days = 1
    kms_key_arn           = "alias/rds"
    monitoring_interval   = 45
  }

  expect_failures = [
    var.identifier,
    var.engine_version,
    var.instance_class,
    var.allocated_storage,
    var.db_name,
    var.username,
    var.vpc_id,
    var.subnet_ids,
    var.allowed_cidr_blocks,
    var.backup_retention_days,
    var.kms_key_arn,
    var.monitoring_interval,
  ]
}

run "inconsistent_values" {
  command = plan

  variables {
    identifier            = "clearlake--metadata"
    username              = "postgres"
    subnet_ids            = ["subnet-1", "subnet-2"]
    allowed_cidr_blocks   = ["0.0.0.0/0"]
    allocated_storage     = 100
    max_allocated_storage = 50
  }

  expect_failures = [
    var.identifier,
    var.username,
    var.subnet_ids,
    var.allowed_cidr_blocks,
    var.max_allocated_storage,
  ]
}

run "cidr_format" {
  command = plan

  variables {
    allowed_cidr_blocks = ["10.20.0.0"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}
