"""The one owner of Clearlake's Dagster names: asset keys, partitions, jobs, sensors, checks.

The definitions (``assets/``) and the applications (CLI, demo) import them from here, so
an application never needs to import the definitions to know a name; the rest of the
library receives keys as arguments and never builds one itself. Keys follow the lake's storage
layout (``lake/<table>``, ``features/<name>``, ``evaluation/<task>/…``): the lake IO
manager stores an asset at the path its key spells.
"""

import re

import dagster as dg

# -- lake and features ------------------------------------------------------------------


def lake_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["lake", table])


def drop_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["lake", "drops", dataset])


def feature_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["features", name])


LAKE_DAYS_SENSOR = "lake_new_days_sensor"
"""Requests each new day of the open-ended daily sources once the source has it."""


# -- evaluation (per task) --------------------------------------------------------------


def suite_key(task: str, suite: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", task, "suites", suite])


def predictions_key(task: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", task, "candidate_predictions"])


def scores_key(task: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", task, "candidate_scores"])


def comparison_key(task: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", task, "candidate_comparison"])


def stage_output_key(task: str, repo: str) -> dg.AssetKey:
    """A pipeline task's transform stage output (``evaluation/<task>/stage_<repo>``, the
    repository's name with ``-`` and ``.`` as ``_``)."""
    return dg.AssetKey(["evaluation", task, f"stage_{re.sub(r'[^a-z0-9_]', '_', repo)}"])


def leaderboard_key(task: str) -> dg.AssetKey:
    return dg.AssetKey(["evaluation", task, "leaderboard"])


def gate_calibration_key(task: str) -> dg.AssetKey:
    """The task's A/A calibration of its gate (``clearlake gate calibrate TASK``)."""
    return dg.AssetKey(["evaluation", task, "gate_calibration"])


def task_report_inputs(task: str) -> dict[str, str]:
    """The asset paths a candidate report template of ``task`` reads (its ``inputs``)."""
    keys = {
        "comparison": comparison_key(task),
        "predictions": predictions_key(task),
        "scores": scores_key(task),
    }
    return {name: key.to_user_string() for name, key in keys.items()}


def candidate_partitions_name(task: str) -> str:
    """The dynamic partitions of a task's candidates (``<repo>@<sha7>[~<params>]``, a
    pipeline's ``<repo>@<sha7>+…+<model>@<sha7>[~<params>]``)."""
    return f"candidates__{task}"


def evaluation_job(task: str) -> str:
    """The job that evaluates one candidate of ``task`` (predictions → comparison)."""
    return f"candidate_evaluation__{task}"


def evaluation_group(task: str) -> str:
    """The asset group of a task's evaluation assets (suites, candidates, leaderboard,
    calibration): one box per task in the asset graph, so the two tasks' nodes of the
    same name are told apart without hovering."""
    return f"evaluation_{task}"


def calibration_job(task: str) -> str:
    """The job that runs a task's gate calibration alone (what its schedule launches)."""
    return f"gate_calibration__{task}"


def calibration_schedule(task: str) -> str:
    """The schedule of a task that declares ``calibration.schedule`` (a cron)."""
    return f"gate_calibration_schedule__{task}"


REGRESSION_CHECK = "no_significant_regression"
COMMIT_SENSOR = "candidate_commit_sensor"

# -- reports ----------------------------------------------------------------------------


def report_key(template: str) -> dg.AssetKey:
    return dg.AssetKey(["reports", template])


def task_report_key(task: str, template: str) -> dg.AssetKey:
    """A candidate-scope template's report for one task: ``reports/<task>/<template>``."""
    return dg.AssetKey(["reports", task, template])


def report_job(task: str) -> str:
    """The follow-up job that renders a task's candidate reports from a stored comparison."""
    return f"candidate_reports__{task}"


GALLERY = dg.AssetKey(["reports", "report_gallery"])
REGRESSION_REPORT_SENSOR = "regression_report_sensor"

# -- drop zone --------------------------------------------------------------------------

DROP_PARTITIONS = "drops"
DROP_SENSOR = "drop_zone_sensor"
RUN_FAILURE_SENSOR = "run_failure_alert_sensor"
SENSOR_HEALTH_SENSOR = "sensor_error_alert_sensor"
DROP_JOB = "drop_ingestion"

# -- live data: new lake days flow downstream ------------------------------------------

FLOW_TAG = "flow"
NEW_DAYS_FLOW = "new-days"
"""Tag ``flow: new-days``: a daily asset that follows new lake days by itself (its
automation condition is ``clearlake.orchestration.automation.new_days``)."""
NEW_DAYS_TAGS = {FLOW_TAG: NEW_DAYS_FLOW}
NEW_DAYS_SENSOR = "new_days_automation_sensor"
"""Evaluates the automation condition of every asset tagged ``flow: new-days``."""

# -- monitoring (per task with a ``monitor:``) ------------------------------------------


def monitor_predictions_key(task: str) -> dg.AssetKey:
    """The watched model's predictions of each day (daily, as soon as the features exist)."""
    return dg.AssetKey(["monitor", task, "predictions"])


def monitor_performance_key(task: str) -> dg.AssetKey:
    """Each day's labelled predictions and scores (once its labels matured)."""
    return dg.AssetKey(["monitor", task, "performance"])


def monitor_status_key(task: str) -> dg.AssetKey:
    """Recent windows against the reference, drift, alert episodes and their messages."""
    return dg.AssetKey(["monitor", task, "status"])


MONITORING_GROUP = "monitoring"
