"""A commit the blocking regression check stops still gets its report, exactly once.

Real runs of the real ``candidate_evaluation`` job (stand-in comparison with a blocking
check, real notebook report), the real ``regression_report_sensor`` and the demo loop's
in-process follow-up (``loop.render_reports``).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import regression_definitions
from dagster._core.definitions.reconstruct import ReconstructableRepository
from report_harness import ReportEnv

from clearlake.demo import loop
from clearlake.reports import gallery
from clearlake.reports.pending import REPORT, REPORT_JOB, REPORT_SENSOR
from clearlake.settings import PROJECT_ROOT

GOOD = "delay_model@600d001"
BAD = "delay_model@bad0042"
COMPARISON = regression_definitions.COMPARISON


def job(name: str) -> dg.ReconstructableJob:
    repo = ReconstructableRepository.for_file(
        str(Path(regression_definitions.__file__)), "defs", working_directory=str(PROJECT_ROOT)
    )
    return repo.get_reconstructable_job(name)


def sensor_tick(defs: dg.Definitions, env: ReportEnv, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(REPORT_SENSOR)
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
    env, defs = report_env, regression_definitions.defs()
    env.instance.add_dynamic_partitions("candidates", [GOOD, BAD])
    runs = {
        key: dg.execute_job(
            job("candidate_evaluation"),
            env.instance,
            tags={"dagster/partition": key},
            raise_on_error=False,
        )
        for key in (GOOD, BAD)
    }
    assert runs[GOOD].success
    assert not runs[BAD].success  # the check still fails the evaluation run ...
    checks = runs[BAD].get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("no_significant_regression", False)]
    assert materialisations(env, REPORT, BAD) == []  # ... and blocked the report in it
    [comparison] = materialisations(env, COMPARISON, BAD)

    first = sensor_tick(defs, env, None)
    requests = [r for r in first.run_requests or [] if isinstance(r, dg.RunRequest)]
    assert [(r.partition_key, r.run_key, r.job_name) for r in requests] == [
        (BAD, f"{BAD}:{comparison}", None)
    ]
    assert defs.resolve_sensor_def(REPORT_SENSOR).job_name == REPORT_JOB
    assert sensor_tick(defs, env, first.cursor).run_requests == []

    done = loop.render_reports(defs, env.instance, lambda _: None, reconstructable=job(REPORT_JOB))
    assert [(d.key, d.success) for d in done] == [(BAD, True)]
    made = env.instance.all_logs(done[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert {e.asset_materialization.asset_key for e in made if e.asset_materialization} == {REPORT}
    assert materialisations(env, COMPARISON, BAD) == [comparison]  # not evaluated again
    page = (env.reports_root / "candidate_report" / f"{BAD}.html").read_text()
    assert "regressed" in page and "WN" in page

    assert loop.render_reports(defs, env.instance, print, reconstructable=job(REPORT_JOB)) == []
    assert sensor_tick(defs, env, None).run_requests == []  # every comparison has its report

    built = gallery.build_gallery(env.reports_root, candidates=[GOOD, BAD])
    commit = built.commit_pages["delay_model@bad0042"].read_text()
    assert "regressed: mae for carrier=WN" in commit and "no report" not in commit
    assert "regressed:" not in built.commit_pages["delay_model@600d001"].read_text()
