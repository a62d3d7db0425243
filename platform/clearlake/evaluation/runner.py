"""Running a candidate out of the platform's process, through Dagster Pipes.

The candidate's tree (checked out at its exact commit) runs in a new process group with
the platform's Python (``python -P``: the script's own folder is not put on ``sys.path``,
the candidate's tree is). Frames go in and predictions come out as Parquet files in a
temporary folder. Its stdout and stderr are forwarded line by line to the Dagster run's
log. A timeout, a cancelled run or any error kills the whole process group, so a hanging
candidate leaves nothing behind; each failure names the candidate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clearlake.evaluation import candidate_process
from clearlake.evaluation.candidates import ResolvedCandidate
from clearlake.evaluation.errors import (
    CandidateCrashedError,
    CandidateTimeoutError,
    MalformedPredictionsError,
    StageOutputError,
)
from clearlake.evaluation.predictions import expectation, validate_predictions
from clearlake.evaluation.suites import candidate_columns, load_suite
from clearlake.lake.store import LakeStore
from clearlake.project.config import FeatureConfig, TaskConfig

CHILD_SCRIPT = Path(candidate_process.__file__)
LOG_TAIL_LINES = 20
POLL_SECONDS = 0.05
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to the configured thread count unless the environment already sets them."""


@dataclass(frozen=True)
class CandidateOutcome:
    predictions: np.ndarray[Any, np.dtype[np.float64]]
    """``(rows,)``, or ``(rows, classes)`` for a multiclass task."""
    fit_seconds: float
    predict_seconds: float
    wall_seconds: float
    runs: list[np.ndarray[Any, np.dtype[np.float64]]] = dataclasses.field(default_factory=list)
    """Every seed's predictions, the first included (several only for seed runs)."""
    takes_seed: bool = False
    """Whether the algorithm's ``fit`` accepts the platform's seed."""
    identical: bool = False
    """The last run reproduced the ``reference`` predictions exactly (then runs stopped)."""


def _pump(stream: IO[str], name: str, lines: queue.Queue[tuple[str, str]]) -> None:
    for line in iter(stream.readline, ""):
        lines.put((name, line.rstrip("\n")))
    stream.close()


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_on_suites(
    context: dg.AssetExecutionContext,
    *,
    key: str,
    candidate: ResolvedCandidate,
    worktree: Path,
    task_name: str,
    task: TaskConfig,
    dataset: FeatureConfig,
    store: LakeStore,
    seeds: Sequence[int],
    reference: pa.Table | None = None,
) -> tuple[CandidateOutcome, pa.Table]:
    """``candidate`` fitted on the task's training suite, predicting its test suite (also
    returned: the rows the predictions are for): what an evaluation and a baseline's seed
    runs both do, with the columns, timeout and threads the task and repository declare."""
    train, test = (
        load_suite(store, task_name=task_name, task=task, dataset=dataset, suite_name=name)
        for name in (task.train_suite, task.test_suite)
    )
    outcome = run_candidate(
        context,
        candidate=key,
        worktree=worktree,
        entrypoint=candidate.repository.entrypoint,
        task=task,
        parameters=candidate.parameters,
        train=train.select(candidate_columns(task, dataset, train=True)),
        test=test.select(candidate_columns(task, dataset, train=False)),
        timeout_seconds=candidate.repository.timeout_seconds or task.candidate_timeout_seconds,
        threads=task.candidate_threads,
        seeds=seeds,
        reference=reference,
    )
    return outcome, test


def run_candidate(
    context: dg.AssetExecutionContext,
    *,
    candidate: str,
    worktree: Path,
    entrypoint: str,
    task: TaskConfig,
    parameters: Mapping[str, Any],
    train: pa.Table,
    test: pa.Table,
    timeout_seconds: float,
    threads: int = 1,
    seeds: Sequence[int] = (0,),
    reference: pa.Table | None = None,
) -> CandidateOutcome:
    """Fit on ``train`` and predict ``test`` (target column removed) in a child process,
    once per seed (:mod:`clearlake.evaluation.candidate_process`); the predictions are
    validated for ``task``'s type. ``PYTHONHASHSEED`` is the first seed."""
    with tempfile.TemporaryDirectory(prefix="clearlake-candidate-") as tmp:
        paths = {name: str(Path(tmp) / f"{name}.parquet") for name in ("train", "test", "output")}
        pq.write_table(train, paths["train"])
        pq.write_table(test, paths["test"])
        if reference is not None:
            paths["reference"] = str(Path(tmp) / "reference.parquet")
            pq.write_table(reference, paths["reference"])
        extras = {
            "candidate": candidate,
            "worktree": str(worktree),
            "entrypoint": entrypoint,
            "parameters": dict(parameters),
            "task_type": task.type,
            "classes": list(task.classes or []),
            "train_path": paths["train"],
            "test_path": paths["test"],
            "output_path": paths["output"],
            "seeds": [int(s) for s in seeds],
            "reference_path": paths.get("reference"),
        }
        returncode, tail, messages, wall = _run_child(
            context,
            name=candidate,
            worktree=worktree,
            extras=extras,
            seed=int(seeds[0]),
            threads=threads,
            timeout_seconds=timeout_seconds,
        )
        timing = next((m for m in messages if "fit_seconds" in m), {})
        malformed = next((m["malformed"] for m in messages if "malformed" in m), None)
        expected = expectation(task)
        if malformed is not None:
            raise MalformedPredictionsError(candidate, str(malformed), expected=expected)
        if returncode != 0:
            raise CandidateCrashedError(candidate, returncode, "\n".join(tail))
        if not Path(paths["output"]).is_file():
            raise MalformedPredictionsError(
                candidate, "no predictions were written", expected=expected
            )
        outputs = [paths["output"]] + [
            f"{paths['output']}.{i}" for i in range(1, int(timing.get("runs", 1)))
        ]
        runs = [
            validate_predictions(
                candidate, pq.read_table(path), task=task, expected_rows=test.num_rows
            )
            for path in outputs
        ]
    return CandidateOutcome(
        predictions=runs[0],
        fit_seconds=float(timing.get("fit_seconds", float("nan"))),
        predict_seconds=float(timing.get("predict_seconds", float("nan"))),
        wall_seconds=wall,
        runs=runs,
        takes_seed=bool(timing.get("takes_seed", False)),
        identical=bool(timing.get("identical", False)),
    )


@dataclass(frozen=True)
class TransformOutcome:
    train: pa.Table
    """The training frame transformed (without the target)."""
    test: pa.Table
    transform_seconds: float
    wall_seconds: float


def run_transform(
    context: dg.AssetExecutionContext,
    *,
    stage: str,
    worktree: Path,
    entrypoint: str,
    target: str,
    train: pa.Table,
    test: pa.Table,
    timeout_seconds: float,
    threads: int = 1,
    seed: int = 0,
) -> TransformOutcome:
    """A transform stage (``stage`` names it: ``repo@sha7``) fitted on ``train`` (with the
    ``target``) and transforming ``train`` without it and ``test``, in a child process at its
    commit, supervised like a model (timeout, process group, log forwarding). Its outputs
    are returned unchecked: :mod:`clearlake.evaluation.stage_outputs` checks them."""
    with tempfile.TemporaryDirectory(prefix="clearlake-stage-") as tmp:
        paths = {
            name: str(Path(tmp) / f"{name}.parquet")
            for name in ("train", "test", "train_output", "test_output")
        }
        pq.write_table(train, paths["train"])
        pq.write_table(test, paths["test"])
        extras = {
            "mode": "transform",
            "candidate": stage,
            "worktree": str(worktree),
            "entrypoint": entrypoint,
            "target": target,
            "train_path": paths["train"],
            "test_path": paths["test"],
            "train_output_path": paths["train_output"],
            "test_output_path": paths["test_output"],
            "seeds": [int(seed)],
        }
        returncode, tail, messages, wall = _run_child(
            context,
            name=stage,
            worktree=worktree,
            extras=extras,
            seed=int(seed),
            threads=threads,
            timeout_seconds=timeout_seconds,
        )
        malformed = next((m["malformed"] for m in messages if "malformed" in m), None)
        if malformed is not None:
            raise StageOutputError(stage, str(malformed))
        if returncode != 0:
            raise CandidateCrashedError(stage, returncode, "\n".join(tail))
        timing = next((m for m in messages if "transform_seconds" in m), {})
        return TransformOutcome(
            train=pq.read_table(paths["train_output"]),
            test=pq.read_table(paths["test_output"]),
            transform_seconds=float(timing.get("transform_seconds", float("nan"))),
            wall_seconds=wall,
        )


def _run_child(
    context: dg.AssetExecutionContext,
    *,
    name: str,
    worktree: Path,
    extras: dict[str, Any],
    seed: int,
    threads: int,
    timeout_seconds: float,
) -> tuple[int, list[str], list[dict[str, Any]], float]:
    """The child process (:mod:`clearlake.evaluation.candidate_process`) in a Dagster Pipes
    session at ``worktree``, supervised: its exit code, the tail of its output, the custom
    messages it reported and its wall time. ``PYTHONHASHSEED`` is ``seed``."""
    started = time.perf_counter()
    with dg.open_pipes_session(
        context=context,
        context_injector=dg.PipesTempFileContextInjector(),
        message_reader=dg.PipesTempFileMessageReader(),
        extras=extras,
    ) as session:
        returncode, tail = _supervise(
            context,
            candidate=name,
            command=[sys.executable, "-P", str(CHILD_SCRIPT)],
            cwd=worktree,
            env={
                **{variable: str(threads) for variable in THREAD_VARIABLES},
                **os.environ,
                "PYTHONHASHSEED": str(seed % 2**32),
                **session.get_bootstrap_env_vars(),
            },
            timeout_seconds=timeout_seconds,
        )
    wall = time.perf_counter() - started
    messages = [m for m in session.get_custom_messages() if isinstance(m, dict)]
    return returncode, tail, messages, wall


def _supervise(
    context: dg.AssetExecutionContext,
    *,
    candidate: str,
    command: list[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float,
) -> tuple[int, list[str]]:
    """Run ``command`` in its own process group; forward its output; enforce the timeout."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    pumps = [
        threading.Thread(target=_pump, args=(stream, name, lines), daemon=True)
        for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
    ]
    for pump in pumps:
        pump.start()
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)

    def drain() -> None:
        while True:
            try:
                name, line = lines.get_nowait()
            except queue.Empty:
                return
            tail.append(line)
            log = context.log.warning if name == "stderr" else context.log.info
            log(f"[{candidate} {name}] {line}")

    deadline = time.monotonic() + timeout_seconds
    try:
        while process.poll() is None:
            drain()
            if time.monotonic() > deadline:
                raise CandidateTimeoutError(candidate, timeout_seconds)
            time.sleep(POLL_SECONDS)
    finally:
        # Whatever happened, nothing of the candidate outlives this call (its children
        # included), then the rest of its output is forwarded.
        _kill_group(process)
        for pump in pumps:
            pump.join(timeout=5)
        drain()
    return process.returncode, list(tail)
