# benchmarks/replication.py, which its neighbours import as "replication".
from benchmarks.replication import *  # noqa: F403
