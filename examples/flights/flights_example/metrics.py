"""The flights example's own metrics (referenced as ``module:function`` in clearlake.yaml).

A custom metric is ``function(actual, predicted) -> float`` on NumPy arrays; Clearlake
also calls it on bootstrap resamples of the rows, so it must be a pure function of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WITHIN_MINUTES = 15.0
"""Airlines count a flight on time when it arrives within 15 minutes of schedule (DOT)."""


def within_15_minutes(actual: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> float:
    """Share of flights whose predicted arrival delay is within 15 minutes of the real one."""
    return float(np.mean(np.abs(np.asarray(predicted) - np.asarray(actual)) <= WITHIN_MINUTES))
