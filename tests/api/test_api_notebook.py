"""The example notebook runs against the live service, as `clearlake reports run` runs it."""

from __future__ import annotations

from pathlib import Path

import nbformat
from live_api import LiveApi

from clearlake.notebooks_clean import problems
from clearlake.reports.execute import run_template
from clearlake.reports.templates import Template
from clearlake.settings import DEFAULT_PROJECT

NOTEBOOK = DEFAULT_PROJECT / "notebooks" / "explore" / "data_api_example.ipynb"


def test_example_notebook_is_committed_clean() -> None:
    assert problems(NOTEBOOK) == []


def test_example_notebook_runs_as_a_scientist(live_api: LiveApi, tmp_path: Path) -> None:
    # Clearlake's direct runner, not bare papermill: once dagstermill is imported in a
    # process, papermill's Python parameter translator is dagstermill's.
    run = run_template(
        Template.load(NOTEBOOK),
        {"api_url": live_api.url, "token": live_api.tokens["sam"], "origin": "LGA"},
        output_dir=tmp_path,
    )
    cells = nbformat.read(tmp_path / run.notebook, as_version=4).cells  # type: ignore[no-untyped-call]
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", "")) for c in cells for o in c.get("outputs", [])
    )
    assert "flights" in text and "hash" in text  # listing and the scientist's view of tailnum
    assert "EMBRAER" in text  # hashed tail numbers joined flights to planes
