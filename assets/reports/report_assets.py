"""Report assets, discovered: every template notebook becomes ``reports/…`` with no Python.

Templates come from the platform's ``notebooks/`` and the project's templates folder; each
declares its scope in its notebook metadata (:mod:`clearlake.reports.templates`):

``day``        ``reports/<template>``, daily partitions of the tables it declares (default:
               every daily table), which are its lineage; fills ``day`` (and ``tables``).
``candidate``  ``reports/<task>/<template>`` for its task, or for every task; partitioned by
               the task's candidates, after its comparison and predictions; fills
               ``candidate``, ``task`` and ``inputs`` (asset paths the template reads).
``none``       ``reports/<template>``, unpartitioned.

The parameters cell becomes launchpad config, the code version is the notebook's hash plus
the helper modules, and the materialisation links the page, the notebook and the gallery.
A declaration that names an unknown table or task fails here, at definitions load.

Each report is a dagstermill asset (``dagstermill.define_dagstermill_asset`` over the
template's run notebook, :mod:`clearlake.reports.dagstermill_run`; published by
:mod:`assets.reports.notebook_io`). Definitions built under
``clearlake.reports.engine.papermill_in_process`` (the in-process clients: demo, command
line, tests) get the papermill twin of each asset instead, which dagstermill cannot
replace there (it refuses a job that is not reconstructable): same key, partitions,
config, code version, files and metadata.
"""

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # dagstermill is Beta in Dagster 1.13
    import dagstermill

from assets.reports.notebook_io import ReportNotebookIOManager, keep_failed_report, report_metadata
from clearlake import names
from clearlake.names import (
    OUTPUT_NOTEBOOK_IO_MANAGER,
    candidate_partitions_name,
    comparison_key,
    lake_key,
    predictions_key,
    report_key,
)
from clearlake.orchestration.partitions import candidate_partitions, daily_partitions
from clearlake.project.load import Project, current_project
from clearlake.provenance import provenance_metadata
from clearlake.reports import candidate, lake_health, notebook
from clearlake.reports.dagstermill_run import RunSpec, write_run_notebook
from clearlake.reports.engine import PAPERMILL, current_engine
from clearlake.reports.execute import ReportPaths, provenance_record, upstream, variant_of
from clearlake.reports.execute import run_report as execute_report
from clearlake.reports.templates import (
    PROVENANCE,
    ReportExecutionError,
    Template,
    TemplateError,
    config_schema,
    discover,
    resolve,
    template_folders,
)
from clearlake.settings import load_settings
from clearlake.versioning import digest, source_version

OWNERS = ["team:data-science"]
HELPERS_VERSION = source_version(notebook, candidate, lake_health)
"""The toolbox templates call: part of every report's code version."""
RUN_NOTEBOOKS = "report-notebooks"
"""Folder (under the cache root) of the run notebooks dagstermill executes."""


def _day_tables(template: Template, project: Project) -> list[str]:
    sources = project.config.sources
    daily = [name for name, source in sources.items() if source.daily is not None]
    for table in template.declaration.tables:
        if table not in sources:
            raise TemplateError(
                template.name,
                f"declares table {table!r}, which is not a lake source of {project.path} "
                f"(sources: {', '.join(sources) or 'none'}); fix `tables` in its 'clearlake' "
                "metadata.",
            )
    if not daily:
        raise TemplateError(
            template.name,
            f"has scope 'day' but {project.path} declares no daily lake table; use scope "
            "'none' or declare a daily source.",
        )
    return list(template.declaration.tables) or daily


def _day_partitions(tables: list[str], project: Project) -> dg.PartitionsDefinition:
    spans = [project.source(t).daily for t in tables]
    first = max(s.first_day for s in spans if s is not None)
    lasts = [s.last_day if s is not None else None for s in spans]
    last = None if None in lasts else min(d for d in lasts if d is not None)
    return daily_partitions(first, last)


def report_asset(
    template: Template,
    *,
    key: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition | None,
    deps: Mapping[dg.AssetKey, bool],
    filled: Mapping[str, Any],
    tags: Mapping[str, str],
    task: str | None = None,
) -> dg.AssetsDefinition:
    """One report asset. ``deps`` maps each upstream key to whether it shares the partition;
    ``filled`` are the values the platform sets (the partition's own is added per run)."""
    code_version = digest(template.content_hash, HELPERS_VERSION)
    exclude = template.filled()
    metadata = {
        "template": dg.MetadataValue.notebook(str(template.path)),
        "template_hash": template.content_hash,
        "scope": template.scope,
        "parameters": dg.MetadataValue.json(
            {k: v for k, v in template.defaults().items() if k not in exclude}
        ),
    }
    if current_engine() == PAPERMILL:
        return _papermill_asset(
            template,
            key=key,
            partitions_def=partitions_def,
            deps=deps,
            filled=filled,
            tags=tags,
            task=task,
            code_version=code_version,
            metadata=metadata,
        )
    spec = RunSpec(
        template=str(template.path),
        code_version=code_version,
        fixed={k: v for k, v in filled.items() if k in exclude},
        deps={k.to_user_string(): same for k, same in deps.items()},
        partition_parameter=_PARTITION_PARAMETER.get(template.scope),
        task=task,
    )
    path = write_run_notebook(template, spec, load_settings().cache_root / RUN_NOTEBOOKS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagstermill assets are Beta
        made = dagstermill.define_dagstermill_asset(
            name=key.path[-1],
            notebook_path=str(path),
            key_prefix=list(key.path[:-1]),
            deps=list(deps),
            metadata={**metadata, "run_notebook": dg.MetadataValue.notebook(str(path))},
            config_schema=config_schema(template, exclude=exclude),
            description=template.description,
            partitions_def=partitions_def,
            group_name="reports",
            io_manager_key=OUTPUT_NOTEBOOK_IO_MANAGER,
            save_notebook_on_failure=True,  # published by keep_failed_report, then removed
            asset_tags=dict(tags),
        )
    (made,) = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(
            owners=list(template.declaration.owners) or OWNERS,
            code_version=code_version,
            kinds={"jupyter", "html"},
        ),
        [made],
    )
    return made.with_hooks({keep_failed_report})


_PARTITION_PARAMETER = {"day": "day", "candidate": "candidate"}


def _papermill_asset(
    template: Template,
    *,
    key: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition | None,
    deps: Mapping[dg.AssetKey, bool],
    filled: Mapping[str, Any],
    tags: Mapping[str, str],
    task: str | None,
    code_version: str,
    metadata: Mapping[str, Any],
) -> dg.AssetsDefinition:
    """The in-process twin: the same report through papermill (see the module doc)."""
    exclude = template.filled()
    partition_parameter = _PARTITION_PARAMETER.get(template.scope)

    @dg.asset(
        key=key,
        group_name="reports",
        description=template.description,
        owners=list(template.declaration.owners) or OWNERS,
        kinds={"jupyter", "html"},
        partitions_def=partitions_def,
        deps=list(deps),
        code_version=code_version,
        config_schema=config_schema(template, exclude=exclude),
        tags=dict(tags),
        metadata=dict(metadata),
    )
    def _report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:  # type: ignore[type-arg]
        partition = context.partition_key if context.has_partition_key else None
        fixed = {k: v for k, v in filled.items() if k in exclude}
        if partition_parameter and partition:
            fixed[partition_parameter] = partition
        resolved = resolve(template, context.op_config, fixed)
        used = {k: v for k, v in resolved.items() if k != PROVENANCE}
        inputs = {
            k.to_user_string(): upstream(context.instance, k, partition if same else None)
            for k, same in deps.items()
        }
        extra = candidate.candidate_provenance(partition) if task and partition else {}
        record = provenance_record(
            template,
            code_version=code_version,
            run_id=context.run_id,
            partition=partition,
            parameters=used,
            inputs=inputs,
            extra=extra,
        )
        if PROVENANCE in exclude:
            resolved[PROVENANCE] = record
        defaults = template.defaults()
        settable = {k: v for k, v in used.items() if k not in exclude}
        variant = variant_of(settable, defaults)
        paths = ReportPaths(load_settings().reports_root, template.name, partition, variant)
        changed = {k: v for k, v in settable.items() if v != defaults.get(k)}
        try:
            made = execute_report(
                template, resolved, paths=paths, run_id=context.run_id, task=task, settable=changed
            )
        except ReportExecutionError as exc:
            context.log.error(str(exc))
            raise dg.Failure(
                description=str(exc), metadata={"report_html_path": str(exc.page)}
            ) from exc
        return dg.MaterializeResult(
            metadata={
                **report_metadata(made),
                **provenance_metadata(
                    run_id=context.run_id,
                    code_version=code_version,
                    parameters=used,
                    candidate_commit=extra.get("candidate_commit"),
                ),
                "template_hash": template.content_hash,
            }
        )

    return _report


def template_assets(template: Template, project: Project) -> list[dg.AssetsDefinition]:
    """The report asset(s) of one template: one, or one per task for ``candidate`` scope."""
    declaration = template.declaration
    if template.scope == "day":
        tables = _day_tables(template, project)
        daily = [t for t in tables if project.source(t).daily is not None]
        deps = {lake_key(t): t in daily for t in tables}
        return [
            report_asset(
                template,
                key=report_key(template.name),
                partitions_def=_day_partitions(daily, project),
                deps=deps,
                filled={"tables": tables},
                tags={"partitioned_by": "day"},
            )
        ]
    if template.scope == "candidate":
        tasks = project.config.tasks
        if declaration.task is not None and declaration.task not in tasks:
            raise TemplateError(
                template.name,
                f"declares task {declaration.task!r}, which {project.path} does not declare "
                f"(tasks: {', '.join(tasks) or 'none'}); fix `task` in its 'clearlake' metadata.",
            )
        chosen = [declaration.task] if declaration.task else list(tasks)
        return [
            report_asset(
                template,
                key=names.task_report_key(task, template.name),
                partitions_def=candidate_partitions(candidate_partitions_name(task)),
                deps={comparison_key(task): True, predictions_key(task): True},
                filled={"task": task, "inputs": names.task_report_inputs(task)},
                tags={"partitioned_by": "candidate", "task": task},
                task=task,
            )
            for task in chosen
        ]
    return [
        report_asset(
            template,
            key=report_key(template.name),
            partitions_def=None,
            deps={},
            filled={},
            tags={},
        )
    ]


def report_assets(project: Project | None = None) -> list[dg.AssetsDefinition]:
    project = project or current_project(load_settings())
    found = discover(template_folders(project))
    return [asset for template in found for asset in template_assets(template, project)]


def report_resources() -> dict[str, Any]:
    """dagstermill's output-notebook IO manager, publishing (none for papermill assets)."""
    if current_engine() == PAPERMILL:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagstermill's IO manager is Beta
        return {OUTPUT_NOTEBOOK_IO_MANAGER: ReportNotebookIOManager()}


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=report_assets(), resources=report_resources())
