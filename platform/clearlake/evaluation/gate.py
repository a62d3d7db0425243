"""The gate outcome of one comparison: passed / blocked / inconclusive / no baseline.

Computed once, where the comparison is made, and stored twice: as the comparison's
metadata (``gate``, ``gate_summary``, ``gate_record``) and as a small JSON record in the
lake (``<lake>/evaluation/<task>/gate/<key>.json``). The check, the leaderboard, the
gallery, the report, the CLI and CI all print :meth:`GateOutcome.headline` of that record
and never re-derive it from verdicts — five readings of one comparison disagreed before.

* **blocked**: some metric regressed (overall or in a subgroup), or there is no baseline
  and the repository declares ``no_baseline: block``;
* **inconclusive**: nothing regressed, but the primary metric overall cannot detect its
  declared minimum effect (the check passes; CI exits 0 and prints why);
* **no baseline**: nothing to compare with and ``no_baseline: allow``;
* **passed**: otherwise. Inconclusive subgroups are listed with their MDE either way.

The headline names the cause: a blocked outcome leads with its most severe regression —
the largest delta *relative to its minimum effect*, so one subgroup wrecked outranks a
small overall drop — and a passed candidate better overall on every metric says
``improved vs <baseline>``, on some metric ``passed …; improved: …``. When candidate and
baseline are combinations of a pipeline's stages, the headline names the stage(s) whose
commit differs right after the baseline (``blocked vs <baseline>: stage late-features
1a2b3c4→9f8e7d6: log_loss …``): the blame comes from the two keys, nothing else.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clearlake.evaluation.candidates import CandidateKey, InvalidCandidateKeyError, changed_stages
from clearlake.evaluation.metrics import min_effects
from clearlake.evaluation.scoring import IMPROVED, INCONCLUSIVE, REGRESSED
from clearlake.lake.json_records import json_path, read_json, write_json
from clearlake.lake.store import LakeStore
from clearlake.project.config import TaskConfig

PASSED, BLOCKED, GATE_INCONCLUSIVE, NO_BASELINE = (
    "passed",
    "blocked",
    "inconclusive",
    "no baseline",
)
STATUSES = (PASSED, BLOCKED, GATE_INCONCLUSIVE, NO_BASELINE)


def gate_table(task: str) -> str:
    return f"evaluation/{task}/gate"


def _where(kind: str, subgroup: str) -> str:
    return "overall" if kind == "overall" else f"{kind}={subgroup}"


@dataclass(frozen=True)
class Reason:
    """A regressed row: what blocks the gate."""

    metric: str
    subgroup: str
    delta: float
    ci_low: float
    ci_high: float
    n_rows: int
    min_effect: float

    @property
    def severity(self) -> float:
        """The delta in minimum effects (infinite when the minimum effect is 0)."""
        if self.min_effect > 0:
            return abs(self.delta) / self.min_effect
        return float("inf") if self.delta else 0.0

    def text(self) -> str:
        # No square brackets: rich consoles would read them as markup.
        where = self.subgroup if self.subgroup == "overall" else f"for {self.subgroup}"
        return (
            f"{self.metric} {where} {self.delta:+.4g} (simultaneous CI {self.ci_low:.4g}..."
            f"{self.ci_high:.4g}, n={self.n_rows}, minimum effect {self.min_effect:.4g})"
        )


@dataclass(frozen=True)
class GateOutcome:
    status: str
    candidate: str
    task: str
    baseline: str | None
    baseline_note: str
    """Which baseline and why (a fallback to an ancestor is named here)."""
    reasons: list[Reason] = field(default_factory=list)
    """Regressed rows, the most severe first (:attr:`Reason.severity`)."""
    improvements: list[Reason] = field(default_factory=list)
    """Metrics improved overall (no regression anywhere), the largest first."""
    inconclusive: list[str] = field(default_factory=list)
    """``mae region=north (n=120): MDE 2.1 > minimum effect 0.24`` per inconclusive row."""
    min_effects: dict[str, str] = field(default_factory=dict)
    """Per metric, the declared minimum effect as text (``1% of the baseline``)."""
    seed_note: str = ""
    multiplicity: str = ""
    baseline_via: str = ""
    """Set when the policy's baseline was replaced (it was blocked or failed): why, for the
    headline — ``nearest passing ancestor; parent def5678 was blocked``."""
    seed_warning: str = ""
    """Set when the algorithm ignores the platform's seed: its training randomness is not
    in the verdict. Said in the headline, so every surface carries it."""
    false_alarm_rate: float | None = None
    """The task's latest A/A-calibrated false-alarm rate (share of trials blocked); None
    when the task was never calibrated."""
    calibration: str = ""
    """Where that rate comes from (``3/40 A/A trials of r@abc blocked, 2026-12-01``)."""
    interval: str = ""
    """The kind of every interval of the outcome (``scoring.interval_label``)."""
    seed_budget: str = ""
    """Extra seed runs bought for this comparison and how the level was split
    (``sequential.Resolved.note``); empty without a budget."""
    to_resolve: str = ""
    """For an inconclusive outcome: what would resolve it (more seeds, a larger suite, a
    bigger minimum effect), from the primary row's parts of its MDE."""
    stage_change: str = ""
    """For a pipeline combination: the stage(s) whose commit differs from the baseline's
    (``stage late-features 1a2b3c4→9f8e7d6``, :func:`stage_change`); empty otherwise."""

    @property
    def passed(self) -> bool:
        """What the blocking check and CI's exit code use."""
        return self.status != BLOCKED

    def headline(self) -> str:
        """The one line every surface prints: the outcome, then what qualifies it (an
        ignored seed, the calibrated false-alarm rate)."""
        return "; ".join([self._core(), *self.qualifiers()])

    def qualifiers(self) -> list[str]:
        """What a reader must know beside the verdict, in full."""
        found = [self.seed_warning] if self.seed_warning else []
        found += [self.seed_budget] if self.seed_budget else []
        if self.status == GATE_INCONCLUSIVE and self.to_resolve:
            found.append(f"to resolve: {self.to_resolve}")
        if self.false_alarm_rate is None:
            found.append(f"false-alarm rate not calibrated (clearlake gate calibrate {self.task})")
        else:
            found.append(f"false-alarm rate {self.false_alarm_rate:.0%} ({self.calibration})")
        return found

    def status_line(self, limit: int) -> str:
        """The headline in ``limit`` characters (a commit status holds 140 on GitHub): the
        qualifiers come first, short, so cutting the detail never cuts them."""
        rate = self.false_alarm_rate
        short = ["seed ignored"] if self.seed_warning else []
        short.append("false alarms not calibrated" if rate is None else f"false alarms {rate:.0%}")
        text = f"{', '.join(short)} · {self._core()}"
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _core(self) -> str:
        against = f"vs {self.baseline}" if self.baseline else "without a baseline"
        if self.baseline and self.baseline_via:
            against += f" ({self.baseline_via})"
        if self.baseline and self.stage_change:
            against += f": {self.stage_change}"
        if self.status == BLOCKED and self.reasons:
            more = f" (+{len(self.reasons) - 1} more)" if len(self.reasons) > 1 else ""
            return f"blocked {against}: {self.reasons[0].text()}{more}"
        if self.status == BLOCKED or self.status == NO_BASELINE:
            effect = "blocked" if self.status == BLOCKED else "allowed"
            return f"{self.status} ({effect}): {self.baseline_note}"
        if self.status == GATE_INCONCLUSIVE:
            return f"inconclusive {against}: {self.inconclusive[0] if self.inconclusive else ''}"
        extra = f"; {len(self.inconclusive)} row(s) inconclusive" if self.inconclusive else ""
        better = ", ".join(r.text() for r in self.improvements)
        if self.improvements and len(self.improvements) == len(self.min_effects):
            return f"improved {against}: {better}{extra}"
        if self.improvements:
            return f"passed {against}: no significant regression; improved: {better}{extra}"
        return f"passed {against}: no significant regression{extra}"

    def details(self) -> list[str]:
        """Every line of the outcome, for ``clearlake why``, comments and reports."""
        lines = [self.headline(), f"baseline: {self.baseline_note}"]
        stages = stage_list(self.candidate)
        if stages:
            lines.append(f"stages: {stages}")
        if self.stage_change:
            lines.append(f"changed: {self.stage_change}")
        lines += [f"regressed: {r.text()}" for r in self.reasons]
        lines += [f"improved: {r.text()}" for r in self.improvements]
        lines += [f"inconclusive: {text}" for text in self.inconclusive]
        if self.min_effects:
            lines.append(
                "minimum effects: " + "; ".join(f"{m} {t}" for m, t in self.min_effects.items())
            )
        if self.seed_note:
            lines.append(f"training seed: {self.seed_note}")
        if self.multiplicity:
            lines.append(f"multiplicity: {self.multiplicity}")
        if self.interval:
            lines.append(f"intervals: {self.interval}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateOutcome:
        reasons = [Reason(**r) for r in data.get("reasons", [])]
        improvements = [Reason(**r) for r in data.get("improvements", [])]
        names = {f.name for f in dataclasses.fields(cls)} - {"reasons", "improvements"}
        rest = {k: v for k, v in data.items() if k in names}
        return cls(reasons=reasons, improvements=improvements, **rest)


def _key(text: str | None) -> CandidateKey | None:
    try:
        return None if text is None else CandidateKey.parse(text)
    except InvalidCandidateKeyError:
        return None


def stage_list(candidate: str) -> str:
    """``late-features@1a2b3c4 + late-arrivals@5d6e7f8``: each stage's commit of a pipeline
    combination, in pipeline order (empty for a single repository)."""
    key = _key(candidate)
    if key is None or len(key.stages) < 2:
        return ""
    return " + ".join(f"{s.repo}@{s.commit}" for s in key.stages)


def stage_change(candidate: str, baseline: str | None) -> str:
    """The stage(s) whose commit differs between two pipeline combinations (``stage
    late-features 1a2b3c4→9f8e7d6``); empty for single repositories or the same commits."""
    key, base = _key(candidate), _key(baseline)
    if key is None or base is None or len(key.stages) < 2:
        return ""
    changes = changed_stages(key, base)
    if not changes:
        return ""
    word = "stage" if len(changes) == 1 else "stages"
    return f"{word} " + ", ".join(f"{c.repo} {c.old or '(none)'}→{c.new}" for c in changes)


def min_effect_texts(task: TaskConfig) -> dict[str, str]:
    texts = {}
    for metric in task.metrics:
        relative, absolute = min_effects(task, metric.name)
        parts = [f"{relative:.3g}x the baseline" if relative else ""]
        parts.append(f"{absolute:.4g} absolute" if absolute else "")
        texts[metric.name] = " or ".join(p for p in parts if p) or "none (any significant delta)"
    return texts


def decide(
    frame: pd.DataFrame,
    *,
    task: TaskConfig,
    task_name: str,
    candidate: str,
    baseline: str | None,
    baseline_note: str,
    no_baseline: str = "allow",
    seed_note: str = "",
    baseline_via: str = "",
    seed_warning: str = "",
    false_alarm_rate: float | None = None,
    calibration: str = "",
    interval: str = "",
    seed_budget: str = "",
) -> GateOutcome:
    """The gate outcome of a comparison frame (``scoring.COMPARISON_COLUMNS``)."""
    common: dict[str, Any] = {
        "candidate": candidate,
        "task": task_name,
        "baseline_note": baseline_note,
        "min_effects": min_effect_texts(task),
        "seed_note": seed_note,
        "baseline_via": baseline_via,
        "seed_warning": seed_warning,
        "false_alarm_rate": false_alarm_rate,
        "calibration": calibration,
        "interval": interval,
        "seed_budget": seed_budget,
        "stage_change": stage_change(candidate, baseline),
        "multiplicity": f"{task.verdict.multiplicity} across every metric and subgroup",
    }
    if baseline is None:
        status = BLOCKED if no_baseline == "block" else NO_BASELINE
        return GateOutcome(status=status, baseline=None, **common)
    reasons = _by_severity(frame[frame["verdict"] == REGRESSED])
    better = (frame["verdict"] == IMPROVED) & (frame["subgroup_kind"] == "overall")
    improvements = [] if reasons else _by_severity(frame[better])
    unsure = frame[frame["verdict"] == INCONCLUSIVE]
    inconclusive = [
        f"{r['metric']} {_where(str(r['subgroup_kind']), str(r['subgroup']))} "
        f"(n={int(r['n_rows'])}): MDE {_num(r['mde'])} > minimum effect {_num(r['min_effect'])}"
        for r in _records(unsure)
    ]
    primary = (frame["metric"] == task.primary) & (frame["subgroup_kind"] == "overall")
    primary_unsure = bool((frame.loc[primary, "verdict"] == INCONCLUSIVE).any())
    if reasons:
        status = BLOCKED
    elif primary_unsure:
        status = GATE_INCONCLUSIVE
        first = [t for t in inconclusive if t.startswith(f"{task.primary} overall")]
        inconclusive = first + [t for t in inconclusive if t not in first]
        common["to_resolve"] = resolve_hint(_records(frame[primary])[0])
    else:
        status = PASSED
    return GateOutcome(
        status=status,
        baseline=baseline,
        reasons=reasons,
        improvements=improvements if status == PASSED else [],
        inconclusive=inconclusive,
        **common,
    )


def _by_severity(rows: pd.DataFrame) -> list[Reason]:
    found = [
        Reason(
            metric=str(r["metric"]),
            subgroup=_where(str(r["subgroup_kind"]), str(r["subgroup"])),
            delta=float(r["delta"]),
            ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]),
            n_rows=int(r["n_rows"]),
            min_effect=float(r["min_effect"]),
        )
        for r in _records(rows)
    ]
    return sorted(found, key=lambda r: r.severity, reverse=True)  # stable: frame order on ties


def resolve_hint(row: dict[str, Any]) -> str:
    """What would make an inconclusive row conclusive: the MDE splits into the test rows'
    part and the seed term's, ``se² = se_rows² + 2·seed_sd²``."""
    se, seed_sd = float(row["se"]), float(row["seed_sd"])
    mde, floor = float(row["mde"]), float(row["min_effect"])
    if not (np.isfinite(mde) and np.isfinite(se) and se > 0):
        return "its MDE cannot be measured (too few rows with a defined metric): a larger suite"
    seed_sd = seed_sd if np.isfinite(seed_sd) else 0.0
    rows_only = mde * float(np.sqrt(max(se**2 - 2 * seed_sd**2, 0.0))) / se
    bigger = f"a minimum effect of at least {_num(mde)} (now {_num(floor)})"
    if rows_only > floor:
        return f"a larger test suite (the rows alone give MDE {_num(rows_only)}) or {bigger}"
    return (
        f"more seed runs (seeds.budget_runs: without the seed term the MDE is "
        f"{_num(rows_only)}) or {bigger}"
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _num(value: Any) -> str:
    number = float(value)
    return f"{number:.4g}" if np.isfinite(number) else "unmeasurable"


def save_outcome(store: LakeStore, task: str, outcome: GateOutcome) -> str:
    path = json_path(store, gate_table(task), outcome.candidate)
    write_json(store, path, outcome.to_json())
    return path


def load_outcome(store: LakeStore, task: str, key: str) -> GateOutcome | None:
    found = read_json(store, json_path(store, gate_table(task), key))
    return None if found is None else GateOutcome.from_json(found)


def from_metadata(metadata: dict[str, Any]) -> GateOutcome | None:
    """The outcome recorded in a comparison's metadata (JSON or its text form)."""
    raw = metadata.get("gate_record")
    value = getattr(raw, "data", raw)
    if isinstance(value, str):
        value = json.loads(value)
    return GateOutcome.from_json(value) if isinstance(value, dict) else None
