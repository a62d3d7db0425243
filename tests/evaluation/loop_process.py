"""The evaluation loop as ``clearlake demo`` drives it, in a process a test can signal.

Run with the variables of a test project set (CLEARLAKE_CONFIG, DAGSTER_HOME, ...); prints
the loop's progress, one line each, and exits 130 when stopped by SIGTERM or SIGINT.
"""

import os
import sys
from pathlib import Path

import dagster as dg
from evaluation_env import evaluation_definitions

from clearlake.demo import loop
from clearlake.project.load import load_project
from clearlake.settings import load_settings

if __name__ == "__main__":
    project = load_project(Path(os.environ["CLEARLAKE_CONFIG"]))
    definitions = evaluation_definitions(project, load_settings())
    instance = dg.DagsterInstance.get()
    with loop.stop_on_signals():
        try:
            loop.run_until_quiet(definitions, instance, lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            print("stopped", flush=True)
            sys.exit(130)
    print("quiet", flush=True)
