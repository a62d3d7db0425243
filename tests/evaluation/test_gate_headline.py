"""The gate headline names the cause: the most severe regression (relative to its minimum
effect) leads, and a candidate better on every metric says it improved."""

from __future__ import annotations

import pandas as pd

from clearlake.evaluation import gate
from clearlake.evaluation.scoring import IMPROVED, INCONCLUSIVE, NO_CHANGE, REGRESSED
from clearlake.project.config import TaskConfig

CHURN = TaskConfig.model_validate(
    {
        "dataset": "d",
        "target": "y",
        "type": "binary",
        "suites": {
            "train": {"start": "2024-01-01", "end": "2024-01-02", "role": "train"},
            "holdout": {"start": "2024-01-03", "end": "2024-01-04", "role": "test"},
        },
        "metrics": ["auc", "log_loss"],
    }
)


def compared(*rows: tuple[str, str, float, float, str]) -> pd.DataFrame:
    """A comparison frame of ``(metric, where, baseline value, delta, verdict)`` rows."""
    records = []
    for metric, where, base, delta, verdict in rows:
        kind, _, group = where.partition("=")
        records.append(
            {
                "metric": metric,
                "subgroup_kind": "overall" if kind == "overall" else kind,
                "subgroup": group or "all",
                "candidate_value": base + delta,
                "baseline_value": base,
                "delta": delta,
                "ci_low": delta - 0.01,
                "ci_high": delta + 0.01,
                "verdict": verdict,
                "n_rows": 5000 if kind == "overall" else 800,
                "se": 0.004,
                "seed_sd": 0.0,
                "mde": 0.004,
                "min_effect": 0.01 * base,
            }
        )
    return pd.DataFrame(records)


def headline(frame: pd.DataFrame) -> str:
    outcome = gate.decide(
        frame, task=CHURN, task_name="churn", candidate="m@new", baseline="m@old", baseline_note=""
    )
    return outcome.headline()


def test_the_headline_leads_with_the_most_severe_regression() -> None:
    """A small overall AUC drop (1.2 minimum effects) and one region wrecked (25 of them):
    the region is the cause, whatever the frame's order."""
    found = headline(
        compared(
            ("auc", "overall", 0.80, -0.0096, REGRESSED),
            ("log_loss", "overall", 0.45, 0.001, NO_CHANGE),
            ("auc", "region=west", 0.80, -0.2, REGRESSED),
        )
    )
    assert found.startswith("blocked vs m@old: auc for region=west -0.2 (simultaneous CI ")
    assert "(+1 more)" in found
    again = headline(compared(("log_loss", "region=east", 0.45, 0.2, REGRESSED)))
    assert again.startswith("blocked vs m@old: log_loss for region=east +0.2")


def test_a_candidate_better_on_every_metric_says_it_improved() -> None:
    better = compared(
        ("auc", "overall", 0.80, 0.03, IMPROVED),
        ("log_loss", "overall", 0.45, -0.05, IMPROVED),
        ("auc", "region=west", 0.80, 0.01, NO_CHANGE),
    )
    found = headline(better)
    assert found.startswith("improved vs m@old: log_loss overall -0.05 (simultaneous CI ")
    assert ", auc overall +0.03 (" in found and "no significant regression" not in found
    some = headline(better.assign(verdict=[IMPROVED, NO_CHANGE, NO_CHANGE]))
    assert some.startswith("passed vs m@old: no significant regression; improved: auc overall")
    plain = headline(better.assign(verdict=NO_CHANGE))
    assert plain.startswith("passed vs m@old: no significant regression; false-alarm rate")
    stored = gate.GateOutcome.from_json(
        gate.decide(
            better, task=CHURN, task_name="c", candidate="m@n", baseline="m@o", baseline_note=""
        ).to_json()
    )
    assert stored.headline().startswith("improved vs m@o: log_loss overall -0.05")
    assert "improved: auc overall +0.03 (" in "\n".join(stored.details())


def test_an_inconclusive_headline_says_what_would_resolve_it() -> None:
    """The primary row held back only by the seed term: the headline leads with it and
    names more seed runs (the rows alone would see the minimum effect)."""
    unsure = compared(
        ("auc", "region=west", 0.80, 0.001, NO_CHANGE),
        ("auc", "overall", 0.80, 0.001, INCONCLUSIVE),
    ).assign(se=0.004, seed_sd=0.0025, mde=0.0112)
    found = headline(unsure)
    assert found.startswith("inconclusive vs m@old: auc overall (n=5000): MDE 0.0112 > minimum ")
    assert "; to resolve: more seed runs (seeds.budget_runs: without the seed term the MDE " in (
        found
    )
