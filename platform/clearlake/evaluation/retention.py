"""Which old candidates leave Dagster's partition list (``evaluation.retention``).

Dagster recommends at most ~100,000 partitions per asset; at 200 commits a day a task
reaches that in ~500 days. Pruning removes a candidate's *dynamic partition* only: its
predictions, scores, comparison and gate outcome stay in the lake, its rows in the task's
candidate index, so the leaderboard, the trends, ``clearlake candidates`` and compare still
show it (they read the index and the lake, not the partition list). Re-evaluating a
pruned commit registers it again.

Never pruned: a candidate newer than the policy's bounds (``keep_last`` per repository,
``keep_days``), one the configuration names (a repository's champion baseline, the task's
calibration champion, a monitor's pinned commit), the task's best candidate on its primary
metric (the default champion), the baseline of any kept candidate, and a registered
candidate the index does not know yet (its evaluation is under way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from clearlake.evaluation import candidate_index, metrics
from clearlake.evaluation import gate as gates
from clearlake.evaluation.candidates import CandidateKey
from clearlake.lake.store import LakeStore
from clearlake.project.config import RetentionConfig
from clearlake.project.load import Project


@dataclass(frozen=True)
class PrunePlan:
    task: str
    prune: list[str]
    """Registered candidates to remove from the partition list, oldest first."""
    kept: int
    """Registered candidates that stay."""
    protected: list[str]
    """Old enough to go, kept because something refers to them."""


def _matches(key: str, references: Iterable[str]) -> bool:
    parsed = CandidateKey.parse(key)
    for reference in references:
        repo, _, sha = reference.partition("@")
        if (
            repo == parsed.repo
            and sha
            and (sha.startswith(parsed.commit) or parsed.commit.startswith(sha))
        ):
            return True
    return False


def configured_references(project: Project, task: str) -> set[str]:
    """``repo@sha`` of every commit the configuration names for ``task``."""
    config = project.task(task)
    found = set()
    for repository in project.config.repositories:
        if project.task_of(repository.name) == task and repository.baseline.commit:
            found.add(f"{repository.name}@{repository.baseline.commit}")
    champion = getattr(getattr(config, "calibration", None), "champion", None)
    if isinstance(champion, str) and "@" in champion:
        found.add(champion)
    watch = getattr(getattr(config, "monitor", None), "watch", None)
    if isinstance(watch, str) and "@" in watch:
        found.add(watch)
    return found


def best_candidate(index: pd.DataFrame, *, metric: str, lower_is_better: bool) -> str | None:
    """The candidate with the best overall ``metric`` (the default champion)."""
    rows = candidate_index.scored(index)
    rows = rows[(rows["metric"] == metric) & (rows["subgroup_kind"] == "overall")]
    if rows.empty:
        return None
    ordered = rows.sort_values("value", ascending=lower_is_better, kind="stable")
    return str(ordered["candidate"].iloc[0])


def plan_prune(
    task: str,
    index: pd.DataFrame,
    registered: Iterable[str],
    *,
    policy: RetentionConfig,
    now: dt.datetime,
    references: Iterable[str] = (),
    baseline_of: Callable[[str], str | None] = lambda _: None,
) -> PrunePlan:
    """The plan for one task: ``index`` its candidate index, ``registered`` the keys of
    its partition list, ``baseline_of(key)`` the baseline a candidate was compared with."""
    registered = set(registered)
    known = candidate_index.per_candidate(index)
    known = known[known["candidate"].isin(registered)].copy()
    known["committed_at"] = pd.to_datetime(known["committed_at"], utc=True)
    known = known.sort_values("committed_at", ascending=False, na_position="first")
    young: set[str] = set()
    if policy.keep_last is not None:
        young |= set(known.groupby("repo", sort=False).head(policy.keep_last)["candidate"])
    if policy.keep_days is not None:
        cutoff = pd.Timestamp(now - dt.timedelta(days=policy.keep_days))
        recent = known["committed_at"].isna() | (known["committed_at"] >= cutoff)
        young |= set(known.loc[recent, "candidate"])
    references = set(references)
    held = {b for b in (baseline_of(k) for k in sorted(young)) if b}
    old = [k for k in reversed(known["candidate"].tolist()) if k not in young]
    protected = [k for k in old if k in held or _matches(k, references)]
    prune = [k for k in old if k not in set(protected)]
    return PrunePlan(task=task, prune=prune, kept=len(registered) - len(prune), protected=protected)


def task_plan(
    project: Project,
    task: str,
    index: pd.DataFrame,
    registered: Iterable[str],
    *,
    policy: RetentionConfig,
    now: dt.datetime,
    baseline_of: Callable[[str], str | None],
) -> PrunePlan:
    """:func:`plan_prune` with the references the project and the index hold."""
    config = project.task(task)
    best = best_candidate(
        index,
        metric=config.primary,
        lower_is_better=metrics.lower_is_better(config, config.primary),
    )
    references = configured_references(project, task) | ({best} if best else set())
    return plan_prune(
        task,
        index,
        registered,
        policy=policy,
        now=now,
        references=references,
        baseline_of=baseline_of,
    )


def prune_task(
    project: Project,
    store: LakeStore,
    task: str,
    *,
    registered: Callable[[], Iterable[str]],
    delete: Callable[[str], None],
    policy: RetentionConfig,
    dry_run: bool,
    now: dt.datetime | None = None,
) -> PrunePlan | None:
    """Plan (and unless ``dry_run`` apply, ``delete(key)`` each) one task's pruning;
    ``registered()`` lists its partition keys (once a run: the job, never a tick).
    ``None`` when the task has no candidate index yet (nothing is pruned before the
    leaderboard built it)."""
    index = candidate_index.read_index(store, task)
    if index is None:
        return None

    def baseline_of(key: str) -> str | None:
        outcome = gates.load_outcome(store, task, key)
        return outcome.baseline if outcome is not None else None

    plan = task_plan(
        project,
        task,
        index,
        registered(),
        policy=policy,
        now=now or dt.datetime.now(dt.UTC),
        baseline_of=baseline_of,
    )
    if not dry_run:
        for key in plan.prune:
            delete(key)
    return plan
