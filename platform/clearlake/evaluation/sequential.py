"""Buying seed runs for a comparison that is inconclusive only for want of them.

A row is *seed-limited* when it is inconclusive and its MDE from the test rows alone is
within its minimum effect: what blows it up is the seed term ``2·σ²``. Such a comparison
may run more seeds of both sides, :data:`PER_SIDE` each per look, up to the task's
``seeds.budget_runs``, and compare again.

What the bought runs change (estimand and variance): with ``k`` runs per side, each side's
value is the *mean of its runs' metrics* — an estimate of the expected metric over training
seeds, what one fit of that code delivers — so the seed term of the delta shrinks from
``2·σ²`` to ``σ²·(1/k_c + 1/k_b)`` (``scoring.compare_predictions``). ``σ²`` is the
chi-square upper bound of the variance pooled from the repository's seed runs and the
bought runs, each run counted once (:func:`.seeds.seed_noise`). Only tightening ``σ``
could never decide a row whose point ``2·σ²`` exceeds the minimum effect's budget: the
benchmark measured 0 rows decided that way. The metric of seed-averaged predictions was
not used: it judges an ensemble nobody deploys.

Sequential procedure: Bonferroni over the planned looks (an alpha-spending of ``alpha /
looks`` at every look, the first one included — planned when the budget is declared, not
when it is used), so the probability of any false verdict over all looks stays at most
``alpha`` whatever the correlation between looks. Group-sequential boundaries (Pocock,
O'Brien-Fleming) would spend less, but need the looks' joint normal law, which is not the
canonical one here (the row term stays while the seed term shrinks). Seeds of the extra
runs start at ``seed + 1000``: apart from the evaluation's, the baseline seed runs' and the
A/A trials'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import numpy as np
import pandas as pd

from clearlake.evaluation import scoring, seeds
from clearlake.evaluation.metrics import Metric
from clearlake.evaluation.scoring import INCONCLUSIVE, Comparison
from clearlake.evaluation.seeds import SeedNoise, SeedSpread
from clearlake.lake.store import LakeStore
from clearlake.project.config import TaskConfig
from clearlake.project.load import Project
from clearlake.settings import Settings

PER_SIDE = 2
PER_LOOK = 2 * PER_SIDE
SEED_OFFSET = 1000


def planned_looks(task: TaskConfig) -> int:
    return 1 + task.seeds.budget_runs // PER_LOOK


def look_task(task: TaskConfig) -> TaskConfig:
    """The task as every look judges it: its level divided by the planned looks."""
    looks = planned_looks(task)
    if looks == 1:
        return task
    alpha = (1.0 - task.verdict.bootstrap.confidence) / looks
    bootstrap = task.verdict.bootstrap.model_copy(update={"confidence": 1.0 - alpha})
    verdict = task.verdict.model_copy(update={"bootstrap": bootstrap})
    return task.model_copy(update={"verdict": verdict})


def look_seeds(task: TaskConfig, look: int) -> list[int]:
    """The seeds of extra look ``look`` (1, 2, …), the same for both sides."""
    first = task.seeds.seed + SEED_OFFSET + PER_SIDE * (look - 1)
    return [first + i for i in range(PER_SIDE)]


def seed_limited(frame: pd.DataFrame) -> pd.Series:
    """Per row: inconclusive, and within the minimum effect but for the seed term."""
    se = frame["se"].to_numpy(dtype=float)
    seed_sd = frame["seed_sd"].to_numpy(dtype=float)
    rows_only = np.sqrt(np.clip(se**2 - 2 * seed_sd**2, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        mde_rows = frame["mde"].to_numpy(dtype=float) * rows_only / se
    limited = (
        (frame["verdict"] == INCONCLUSIVE).to_numpy()
        & (seed_sd > 0)
        & (mde_rows <= frame["min_effect"].to_numpy(dtype=float))
    )
    return pd.Series(limited, index=frame.index)


@dataclass(frozen=True)
class Bought:
    """Seed runs bought so far: predictions frames of each side, shaped like its stored
    ones (the stored run not included)."""

    baseline: tuple[pd.DataFrame, ...] = ()
    candidate: tuple[pd.DataFrame, ...] = ()

    def __add__(self, other: Bought) -> Bought:
        return Bought(self.baseline + other.baseline, self.candidate + other.candidate)

    @property
    def runs(self) -> int:
        return len(self.baseline) + len(self.candidate)


@dataclass(frozen=True)
class Resolved:
    comparison: Comparison
    noise: SeedNoise
    spent: int
    """Extra seed runs made (both sides)."""
    looks: int
    """Looks taken (1: the first comparison only)."""
    planned: int
    alpha_per_look: float

    def note(self, budget: int) -> str:
        """What was spent, for the headline (empty without a budget)."""
        if self.planned == 1:
            return ""
        averaged = ""
        if self.spent:
            averaged = f"; metrics averaged over {1 + self.spent // 2} seed runs per side"
        return (
            f"seed budget: {self.spent} of {budget} extra seed runs spent in {self.looks - 1} "
            f"extra look(s){averaged}; level split over {self.planned} planned looks "
            f"({self.alpha_per_look:.3g} each)"
        )


def resolve(
    task: TaskConfig,
    *,
    compare: Callable[[Bought], tuple[Comparison, SeedNoise]],
    more: Callable[[list[int]], Bought],
) -> Resolved:
    """Compare; while some row is seed-limited and the budget lasts, buy a look's seed runs
    (``more(seeds)``: :data:`PER_SIDE` runs of each side) and compare again with every run
    bought so far.

    ``compare(bought)`` must judge with :func:`look_task`'s level.
    """
    planned = planned_looks(task)
    alpha = (1.0 - task.verdict.bootstrap.confidence) / planned
    bought = Bought()
    comparison, noise = compare(bought)
    looks = 1
    while looks < planned and seed_limited(comparison.frame).any():
        bought += more(look_seeds(task, looks))
        looks += 1
        comparison, noise = compare(bought)
    return Resolved(comparison, noise, bought.runs, looks, planned, alpha)


def bought_spreads(
    bought: Bought, *, candidate: pd.DataFrame, task: TaskConfig, metrics: list[Metric]
) -> list[pd.DataFrame]:
    """The seed spreads the bought runs add, each run counted once: the candidate's with its
    stored run (no spread of it exists yet), the baseline's without (its stored run is in
    its cached spread already)."""
    found = []
    if bought.candidate:
        found.append(scoring.seed_spread([candidate, *bought.candidate], task, metrics))
    if len(bought.baseline) > 1:
        found.append(scoring.seed_spread(list(bought.baseline), task, metrics))
    return found


def buy_seed_runs(
    context: dg.AssetExecutionContext,
    *,
    project: Project,
    task_name: str,
    store: LakeStore,
    sides: tuple[str, str],
    frames: tuple[pd.DataFrame, pd.DataFrame],
    spread: SeedSpread,
    metrics: list[Metric],
    settings: Settings | None = None,
) -> Resolved:
    """The comparison of candidate ``sides[1]`` with baseline ``sides[0]`` (their stored
    predictions ``frames``, same order), with seed runs bought as :func:`resolve` decides."""
    task = project.task(task_name)
    judged = look_task(task)
    baseline_frame, candidate_frame = frames

    def compare(bought: Bought) -> tuple[Comparison, SeedNoise]:
        extra = bought_spreads(bought, candidate=candidate_frame, task=task, metrics=metrics)
        noise = seeds.seed_noise(
            store, task_name=task_name, task=task, spread=spread, sides=list(sides), extra=extra
        )
        compared = scoring.compare_predictions(
            candidate_frame,
            baseline_frame,
            judged,
            metrics,
            seed_spread=noise.frame,
            candidate_runs=bought.candidate,
            baseline_runs=bought.baseline,
        )
        return compared, noise

    def more(look: list[int]) -> Bought:
        found = []
        for key, predictions in zip(sides, frames, strict=True):
            runs = seeds.seeded_runs(
                context,
                project=project,
                task_name=task_name,
                key=key,
                store=store,
                predictions=predictions,
                seeds=look,
                settings=settings,
            )
            found.append(tuple(runs.frames))
        context.log.info(f"bought seed runs {look} of {' and '.join(sides)}")
        return Bought(baseline=found[0], candidate=found[1])

    return resolve(task, compare=compare, more=more)
