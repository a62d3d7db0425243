"""A baseline's predictions on the candidate's window, when a rolling test suite moved.

Comparisons are paired on identical rows. With a pinned test suite the baseline's stored
predictions are on the same rows as the candidate's; with a rolling one (``rolling_days``)
the window moves with the lake, so a baseline evaluated last week predicted other rows.
Then the baseline commit is re-run (the same out-of-process runner, its own seed) on the
suite's current window — the one the candidate was just scored on — and those
predictions are cached in the lake per (baseline, window) at
``evaluation/<task>/window_predictions/key=<baseline>/window=<first>..<last>``, so every
later candidate of the same day reuses them. Whether the windows differ is decided on the
rows themselves (their ids), not on a date label, so a pinned suite never re-runs anything.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from clearlake.errors import ClearlakeError
from clearlake.evaluation import candidate_run, predictions
from clearlake.evaluation.predictions import ROW_ID
from clearlake.evaluation.suites import current_window, row_id
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings, load_settings


class WindowMovedError(ClearlakeError):
    """The rolling test suite moved while a candidate was being evaluated."""


def cache_table(task: str) -> str:
    return f"evaluation/{task}/window_predictions"


def cache_partition(key: str, window: tuple[object, object]) -> str:
    return f"key={key}/window={window[0]}..{window[1]}"


def same_rows(baseline: pd.DataFrame, candidate: pd.DataFrame) -> bool:
    return set(baseline[ROW_ID].astype(str)) == set(candidate[ROW_ID].astype(str))


def baseline_on_window(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    key: str,
    store: LakeStore,
    baseline_predictions: pd.DataFrame,
    candidate_predictions: pd.DataFrame,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Baseline ``key``'s predictions on the rows the candidate predicted: the stored ones
    when they are the same rows, else cached or re-predicted on the current window."""
    task = project.task(task_name)
    if not task.test.rolling or same_rows(baseline_predictions, candidate_predictions):
        return baseline_predictions
    window = current_window(store, task_name, task, task.test_suite)
    assert window is not None  # the candidate was just scored on it
    path = store.partition_file(cache_table(task_name), cache_partition(key, window))
    if store.exists(path):
        cached = store.read_table(path).to_pandas()
        if same_rows(cached, candidate_predictions):
            context.log.info(f"baseline {key} on window {window[0]}..{window[1]}: cached")
            return cached
    context.log.info(
        f"baseline {key} predicted another window: re-predicting it on "
        f"{window[0]}..{window[1]} (the candidate's)"
    )
    base = candidate_run.resolve_run(
        key, project=project, settings=settings or load_settings(), store=store
    )
    dataset = project.feature(task.dataset)
    outcome, test = candidate_run.predict(context, base, store=store, seeds=[task.seeds.seed])
    table = predictions.predictions_table(
        test, outcome.predictions, task=task, row_id=row_id(task, dataset)
    )
    store.write(
        cache_table(task_name),
        cache_partition(key, window),
        table.schema,
        table.to_batches(),
    )
    frame = table.to_pandas()
    if not same_rows(frame, candidate_predictions):  # a new partition landed meanwhile
        raise WindowMovedError(
            f"The rolling suite {task_name}/{task.test_suite} moved to {window[0]}..{window[1]} "
            "while this candidate was evaluated on an older window: evaluate it again "
            "(re-execute the run), its baseline is then compared on the same window."
        )
    return frame
