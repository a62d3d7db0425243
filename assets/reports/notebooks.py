"""Report assets: the templates in ``notebooks/`` filled per lake day and per candidate."""

import dagster as dg

from clearlake.partitions import candidate_partitions_def, daily_partitions_def
from clearlake.reports import candidate, lake_health
from clearlake.reports.factory import notebook_report_asset
from clearlake.reports.io_manager import OUTPUT_NOTEBOOK_IO_MANAGER, ReportNotebookIOManager
from clearlake.reports.report_provenance import candidate_provenance
from clearlake.reports.templates import Template, template_path
from clearlake.settings import load_settings

OWNERS = ["team:data-science", "team:data-platform"]
FLIGHTS = dg.AssetKey(["lake", "flights"])
WEATHER = dg.AssetKey(["lake", "weather"])
COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])


def report_assets() -> list[dg.AssetsDefinition]:
    lake_health_report = notebook_report_asset(
        Template.load(template_path("lake_health")),
        description=(
            "Health of one lake day: row counts against the trailing days, null rates, schema, "
            "freshness and anomalies. Executed notebook + HTML under CLEARLAKE_HOME/reports/"
            "lake_health/<day>."
        ),
        owners=OWNERS,
        partitions_def=daily_partitions_def,
        partition_parameter="day",
        deps=[FLIGHTS, WEATHER],
        helpers=[lake_health],
    )
    sanity_check = notebook_report_asset(
        Template.load(template_path("sanity_check")),
        description=(
            "The starter template: row count and one column's distribution for a lake day. "
            "Copy notebooks/sanity_check.ipynb to start a new report."
        ),
        owners=OWNERS,
        partitions_def=daily_partitions_def,
        partition_parameter="day",
        deps=[FLIGHTS],
    )
    candidate_report = notebook_report_asset(
        Template.load(template_path("candidate_report")),
        description=(
            "One candidate against its baseline: verdict, metric deltas with confidence "
            "intervals, per-subgroup breakdown, provenance. Executed notebook + HTML under "
            "CLEARLAKE_HOME/reports/candidate_report/<candidate>."
        ),
        owners=OWNERS,
        partitions_def=candidate_partitions_def,
        partition_parameter="candidate",
        ins={"candidate_comparison": COMPARISON},
        partition_provenance=candidate_provenance,
        helpers=[candidate],
    )
    return [lake_health_report, sanity_check, candidate_report]


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        assets=report_assets(),
        resources={
            OUTPUT_NOTEBOOK_IO_MANAGER: ReportNotebookIOManager(
                reports_root=str(settings.reports_root), reports_url=settings.reports_url
            )
        },
    )
