"""Running a template without Dagster: papermill + nbconvert, same preparation and pages.

For a scientist trying a template, for ``clearlake reports run``, and as the baseline of
the report-overhead benchmark. Parameters are injected by Clearlake's own preparation
(papermill's parameter translator is replaced process-wide once dagstermill is
imported), then papermill executes and the same renderer writes the page.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill

from clearlake.reports import nbio
from clearlake.reports.notebook import read_summary
from clearlake.reports.parameters import resolve
from clearlake.reports.prepare import prepare
from clearlake.reports.render import to_html
from clearlake.reports.templates import Template


@dataclass(frozen=True)
class DirectRun:
    notebook: Path
    html: Path
    parameters: dict[str, Any]
    summary: dict[str, str]


def run_template(
    template: Template, parameters: Mapping[str, Any], *, output_dir: Path
) -> DirectRun:
    """Execute ``template`` with ``parameters`` into ``output_dir/<name>.ipynb`` + ``.html``.

    A failing cell raises papermill's ``PapermillExecutionError`` after the partial
    notebook has been written.
    """
    resolved = resolve(template, parameters, {})
    output_dir.mkdir(parents=True, exist_ok=True)
    executed_path = output_dir / f"{template.name}.ipynb"
    with tempfile.TemporaryDirectory(prefix=f"template-{template.name}-") as tmp:
        prepared_path = Path(tmp) / f"{template.name}.ipynb"
        nbio.write(prepare(template, resolved), prepared_path)
        papermill.execute_notebook(
            str(prepared_path),
            str(executed_path),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            start_timeout=120,
        )
    executed = nbio.read(executed_path)
    html_path = output_dir / f"{template.name}.html"
    html_path.write_text(to_html(executed, title=template.name))
    return DirectRun(executed_path, html_path, resolved, read_summary(executed))
