"""Run inside the pods' environment before the servers start: what an operator's first
install does once (replicate the lake onto S3, features, suites, the baseline commit's
evaluation). Written to the same PostgreSQL instance and S3 lake the stack then uses."""

from __future__ import annotations

import time

import dagster as dg

from clearlake.cli.runs import load_definitions
from clearlake.demo import loop
from clearlake.lake.store import LakeStore
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def main() -> None:
    settings = load_settings()
    project = current_project(settings)
    instance = dg.DagsterInstance.get()
    store = LakeStore(settings.lake_url)
    definitions = load_definitions()
    started = time.monotonic()

    def progress(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    loop.ensure_lake(definitions, instance, store, project, progress)
    loop.ensure_features_and_suites(definitions, instance, store, project, progress)
    for done in loop.run_until_quiet(definitions, instance, progress):
        assert done.success, done.error
    progress("prepared")


if __name__ == "__main__":
    main()
