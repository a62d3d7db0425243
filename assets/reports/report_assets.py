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
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from clearlake import names
from clearlake.names import (
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
from clearlake.reports.execute import (
    ReportPaths,
    ReportRecord,
    provenance_record,
    report_url,
    variant_of,
)
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
_SCALARS = (str, int, float, bool)


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


def _upstream(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> dict[str, Any]:
    """Version, run and scalar metadata of the input's materialisation the report read."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    event = records[0].asset_materialization if records else None
    found: dict[str, Any] = {"partitions": partition} if partition else {}
    if event is None:
        return {"data_version": None, "run_id": None, **found}
    return {
        "data_version": (event.tags or {}).get("dagster/data_version"),
        "run_id": records[0].run_id,
        **found,
        "metadata": {
            name: entry.value
            for name, entry in event.metadata.items()
            if isinstance(entry.value, _SCALARS)
            and not name.startswith(("dagster/", "provenance/"))
        },
    }


def _metadata(record: ReportRecord) -> dict[str, Any]:
    settings = load_settings()
    root, base = settings.reports_root, settings.reports_url
    return {
        "report": dg.MetadataValue.url(report_url(root, record.html, base_url=base)),
        "report_notebook": dg.MetadataValue.notebook(str(root / record.notebook)),
        "report_html_path": dg.MetadataValue.path(str(root / record.html)),
        "gallery": dg.MetadataValue.url(report_url(root, "index.html", base_url=base)),
        "report_status": record.status,
        "report_variant": record.variant or "default",
        **{name: dg.MetadataValue.text(value) for name, value in record.summary.items()},
    }


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
    partition_parameter = {"day": "day", "candidate": "candidate"}.get(template.scope)

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
        metadata={
            "template": dg.MetadataValue.notebook(str(template.path)),
            "template_hash": template.content_hash,
            "scope": template.scope,
            "parameters": dg.MetadataValue.json(
                {k: v for k, v in template.defaults().items() if k not in exclude}
            ),
        },
    )
    def _report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:  # type: ignore[type-arg]
        partition = context.partition_key if context.has_partition_key else None
        fixed = {k: v for k, v in filled.items() if k in exclude}
        if partition_parameter and partition:
            fixed[partition_parameter] = partition
        resolved = resolve(template, context.op_config, fixed)
        used = {k: v for k, v in resolved.items() if k != PROVENANCE}
        inputs = {
            k.to_user_string(): _upstream(context.instance, k, partition if same else None)
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
                **_metadata(made),
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


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=report_assets())
