# benchmarks/commit_to_verdict.py, which its neighbours import as "commit_to_verdict".
from benchmarks.commit_to_verdict import *  # noqa: F403
