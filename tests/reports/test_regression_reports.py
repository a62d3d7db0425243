"""A commit the blocking regression check stops still gets its report, exactly once.

Real runs of a task's evaluation job (stand-in comparison with a blocking check, real
notebook report), the real regression-report sensor and the task's follow-up report job.
"""

from __future__ import annotations

import dagster as dg
from report_harness import ReportEnv, definitions

from clearlake import names
from clearlake.names import (
    REGRESSION_REPORT_SENSOR,
    candidate_partitions_name,
    comparison_key,
    evaluation_job,
)
from clearlake.reports import gallery, gallery_books

TASK = "arrival_delay"
GOOD = "flight-delays@600d001"
BAD = "flight-delays@bad0042"
REPORT = names.task_report_key(TASK, "candidate_report")


def sensor_tick(defs: dg.Definitions, env: ReportEnv, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(REGRESSION_REPORT_SENSOR)
    with dg.build_sensor_context(instance=env.instance, cursor=cursor, definitions=defs) as ctx:
        result = sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    return result


def materialisations(env: ReportEnv, key: dg.AssetKey, partition: str) -> list[int]:
    records = env.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=10
    ).records
    return [r.storage_id for r in records]


def test_blocked_candidate_gets_its_report_once(report_env: ReportEnv) -> None:
    env, defs = report_env, definitions()
    env.instance.add_dynamic_partitions(candidate_partitions_name(TASK), [GOOD, BAD])
    job = defs.resolve_job_def(evaluation_job(TASK))
    runs = {
        key: job.execute_in_process(instance=env.instance, partition_key=key, raise_on_error=False)
        for key in (GOOD, BAD)
    }
    assert runs[GOOD].success
    assert materialisations(env, REPORT, GOOD)  # the report ran in the evaluation run
    assert not runs[BAD].success  # the check still fails the evaluation run ...
    checks = runs[BAD].get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("no_significant_regression", False)]
    assert materialisations(env, REPORT, BAD) == []  # ... and blocked the report in it
    [comparison] = materialisations(env, comparison_key(TASK), BAD)

    first = sensor_tick(defs, env, None)
    requests = [r for r in first.run_requests or [] if isinstance(r, dg.RunRequest)]
    assert [(r.partition_key, r.run_key, r.job_name) for r in requests] == [
        (BAD, f"{BAD}:{comparison}", names.report_job(TASK))
    ]
    assert sensor_tick(defs, env, first.cursor).run_requests == []

    follow_up = defs.resolve_job_def(names.report_job(TASK)).execute_in_process(
        instance=env.instance, partition_key=BAD, tags=requests[0].tags
    )
    assert follow_up.success
    made = {e.asset_key for e in follow_up.get_asset_materialization_events()}
    assert made == {REPORT}
    assert materialisations(env, comparison_key(TASK), BAD) == [comparison]  # not evaluated again
    page = (env.reports_root / "candidate_report" / BAD / "report.html").read_text()
    assert "regressed" in page and "WN" in page
    assert sensor_tick(defs, env, None).run_requests == []  # every comparison has its report

    built = gallery_books.build_gallery(
        env.reports_root, tasks={TASK: gallery.GalleryTask(candidates=[GOOD, BAD])}
    )
    commit = built.commit_pages[BAD].read_text()
    assert "regressed: mae for carrier=WN" in commit and "no report" not in commit
    assert "regressed:" not in built.commit_pages[GOOD].read_text()
