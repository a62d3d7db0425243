"""The demo: a sample algorithm repository and the whole evaluation loop, in-process.

>>> from clearlake.demo import run_demo
>>> run_demo(load_settings(), progress=print)  # doctest: +SKIP
"""

from clearlake.demo.run import DemoSummary, run_demo

__all__ = ["DemoSummary", "run_demo"]
