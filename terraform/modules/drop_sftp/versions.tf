terraform {
  # 1.9: validations may refer to other variables; 1.11: `override_during` in tests.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 6.0"
    }
  }
}
