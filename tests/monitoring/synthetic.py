"""Synthetic labelled days of a regression task: a model whose MAE is known per subgroup."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from clearlake.project.config import TaskConfig

FIRST = dt.date(2025, 1, 1)
TASK = TaskConfig.model_validate(
    {
        "dataset": "d",
        "target": "y",
        "type": "regression",
        "suites": {"train": {"start": "2025-01-01", "end": "2025-01-02"}},
        "test_suite": "train",
        "metrics": ["mae"],
        "subgroups": ["region"],
        "min_subgroup_rows": 20,
    }
)


def days(
    count: int,
    *,
    rows: int,
    first: dt.date = FIRST,
    degrade: dict[str, float] | None = None,
    from_day: int = 0,
    until_day: int | None = None,
    mix: tuple[float, float, float] = (0.5, 0.3, 0.2),
    seed: int = 0,
) -> pd.DataFrame:
    """``count`` days of ``rows`` rows: ``actual = prediction + N(0, 1)``; from day
    ``from_day`` (until ``until_day``) the noise of each region in ``degrade`` is scaled by
    its factor (a factor 1.1 is a 10% worse MAE in that region)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        region = rng.choice(["north", "south", "west"], rows, p=list(mix))
        prediction = rng.normal(10, 3, rows)
        scale = np.ones(rows)
        if degrade and i >= from_day and (until_day is None or i < until_day):
            for name, factor in degrade.items():
                scale[region == name] = factor
        frames.append(
            pd.DataFrame(
                {
                    "day": (first + dt.timedelta(days=i)).isoformat(),
                    "region": region,
                    "actual": prediction + rng.normal(0, 1, rows) * scale,
                    "prediction": prediction,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
