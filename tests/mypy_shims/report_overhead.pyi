# benchmarks/report_overhead.py, which its neighbours import as "report_overhead".
from benchmarks.report_overhead import *  # noqa: F403
