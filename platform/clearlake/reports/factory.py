"""The report factory: a template in ``notebooks/`` becomes a dagstermill-backed asset.

What it adds over ``dagstermill.define_dagstermill_asset``: the template's parameters
become typed launchpad config (so any report re-runs for other values from the UI),
the partition key and upstream inputs are passed in, the code version is computed from
the template (plus the helper library its cells call), the provenance record goes both
into the notebook and onto the materialisation, and a failing notebook is kept (partial
``.ipynb`` + HTML naming the failing cell) instead of vanishing with a temp directory,
and the Dagster context is rebuilt in the kernel only when the template uses it
(:mod:`clearlake.reports.execute`): a report then costs little more than the notebook.

(No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation
of the compute function at definition time.)
"""

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import nbformat

from clearlake.reports import nbio
from clearlake.reports import notebook as notebook_helpers
from clearlake.reports.errors import ReportExecutionError
from clearlake.reports.execute import context_cell_source, notebook_events, run_notebook
from clearlake.reports.io_manager import (
    OUTPUT_NOTEBOOK_IO_MANAGER,
    ExecutedReport,
    ReportNotebookIOManager,
    report_metadata,
)
from clearlake.reports.parameters import config_schema, resolve
from clearlake.reports.prepare import PROVENANCE, prepare
from clearlake.reports.publish import ReportPaths, publish
from clearlake.reports.render import (
    CellFailure,
    add_failure_banner,
    first_failure,
    redact_context_cell,
)
from clearlake.reports.report_provenance import report_provenance
from clearlake.reports.templates import Template
from clearlake.versioning import digest, source_version

PROVENANCE_PARAMETER = PROVENANCE


def report_code_version(template: Template, *helpers: Any) -> str:
    """The template's content hash, combined with the helper modules its cells call."""
    return digest(template.content_hash, source_version(notebook_helpers, *helpers))


def _failure(
    executed: Path, prepared: nbformat.NotebookNode, exc: BaseException
) -> tuple[nbformat.NotebookNode, CellFailure]:
    """The partial notebook papermill wrote (or the prepared one if no kernel ever ran)."""
    partial = nbio.read(executed) if executed.is_file() else prepared
    failure = first_failure(partial) or CellFailure(None, type(exc).__name__, str(exc), "")
    return partial, failure


def notebook_report_asset(
    template: Template,
    *,
    description: str,
    owners: Sequence[str],
    partitions_def: dg.PartitionsDefinition | None = None,
    partition_parameter: str | None = None,
    ins: Mapping[str, dg.AssetKey] | None = None,
    deps: Sequence[dg.AssetKey] = (),
    partition_provenance: Callable[[str], dict[str, str]] | None = None,
    helpers: Sequence[Any] = (),
    group_name: str = "reports",
    key_prefix: str = "reports",
    automation_condition: dg.AutomationCondition | None = None,  # type: ignore[type-arg]
) -> dg.AssetsDefinition:
    """An asset ``<key_prefix>/<template name>`` that executes ``template`` with dagstermill.

    ``ins`` maps notebook variables to upstream assets (loaded by the IO manager in the
    step, handed to the kernel); each, and ``partition_parameter``, must be assigned in the
    template's parameters cell so that the notebook also runs on its own (``provenance`` is
    injected when the cell assigns it). ``helpers`` are the library modules the template
    calls (part of the code version). Reports are stored by the
    ``output_notebook_io_manager`` resource, also for a failed run (partial notebook).
    """
    ins = dict(ins or {})
    for name in [*ins, *([partition_parameter] if partition_parameter else [])]:
        template.parameter(name)  # raises TemplateError naming the missing parameter
    takes_provenance = PROVENANCE_PARAMETER in template.defaults()
    platform_filled = {
        *ins,
        PROVENANCE_PARAMETER,
        *([partition_parameter] if partition_parameter else []),
    }
    code_version = report_code_version(template, *helpers)
    name = template.name

    @dg.asset(
        name=name,
        key_prefix=key_prefix,
        group_name=group_name,
        description=description,
        owners=list(owners),
        kinds={"jupyter", "html"},
        partitions_def=partitions_def,
        ins={n: dg.AssetIn(key=k) for n, k in ins.items()},
        deps=list(deps),
        code_version=code_version,
        config_schema=config_schema(template, exclude=platform_filled),
        io_manager_key=OUTPUT_NOTEBOOK_IO_MANAGER,
        metadata={
            "template": dg.MetadataValue.notebook(str(template.path)),
            "template_hash": template.content_hash,
            "parameters": dg.MetadataValue.json(
                {k: v for k, v in template.defaults().items() if k not in platform_filled}
            ),
        },
        op_tags={"notebook_path": str(template.path)},
        required_resource_keys={OUTPUT_NOTEBOOK_IO_MANAGER},
        automation_condition=automation_condition,
    )
    def _report(context: dg.AssetExecutionContext, **inputs: Any) -> Iterator[dg.Output[Any]]:
        partition = context.partition_key if context.has_partition_key else None
        fixed = {partition_parameter: partition} if partition_parameter and partition else {}
        resolved = resolve(template, context.op_config, fixed)
        used = {k: v for k, v in resolved.items() if k not in ins and k != PROVENANCE_PARAMETER}
        extra = partition_provenance(partition) if partition_provenance and partition else {}
        provenance = report_provenance(
            context,
            template=template,
            code_version=code_version,
            parameters=used,
            ins=ins,
            deps=list(deps),
            extra=extra,
        )
        injected = {**used, **({PROVENANCE_PARAMETER: provenance} if takes_provenance else {})}
        with tempfile.TemporaryDirectory(prefix=f"report-{name}-") as tmp_dir:
            tmp = Path(tmp_dir)
            prepared = prepare(
                template, injected, context_source=context_cell_source(context, inputs, tmp)
            )
            nbio.write(prepared, tmp / "prepared.ipynb")
            try:
                run_notebook(tmp / "prepared.ipynb", tmp / "executed.ipynb")
                executed = nbio.read(tmp / "executed.ipynb")
                events = list(notebook_events(tmp / "executed.ipynb"))
            except Exception as exc:
                partial, failure = _failure(tmp / "executed.ipynb", prepared, exc)
                store = getattr(context.resources, OUTPUT_NOTEBOOK_IO_MANAGER)
                raise _failed(
                    context,
                    partial,
                    failure,
                    store if isinstance(store, ReportNotebookIOManager) else None,
                    used=used,
                    provenance=provenance,
                ) from exc
        redact_context_cell(executed, run_id=context.run_id)
        summary = notebook_helpers.read_summary(executed)
        yield dg.Output(ExecutedReport(name, executed, used, provenance, summary))
        yield from events

    def _failed(
        context: dg.AssetExecutionContext,
        partial: nbformat.NotebookNode,
        failure: CellFailure,
        store: ReportNotebookIOManager | None,
        *,
        used: dict[str, Any],
        provenance: dict[str, Any],
    ) -> dg.Failure:
        partition = context.partition_key if context.has_partition_key else None
        redact_context_cell(partial, run_id=context.run_id)
        add_failure_banner(partial, template=name, failure=failure)
        metadata: dict[str, Any] = {}
        html_path = None
        if store is not None:
            root = Path(store.reports_root)
            paths = ReportPaths(root, name, partition)
            record = publish(
                partial,
                paths=paths,
                run_id=context.run_id,
                status="failed",
                parameters=used,
                provenance=provenance,
                error=f"{failure.ename}: {failure.evalue}",
            )
            metadata = report_metadata(root, record, base_url=store.reports_url)
            html_path = str(paths.html)
        error = ReportExecutionError(
            template=name,
            partition=partition,
            cell=failure.cell,
            source_line=failure.source_line,
            ename=failure.ename,
            evalue=failure.evalue,
            html_path=html_path,
        )
        context.log.error(str(error))
        return dg.Failure(description=str(error), metadata=metadata)

    return _report
