# tests/terraform/terraform_support.py, which its neighbours import as "terraform_support".
from tests.terraform.terraform_support import *  # noqa: F403
