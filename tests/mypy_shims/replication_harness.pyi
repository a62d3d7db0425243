# tests/lake/replication_harness.py, which its neighbours import as "replication_harness".
from tests.lake.replication_harness import *  # noqa: F403
