"""The process a candidate runs in (started by :mod:`clearlake.evaluation.runner`).

Run as a script, outside the platform's process, with the candidate's tree first on
``sys.path``. It talks to Dagster through Dagster Pipes: the extras say where the training
and held-out frames are, the entrypoint and the parameters; logs go back to the run.
Only the standard library, NumPy, pandas, pyarrow and dagster-pipes are imported here, so
the candidate's own modules are what its code sees.
"""

import importlib
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster_pipes import PipesContext, open_dagster_pipes

MALFORMED_EXIT_CODE = 3


def as_prediction_column(raw: Any) -> tuple[pa.Array | None, str | None]:
    """Predictions as a 1-D Arrow array, or the reason they cannot be one."""
    try:
        values = np.asarray(raw.to_numpy() if hasattr(raw, "to_numpy") else raw)
    except Exception as exc:  # anything a candidate might return
        return None, f"not array-like ({type(raw).__name__}: {exc})"
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        return None, f"expected one value per row, got an array of shape {values.shape}"
    try:
        return pa.array(values, from_pandas=True), None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        return None, f"values of mixed or unsupported types ({exc})"


def run(pipes: PipesContext) -> int:
    extras = pipes.extras
    sys.path.insert(0, extras["worktree"])
    module_name, class_name = extras["entrypoint"].split(":")
    algorithm_class = getattr(importlib.import_module(module_name), class_name)
    algorithm = algorithm_class(**extras["parameters"])
    train = pd.read_parquet(extras["train_path"])
    test = pd.read_parquet(extras["test_path"])
    pipes.log.info(f"fitting {extras['entrypoint']} on {len(train)} rows")
    started = time.perf_counter()
    algorithm.fit(train)
    fitted = time.perf_counter()
    pipes.log.info(f"predicting {len(test)} rows")
    raw = algorithm.predict(test)
    predicted = time.perf_counter()
    column, problem = as_prediction_column(raw)
    timing = {"fit_seconds": fitted - started, "predict_seconds": predicted - fitted}
    if column is None:
        pipes.report_custom_message({"malformed": problem, **timing})
        return MALFORMED_EXIT_CODE
    pq.write_table(pa.table({"prediction": column}), extras["output_path"])
    pipes.report_custom_message(timing)
    return 0


def main() -> int:
    with open_dagster_pipes() as pipes:
        return run(pipes)


if __name__ == "__main__":
    sys.exit(main())
