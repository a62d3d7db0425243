"""A template as dagstermill runs it: the run notebook, the cell that starts it, its marker.

dagstermill *replaces* the cell tagged ``parameters`` with its own (which rebuilds the
run's context in the kernel), so a template cannot be handed to it as it stands: its
defaults would vanish. :func:`write_run_notebook` derives, per report asset, a notebook
with

1. an empty cell tagged ``parameters`` (what dagstermill replaces),
2. the template's parameters cell, untagged (its defaults, as in Jupyter),
3. a platform cell calling :func:`start` (tagged ``clearlake-run``, not counted when a
   failure is numbered as in the template), which reads ``dagstermill.get_context()`` (launchpad
   config, run id, partition tag), resolves the values as the papermill path does,
   builds the provenance record and publishes a marker (:data:`RUN_MIMETYPE`) that the
   output-notebook IO manager and the failure hook read on the Dagster side,
4. the template's other cells.

Templates may call ``dagstermill.get_context()`` themselves (run tags, logger).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from clearlake.reports import render
from clearlake.reports.execute import provenance_record, upstream, variant_of, write_atomic
from clearlake.reports.templates import PARAMETERS_TAG, PROVENANCE, Template, resolve
from clearlake.versioning import json_version

RUN_MIMETYPE = "application/vnd.clearlake.run+json"
"""Display output of the platform cell: which report this run makes (read by the host)."""
PARTITION_TAG = "dagster/partition"
"""dagstermill's context has no partition helper; the run's tag names the partition."""
TEARDOWN_TAG = "injected-teardown"
"""dagstermill's tag on the cell it appends to release the run's resources."""
RUN_CONTEXT_NOTE = (
    "# Parameters injected by dagstermill (the run's context, rebuilt in the kernel)."
)


@dataclass(frozen=True)
class RunSpec:
    """What the platform fixes for one report asset (the rest comes from the run)."""

    template: str
    """Path of the template notebook."""
    code_version: str
    fixed: dict[str, Any] = field(default_factory=dict)
    """Platform-filled values (task, inputs, tables), without the partition's own."""
    deps: dict[str, bool] = field(default_factory=dict)
    """Upstream asset key (user string) → whether it shares the report's partition."""
    partition_parameter: str | None = None
    task: str | None = None


def run_notebook(template: Template, spec: RunSpec) -> NotebookNode:
    """The template with dagstermill's placeholder and the platform cell (see module doc)."""
    made = copy.deepcopy(template.notebook)
    cells: list[NotebookNode] = []
    for cell in made.cells:
        if PARAMETERS_TAG not in render.tags(cell):
            cells.append(cell)
            continue
        defaults = copy.deepcopy(cell)
        defaults.metadata["tags"] = [t for t in render.tags(cell) if t != PARAMETERS_TAG]
        start_cell = render.code_cell(
            "from clearlake.reports.dagstermill_run import start as _clearlake_start\n\n"
            f"globals().update(_clearlake_start({json.dumps(asdict(spec), sort_keys=True)!r}))",
            tags=[render.PLATFORM_CELL_TAG],
        )
        placeholder = render.code_cell("", tags=[PARAMETERS_TAG])
        # Fixed ids: the same template and spec give the same file on every definitions load.
        placeholder.id, start_cell.id = "clearlake-dagstermill-parameters", "clearlake-run"
        cells += [placeholder, defaults, start_cell]
    made.cells = cells
    return made


def write_run_notebook(template: Template, spec: RunSpec, folder: Path) -> Path:
    """Write the run notebook once per template version and spec; return its path."""
    made = run_notebook(template, spec)
    text = render.writes(made)
    path = folder / f"{template.name}-{json_version([text])[:12]}.ipynb"
    if not path.is_file():
        write_atomic(path, text.encode())
    return path


def start(spec_json: str) -> dict[str, Any]:
    """In the kernel: the run's parameter values (provenance included); publishes the marker."""
    import dagster as dg
    import dagstermill

    spec = RunSpec(**json.loads(spec_json))
    context = dagstermill.get_context()
    template = Template.load(Path(spec.template))
    partition = context.get_tag(PARTITION_TAG)
    fixed = dict(spec.fixed)
    if spec.partition_parameter and partition:
        fixed[spec.partition_parameter] = partition
    resolved = resolve(template, context.op_config, fixed)
    used = {k: v for k, v in resolved.items() if k != PROVENANCE}
    with dg.DagsterInstance.get() as instance:
        inputs = {
            key: upstream(instance, dg.AssetKey.from_user_string(key), partition if same else None)
            for key, same in spec.deps.items()
        }
    extra: dict[str, Any] = {}
    if spec.task and partition:
        from clearlake.reports.candidate import candidate_provenance

        extra = dict(candidate_provenance(partition))
    record = provenance_record(
        template,
        code_version=spec.code_version,
        run_id=context.run_id,
        partition=partition,
        parameters=used,
        inputs=inputs,
        extra=extra,
    )
    exclude = template.filled()
    if PROVENANCE in exclude:
        resolved[PROVENANCE] = record
    defaults = template.defaults()
    settable = {k: v for k, v in used.items() if k not in exclude}
    marker = {
        "run_id": context.run_id,
        "op": context.op_def.name,
        "template": template.name,
        "scope": template.scope,
        "task": spec.task,
        "partition": partition,
        "variant": variant_of(settable, defaults),
        "parameters": used,
        "settable": {k: v for k, v in settable.items() if v != defaults.get(k)},
        "provenance": record,
        "code_version": spec.code_version,
        "candidate_commit": extra.get("candidate_commit"),
        "template_hash": template.content_hash,
    }
    from IPython.display import display

    display({RUN_MIMETYPE: json.loads(json.dumps(marker, default=str))}, raw=True)  # type: ignore[no-untyped-call]
    return resolved


def read_marker(executed: NotebookNode) -> dict[str, Any] | None:
    """The platform cell's marker in an executed run notebook (``None``: it never ran)."""
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RUN_MIMETYPE in data:
                return dict(data[RUN_MIMETYPE])
    return None


def for_publishing(executed: NotebookNode) -> NotebookNode:
    """The run notebook as people read it: dagstermill's cell (an instance reference and
    the serialised run) reduced to a note, its copy in the notebook's metadata and its
    teardown cell dropped, the platform cell's marker kept for the host."""
    page = copy.deepcopy(executed)
    page.cells = [c for c in page.cells if TEARDOWN_TAG not in render.tags(c)]
    papermill = page.metadata.get("papermill", {})
    papermill.pop("parameters", None)  # the same serialised run, as papermill records it
    for cell in page.cells:
        tags = render.tags(cell)
        if render.INJECTED_TAG in tags:
            cell.source = RUN_CONTEXT_NOTE
            cell.outputs = []  # dagstermill's own warnings, not the report's
    return page
