# tests/helm/helm_support.py, which its neighbours import as "helm_support".
from tests.helm.helm_support import *  # noqa: F403
