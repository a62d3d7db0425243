"""``run_demo``: the whole continuous-evaluation loop of a project on one laptop, in-process.

1. build the project's sample production database (``demo.sample_database``) if the
   source is the embedded default and there is none;
2. create the demo repositories (``demo.repositories``) at their registered locations;
3. replicate what the tasks' windows need, materialise their features and suites;
4. tick ``candidate_commit_sensor`` in-process until it finds nothing new, evaluating
   every request as a real run of its task's evaluation job (reports included), then tick
   the regression-report sensor: a commit whose run the gate blocked gets its report from
   a follow-up run (nothing evaluated again);
5. refresh every task's leaderboard and the report gallery, then print the verdicts and
   where the reports are. A pipeline task's candidates are combinations of its stages'
   commits: each is printed with the stage(s) whose commit differs from its baseline (where
   the verdict lands), and each transform stage with how often its output was computed
   and reused.

Everything is recorded in the local Dagster instance, so ``clearlake ui``, ``clearlake why``
and ``clearlake diff`` show the same history. A second run finds the same commits (their
shas are fixed) and evaluates nothing again. Stopped at any moment (SIGTERM, SIGINT), it
cancels the current run and exits; the next start resumes what was pending (``loop``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from clearlake import names
from clearlake.demo import live, loop
from clearlake.errors import ConfigurationError
from clearlake.evaluation.candidates import KEY_PATTERN, StageChange, changed_stages
from clearlake.lake.store import LakeStore
from clearlake.monitoring import storage
from clearlake.monitoring.episodes import Episode, where
from clearlake.orchestration.code_location import load_definitions
from clearlake.orchestration.lineage import latest
from clearlake.project import Project
from clearlake.project.load import current_project, sample_database_builder
from clearlake.settings import Settings, ensure_dagster_home


@dataclass
class TaskSummary:
    """One task's verdicts after the demo."""

    task: str
    primary_metric: str
    verdicts: dict[str, str] = field(default_factory=dict)
    """Per candidate, the comparison's overall verdict on the primary metric."""
    gates: dict[str, str] = field(default_factory=dict)
    """Per candidate, the gate outcome's headline (what the check, CI and reports show)."""
    stages: list[str] = field(default_factory=list)
    """A pipeline task's stages in order (empty for a single repository)."""
    changed: dict[str, list[StageChange]] = field(default_factory=dict)
    """Per pipeline combination with a baseline, the stages whose commit differs from it:
    where the comparison's verdict lands."""

    stage_outputs: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Per transform stage: combinations whose output was computed, reused, and the
    transform processes started (``transform_runs`` metadata)."""


@dataclass
class DemoSummary:
    """What the demo did and where to look next."""

    project: str
    evaluated: list[loop.Evaluated]
    tasks: list[TaskSummary]
    reported: list[loop.Evaluated] = field(default_factory=list)
    """Follow-up report runs (for commits whose evaluation run was blocked)."""
    reports: list[Path] = field(default_factory=list)
    monitors: list[str] = field(default_factory=list)
    """Lines saying what each task's monitor sees (see :func:`monitor_summaries`)."""

    def render(self) -> str:
        lines = [f"Project {self.project}: {len(self.evaluated)} candidate(s) evaluated"]
        for task in self.tasks:
            pipeline = f" — pipeline {' → '.join(task.stages)}" if task.stages else ""
            lines += [
                "",
                f"Task {task.task}{pipeline} — gate outcomes (primary metric "
                f"{task.primary_metric}):",
            ]
            for key, verdict in task.verdicts.items():
                if not task.stages:
                    lines.append(f"  {key:<26} {task.gates.get(key) or verdict}")
                    continue
                # the gate headline names the stage that changed (gate.stage_change)
                lines.append(f"  {key}")
                lines.append(f"      {task.gates.get(key) or verdict}")
            for stage, (computed, reused, runs) in task.stage_outputs.items():
                lines.append(
                    f"  stage {stage}: output computed for {computed} combination(s), reused "
                    f"by {reused}; {runs} transform run(s)"
                )
        failed = [e for e in self.evaluated if not e.success]
        if failed:
            lines += ["", "Runs that failed (a blocking check or the candidate itself):"]
            lines += [f"  {e.key}: {_reason(e.error)}" for e in failed]
        failed_reports = [e for e in self.reported if not e.success]
        if failed_reports:
            lines += ["", "Report runs that failed:"]
            lines += [f"  {e.key}: {_reason(e.error)}" for e in failed_reports]
        if self.monitors:
            lines += ["", *self.monitors]
        lines += ["", "Reports:"] + [f"  {p}" for p in self.reports]
        lines += [
            "",
            "Next: `clearlake ui` (Dagster UI), `clearlake leaderboard`, `clearlake why "
            "<asset key> --partition <candidate>`.",
        ]
        return "\n".join(lines)


def _reason(error: str | None) -> str:
    text = " ".join((error or "failed").split())
    if "AssetCheckFailedError" in text:
        return (
            f"blocked by the {names.REGRESSION_CHECK} check (gate outcome above): nothing "
            "downstream of the comparison ran; its report came from a follow-up run"
        )
    return re.sub(r"^[\w.]+(Error|Exception): ", "", text)[:240]


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
    project = current_project(settings)
    own_sample = settings.source_url == f"sqlite:///{settings.sample_db_path}"
    if _source_needs_building(settings):
        progress(f"building the sample production database at {settings.sample_db_path}")
        through = project.config.demo.sample_through if project.config.demo else None
        sample_database_builder(project)(
            settings.source_url,
            progress=lambda _: None,
            **({"through": through} if through is not None else {}),
        )
    demo = project.config.demo
    if demo is not None and demo.repositories is not None:
        progress("creating the demo algorithm repositories")
        project.load_object(demo.repositories, what="demo repositories")(settings.home)
    store = LakeStore(settings.lake_url)
    definitions = load_definitions()
    with loop.stop_on_signals():  # SIGTERM/SIGINT: cancel the current run and stop
        loop.ensure_lake(definitions, instance, store, project, progress)
        loop.ensure_features_and_suites(definitions, instance, store, project, progress)
        evaluated = loop.run_until_quiet(definitions, instance, progress)
        reported = loop.render_reports(definitions, instance, progress)
        progress("refreshing the leaderboards")
        loop.refresh_leaderboards(definitions, instance, project)
        if own_sample:  # never advance a source the demo did not build
            live.release(project, settings.source_url, definitions, instance, progress)
        if definitions.resolve_asset_graph().has(names.GALLERY):
            progress("refreshing the report gallery")
            loop.materialise(definitions, instance, [names.GALLERY])
    summary = _summarise(instance, settings, project, evaluated)
    summary.reported = reported
    summary.monitors = monitor_summaries(store, project)
    output(summary.render())
    return summary


def _summarise(
    instance: dg.DagsterInstance,
    settings: Settings,
    project: Project,
    evaluated: list[loop.Evaluated],
) -> DemoSummary:
    tasks = []
    for name, task in project.config.tasks.items():
        stages = [stage.repository for stage in task.pipeline or []]
        summary = TaskSummary(name, task.primary, stages=stages)
        partitions = instance.get_dynamic_partitions(names.candidate_partitions_name(name))
        for key in partitions:
            record = latest(instance, names.comparison_key(name), key)
            if record is not None:
                summary.verdicts[key] = str(record.metadata.get("overall_verdict", "?"))
                summary.gates[key] = str(record.metadata.get("gate_summary") or "")
                baseline = str(record.metadata.get("baseline") or "")
                if stages and KEY_PATTERN.match(baseline):
                    summary.changed[key] = changed_stages(key, baseline)
        for stage in task.transform_stages:
            outputs = [
                latest(instance, names.stage_output_key(name, stage.repository), key)
                for key in partitions
            ]
            recorded = [o.metadata for o in outputs if o is not None]
            reused = sum(1 for m in recorded if m.get("reused") == "True")
            runs = sum(int(m.get("transform_runs") or 0) for m in recorded)
            summary.stage_outputs[stage.repository] = (len(recorded) - reused, reused, runs)
        tasks.append(summary)
    root = settings.reports_root
    found = sorted(root.glob("*.html")) + sorted(root.glob("*.png"))
    return DemoSummary(project.name, evaluated, tasks, reports=found)


def monitor_summaries(store: LakeStore, project: Project) -> list[str]:
    """Per task with a ``monitor:``: the watched model, the days it was measured on, the
    primary metric's latest value per window, open alerts and drifting columns."""
    lines: list[str] = []
    for name, task in project.config.tasks.items():
        if task.monitor is None:
            continue
        status = storage.load_status(store, name)
        if status is None:
            lines.append(f"Monitor of {name}: no status yet (no day past the reference).")
            continue
        state = storage.load_state(store, name)
        lines.append(
            f"Monitor of {name} — watching {status.get('watched') or '(nothing yet)'} on "
            f"{status.get('first_day', '-')}..{status.get('last_day', '-')} "
            f"({status.get('days', 0)} labelled day(s)), against its reference "
            f"{task.monitor.reference.suite or 'window'}:"
        )
        overall = [
            s
            for s in status.get("scores") or []
            if s["subgroup_kind"] == "overall" and s["metric"] == task.primary
        ]
        if overall:
            last = max(overall, key=lambda s: str(s["day"]))
            lines.append(
                f"  {task.primary} on {last['day']}: {last['value']:.4g} "
                f"(interval {last['ci_low']:.4g}..{last['ci_high']:.4g}, n={last['n_rows']})"
            )
        opened = [Episode(**e) for e in state.to_json()["episodes"] if e["status"] == "open"]
        lines.append(f"  open alerts: {len(opened) or 'none'}")
        lines += [f"    {alert_line(e)}" for e in opened[:6]]
        if len(opened) > 6:
            lines.append(f"    (+{len(opened) - 6} more)")
        drift = status.get("drift") or []
        if drift:
            newest = max(str(d["day"]) for d in drift)
            moving = [d for d in drift if str(d["day"]) == newest and d["drifting"]]
            lines.append(
                f"  drift on {newest}: "
                + (", ".join(f"{d['column']} (PSI {d['psi']:.2f})" for d in moving) or "none")
            )
        lines.append(f"  more: clearlake monitor {name}")
    return lines


def alert_line(episode: Episode) -> str:
    """An open alert in one line: where, since when, the first degraded metric and the
    split of the overall change (the whole text: ``clearlake monitor``)."""
    first = episode.evidence[0] if episode.evidence else None
    text = f"{where(episode.subgroup_kind, episode.subgroup)} since {episode.opened}"
    if first is not None:
        text += (
            f": {first['metric']} {first['delta']:+.3g} ({first['reference_value']:.3g} → "
            f"{first['recent_value']:.3g}) over {first['window_days']} day(s)"
        )
    if episode.explanation:
        text += f"; {episode.explanation}"
    return text
