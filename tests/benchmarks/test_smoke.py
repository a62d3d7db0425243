"""The benchmarks' smoke lane: each benchmark still runs, on a tiny input.

A benchmark is run by hand, rarely, so it can break unnoticed (``data_api_throughput.py``
failed on an import for weeks). Here every benchmark in ``benchmarks/`` is imported and
asked for its options (it must take ``--smoke``, ``--out`` and ``--allow-loaded`` from
``benchmarks/harness.py``), and those whose smoke run fits the lane's budget run it end to
end, in this process, writing their JSON to a temporary folder: the figures are not judged
(a smoke input is too small to meet a target), the run and its record are.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RUN_IN_LANE = {
    "adbc_driver_builds": ("postgresql", "sqlite"),
    "data_api_throughput": ("ratios", "methods"),
    "history_scale": ("new_day", "new_commit"),
    "monitoring": ("detection", "cost_of_one_day"),
    "replication": ("ratios", "methods"),
}
"""Benchmark → keys its record must hold. The others' smallest run starts Dagster runs,
notebook kernels or a whole stack (10–60 s each): they are imported and their options
checked only (``uv run python benchmarks/<name>.py --smoke`` runs one by hand)."""
NOT_ON_THE_HARNESS = {"gate_reliability"}
"""Owned by the gate work (its own smoke options): imported only."""


def benchmark_names() -> list[str]:
    return sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "harness")


@pytest.fixture(autouse=True)
def isolated() -> Iterator[None]:
    """A benchmark may set environment variables or put folders on sys.path: undone."""
    environ, path = dict(os.environ), list(sys.path)
    sys.path.insert(0, str(BENCHMARKS))  # `from harness import …`, as when run as a script
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_the_lane_knows_every_benchmark() -> None:
    names = set(benchmark_names())
    assert set(RUN_IN_LANE) <= names
    assert {
        "commit_to_verdict",
        "new_day",
        "pipeline_reuse",
        "report_overhead",
        "stack_loop",
    } <= names


@pytest.mark.parametrize("name", benchmark_names())
def test_benchmark_imports_and_takes_the_common_options(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load(name)
    if name in NOT_ON_THE_HARNESS:
        return
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    for option in ("--smoke", "--out", "--allow-loaded"):
        assert option in shown, f"benchmarks/{name}.py lacks {option}: use benchmarks/harness.py"


@pytest.mark.parametrize("name", sorted(RUN_IN_LANE))
def test_benchmark_smoke_run_records_its_figures_and_the_load(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.json"
    returned: dict[str, Any] = load(name).main(["--smoke", "--out", str(out)])
    record = json.loads(out.read_text())
    assert record["smoke"] is True and returned["smoke"] is True
    machine = record["machine"]
    assert len(machine["load_average_before"]) == 3 and machine["cpus"] >= 1
    assert machine["overloaded"] == (
        max(machine["load_average_before"][0], machine["load_average_after"][0]) > machine["cpus"]
    )
    for key in RUN_IN_LANE[name]:
        assert record[key], f"{name}: {key} is empty"
    assert not (BENCHMARKS / "results" / f"{name}.json.tmp").exists()


def test_an_overloaded_run_is_refused_unless_allowed(tmp_path: Path) -> None:
    harness = load("harness")
    run = harness.start("probe", "Probe.", ["--out", str(tmp_path / "probe.json")])
    run.load_before = [float(harness.cores()) + 1] * 3  # as if the machine had been busy
    with pytest.raises(SystemExit) as refused:
        run.finish({"figure": 1})
    assert refused.value.code == harness.REFUSED
    assert not (tmp_path / "probe.json").exists()
    allowed = harness.start(
        "probe", "Probe.", ["--out", str(tmp_path / "p.json"), "--allow-loaded"]
    )
    allowed.load_before = run.load_before
    recorded = allowed.finish({"figure": 1})
    assert recorded["machine"]["overloaded"] is True
    assert json.loads((tmp_path / "p.json").read_text())["figure"] == 1
