"""The process a candidate runs in (started by :mod:`clearlake.evaluation.runner`).

Run as a script, outside the platform's process, with the candidate's tree first on
``sys.path``. It talks to Dagster through Dagster Pipes: the extras say where the training
and held-out frames are, the entrypoint and the parameters; logs go back to the run.
Only the standard library, NumPy, pandas, pyarrow and dagster-pipes are imported here, so
the candidate's own modules are what its code sees.

Seeds (``extras["seeds"]``, at least one): before each fit, Python's ``random`` and NumPy's
global generator are seeded with the run's seed (the hash seed, ``PYTHONHASHSEED``, is set
by the runner for the whole process), and ``fit(train, seed=…)`` receives it when ``fit``
takes a ``seed`` parameter. Several seeds are several fits of fresh instances in this one
process (the baseline's seed runs: no process start, no re-read of the frames per seed);
with ``reference_path`` (the baseline's own predictions) the runs stop at the first that
reproduces them exactly — a deterministic algorithm costs one extra fit, no more.

A transform stage of a pipeline (``extras["mode"] == "transform"``) is run the same way:
``Class()``, an optional ``fit`` on the training frame with the target, then ``transform``
of the training frame without it and of the held-out frame (:func:`run_transform`).
"""

import importlib
import inspect
import random
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster_pipes import PipesContext, open_dagster_pipes

MALFORMED_EXIT_CODE = 3


def as_prediction_table(raw: Any, classes: list[str] | None) -> tuple[pa.Table | None, str | None]:
    """Predictions as an Arrow table, or the reason they cannot be one.

    One value per row becomes the column ``prediction``. A 2-D result (multiclass
    probabilities) becomes one column per class, ``c0``, ``c1``…; a DataFrame whose columns
    are the declared class names is put in declared order first. The platform validates
    the result against the task (:func:`clearlake.evaluation.predictions.validate_predictions`).
    """
    if classes and isinstance(raw, pd.DataFrame):
        names = [str(c) for c in raw.columns]
        if sorted(names) == sorted(classes):
            raw = raw.set_axis(names, axis=1)[classes]
    try:
        values = np.asarray(raw.to_numpy() if hasattr(raw, "to_numpy") else raw)
    except Exception as exc:  # anything a candidate might return
        return None, f"not array-like ({type(raw).__name__}: {exc})"
    if values.ndim == 2 and values.shape[1] == 1 and not (classes and len(classes) == 1):
        values = values.reshape(-1)
    if values.ndim == 2 and not classes and values.shape[0] == 1:
        values = values.reshape(-1)
    try:
        if values.ndim == 1:
            return pa.table({"prediction": pa.array(values, from_pandas=True)}), None
        if values.ndim == 2:
            return pa.table(
                {f"c{i}": pa.array(values[:, i], from_pandas=True) for i in range(values.shape[1])}
            ), None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        return None, f"values of mixed or unsupported types ({exc})"
    return None, f"expected one value (or one value per class) per row, got shape {values.shape}"


def takes_seed(algorithm: Any) -> bool:
    """Whether ``fit`` accepts the platform's seed (``fit(train, seed=…)``)."""
    try:
        parameters = inspect.signature(algorithm.fit).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _same(table: pa.Table, reference: pa.Table | None) -> bool:
    if reference is None or table.column_names != reference.column_names:
        return False
    mine, theirs = table.to_pandas().to_numpy(), reference.to_pandas().to_numpy()
    return mine.shape == theirs.shape and bool(np.array_equal(mine, theirs))


def run_transform(pipes: PipesContext, stage_class: Any) -> int:
    """A transform stage: optional ``fit(train[, seed])`` on the training frame with the
    target, then ``transform`` of the training frame (without it) and the held-out frame;
    each output frame is written as Parquet for the platform to check."""
    extras = pipes.extras
    train = pd.read_parquet(extras["train_path"])
    test = pd.read_parquet(extras["test_path"])
    seed = int((extras.get("seeds") or [0])[0])
    random.seed(seed)
    np.random.seed(seed % 2**32)
    stage = stage_class()
    started = time.perf_counter()
    fit = getattr(stage, "fit", None)
    if callable(fit):
        pipes.log.info(f"fitting {extras['entrypoint']} on {len(train)} rows (seed {seed})")
        if takes_seed(stage):
            fit(train, seed=seed)
        else:
            fit(train)
    target = extras["target"]
    outputs = {"train": train.drop(columns=[target]), "test": test}
    for name, frame in outputs.items():
        pipes.log.info(f"transforming {len(frame)} {name} rows")
        result = stage.transform(frame)
        if not isinstance(result, pd.DataFrame):
            pipes.report_custom_message(
                {"malformed": f"transform returned {type(result).__name__}, not a DataFrame"}
            )
            return MALFORMED_EXIT_CODE
        try:
            table = pa.Table.from_pandas(result, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            pipes.report_custom_message(
                {"malformed": f"an output column holds mixed types ({exc})"}
            )
            return MALFORMED_EXIT_CODE
        pq.write_table(table.replace_schema_metadata(None), extras[f"{name}_output_path"])
    pipes.report_custom_message({"transform_seconds": time.perf_counter() - started})
    return 0


def run(pipes: PipesContext) -> int:
    extras = pipes.extras
    sys.path.insert(0, extras["worktree"])
    module_name, class_name = extras["entrypoint"].split(":")
    algorithm_class = getattr(importlib.import_module(module_name), class_name)
    if extras.get("mode") == "transform":
        return run_transform(pipes, algorithm_class)
    train = pd.read_parquet(extras["train_path"])
    test = pd.read_parquet(extras["test_path"])
    seeds = [int(s) for s in extras.get("seeds") or [0]]
    reference_path = extras.get("reference_path")
    reference = pq.read_table(reference_path) if reference_path else None
    timing: dict[str, Any] = {"fit_seconds": 0.0, "predict_seconds": 0.0, "runs": 0}
    for index, seed in enumerate(seeds):
        random.seed(seed)
        np.random.seed(seed % 2**32)
        algorithm = algorithm_class(**extras["parameters"])
        seeded = takes_seed(algorithm)
        timing["takes_seed"] = seeded
        pipes.log.info(f"fitting {extras['entrypoint']} on {len(train)} rows (seed {seed})")
        started = time.perf_counter()
        if seeded:
            algorithm.fit(train, seed=seed)
        else:
            algorithm.fit(train)
        fitted = time.perf_counter()
        pipes.log.info(f"predicting {len(test)} rows")
        raw = algorithm.predict(test)
        predicted = time.perf_counter()
        table, problem = as_prediction_table(raw, extras.get("classes"))
        timing["fit_seconds"] += fitted - started
        timing["predict_seconds"] += predicted - fitted
        timing["runs"] = index + 1
        if table is None:
            pipes.report_custom_message({"malformed": problem, **timing})
            return MALFORMED_EXIT_CODE
        pq.write_table(
            table, extras["output_path"] if index == 0 else f"{extras['output_path']}.{index}"
        )
        if _same(table, reference):
            timing["identical"] = True
            break
    pipes.report_custom_message(timing)
    return 0


def main() -> int:
    with open_dagster_pipes() as pipes:
        return run(pipes)


if __name__ == "__main__":
    sys.exit(main())
