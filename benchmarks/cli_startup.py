"""CLI start-up: CPU time of ``clearlake --help`` (and other light calls) before and after
lazy command loading, side by side in one run.

(a) before: git ``main``'s CLI (``git archive main`` of ``platform/`` into a temporary
    folder, put first on ``PYTHONPATH``; the same virtual environment), which imports every
    command module, and with them Dagster and pandas, on every start;
(b) after: this tree's CLI (commands imported lazily, heavy libraries inside commands).

Each call is a fresh ``python -c 'from clearlake.cli.main import main; main()' ARGS`` child
(the entry point the ``clearlake`` script runs), with both trees' bytecode compiled in the
warm-up (into a temporary ``PYTHONPYCACHEPREFIX``); its CPU time (user + system) is read with
``resource.getrusage(RUSAGE_CHILDREN)`` around it. ``CLEARLAKE_BENCH_REPEATS`` rounds
(default 5) after one warm-up, before and after alternating; medians are compared.
Target (issue 19): ``clearlake --help`` under 0.3 s of CPU.
Run: ``uv run python benchmarks/cli_startup.py``; results in
``benchmarks/results/cli_startup.json``.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from harness import start

REPEATS = int(os.environ.get("CLEARLAKE_BENCH_REPEATS", "5"))
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cli_startup.json"
BASELINE_REF = "22232f3"
"""The last commit whose CLI imported every command module eagerly (before lazy loading)."""
TARGET_SECONDS = 0.3
CALLS = {
    "--help": ["--help"],
    "candidates --help": ["candidates", "--help"],
    "lake tables --help": ["lake", "tables", "--help"],
    "no such command": ["nope"],
}
ENTRY = "from clearlake.cli.main import main; main()"


def checkout(ref: str, folder: Path) -> str:
    """``platform/`` of ``ref`` under ``folder``; returns the full commit sha."""
    sha = subprocess.run(
        ["git", "rev-parse", ref], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha, "platform"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return sha


def cpu_seconds(args: list[str], env: dict[str, str]) -> float:
    """CPU time (user + system) of one fresh CLI process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    run = start("cli_startup", __doc__, argv)
    repeats = 1 if run.smoke else REPEATS
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "main"
        sha = checkout(BASELINE_REF, old)
        home = Path(tmp) / "home"  # logs of either version land here, not in ./.clearlake
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        # Both trees' bytecode is written once (warm-up) under the temporary folder.
        base |= {"CLEARLAKE_HOME": str(home), "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        variants = {
            "before": {**base, "PYTHONPATH": str(old / "platform")},
            "after": {**base, "PYTHONPATH": str(ROOT / "platform")},
        }
        for env in variants.values():  # warm-up: file cache, bytecode of the venv
            cpu_seconds(["--help"], env)
        seconds: dict[str, dict[str, list[float]]] = {
            name: {call: [] for call in CALLS} for name in variants
        }
        for _ in range(repeats):
            for call, args in CALLS.items():
                for name, env in variants.items():
                    seconds[name][call].append(round(cpu_seconds(args, env), 3))
    medians = {
        name: {call: round(statistics.median(v), 3) for call, v in calls.items()}
        for name, calls in seconds.items()
    }
    result = {
        "benchmark": "cli_startup",
        "description": __doc__.splitlines()[0] if __doc__ else "",
        "baseline": f"git {BASELINE_REF} ({sha[:12]}): its platform/ first on PYTHONPATH",
        "repeats": repeats,
        "measure": "CPU seconds (user + system) of a fresh child, getrusage(RUSAGE_CHILDREN)",
        "cpu_seconds": seconds,
        "median_cpu_seconds": medians,
        "ratio_after_vs_before": {
            call: round(medians["after"][call] / medians["before"][call], 3) for call in CALLS
        },
        "target": {"--help": f"< {TARGET_SECONDS} s CPU"},
        "target_met": medians["after"]["--help"] < TARGET_SECONDS,
    }
    print(f"--help after: {medians['after']['--help']} s (target < {TARGET_SECONDS} s)")
    return run.finish(result)


if __name__ == "__main__":
    main()
