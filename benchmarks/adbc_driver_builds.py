"""Benchmark: the pinned ADBC driver builds against the newest release, side by side.

Why the project pins ``adbc-driver-postgresql`` and ``adbc-driver-sqlite``: from 1.9.0
on, the native drivers in the manylinux wheels are compiled without optimisation (every
``std::unique_ptr`` access is an out-of-line call with a ``-O0`` frame). This benchmark
installs the newest release of each driver into a scratch folder, loads both builds in
one process through the driver manager (a driver is a shared library, loaded by path)
and decodes the same results with each, interleaved:

- PostgreSQL: ``SELECT * FROM flights`` on the replication benchmark's table (≥ 3M rows);
- SQLite: ``SELECT * FROM flights`` on the sample database (the real 336,776 flights).

It records wall time and this process's CPU time (the decode; PostgreSQL's own work
runs in its server process). Results: ``benchmarks/results/adbc_driver_builds.json``.
Move the pin when the newest build costs no more CPU than the pinned one.

Run: ``uv run python benchmarks/adbc_driver_builds.py`` (PostgreSQL URL from
``CLEARLAKE_BENCH_POSTGRES_URL``, default the local trust-auth server). ``--smoke``: two
days of flights, the pinned build against itself (nothing downloaded).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import adbc_driver_manager.dbapi as adbc
import adbc_driver_postgresql
import adbc_driver_sqlite

sys.path.insert(0, str(Path(__file__).parent))
from harness import build_sample_database, start
from replication import SMOKE_THROUGH, benchmark_database, build_table_in_subprocess

DB_NAME = "clearlake_bench_adbc_builds"
REPEATS = int(os.environ.get("CLEARLAKE_BENCH_REPEATS", "3"))
DRIVERS = {"postgresql": "adbc-driver-postgresql", "sqlite": "adbc-driver-sqlite"}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def newest_builds(folder: Path) -> dict[str, tuple[str, Path]]:
    """Install the newest release of each driver into ``folder``: name → (version, lib)."""
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is not on PATH: run `make setup` first (it installs uv).")
    packages = list(DRIVERS.values())
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--target", str(folder), *packages],
        check=True,
    )
    builds = {}
    for dialect, package in DRIVERS.items():
        module = package.replace("-", "_")
        library = folder / module / f"lib{module}.so"
        version = importlib.metadata.version(package)  # the pinned one, for comparison
        dist = next(folder.glob(f"{module}-*.dist-info"))
        newest = dist.name.removeprefix(f"{module}-").removesuffix(".dist-info")
        if not library.is_file():
            raise SystemExit(f"{package} {newest} has no {library.name}: not a Linux wheel?")
        if newest == version:
            print(f"note: {package} {version} is already the newest release", flush=True)
        builds[dialect] = (newest, library)
    return builds


def decode(library: str, uri: str, query: str) -> dict[str, float]:
    """Read ``query``'s whole result as Arrow batches through the driver at ``library``."""
    with adbc.connect(driver=library, db_kwargs={"uri": uri}) as connection:
        with connection.cursor() as cursor:
            started, cpu = time.perf_counter(), _cpu_seconds()
            cursor.execute(query)
            rows = sum(batch.num_rows for batch in cursor.fetch_record_batch())
            wall, used = time.perf_counter() - started, _cpu_seconds() - cpu
        connection.rollback()
    return {"seconds": wall, "cpu_seconds": used, "rows": rows}


def compare(
    dialect: str,
    uri: str,
    pinned: tuple[str, str],
    newest: tuple[str, str],
    repeats: int = REPEATS,
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"pinned": [], "newest": []}
    libraries = {"pinned": pinned[1], "newest": newest[1]}
    for repeat in range(repeats):
        for build in runs:  # interleaved: drift in machine load hits both alike
            runs[build].append(decode(libraries[build], uri, "SELECT * FROM flights"))
            last = runs[build][-1]
            print(
                f"[{repeat + 1}/{repeats}] {dialect:<10} {build:<6} {last['seconds']:6.2f} s "
                f"wall {last['cpu_seconds']:6.2f} s CPU",
                flush=True,
            )
    summary: dict[str, Any] = {}
    for build, version in (("pinned", pinned[0]), ("newest", newest[0])):
        results = runs[build]
        summary[build] = {
            "version": version,
            "rows": int(results[0]["rows"]),
            "median_seconds": round(statistics.median(r["seconds"] for r in results), 3),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in results), 3),
            "all_cpu_seconds": [round(r["cpu_seconds"], 3) for r in results],
        }
    summary["newest_cpu_vs_pinned"] = round(
        summary["newest"]["median_cpu_seconds"] / summary["pinned"]["median_cpu_seconds"], 2
    )
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    run = start("adbc_driver_builds", __doc__, argv)
    repeats = 1 if run.smoke else REPEATS
    pinned = {
        "postgresql": (
            importlib.metadata.version("adbc-driver-postgresql"),
            adbc_driver_postgresql._driver_path(),
        ),
        "sqlite": (
            importlib.metadata.version("adbc-driver-sqlite"),
            adbc_driver_sqlite._driver_path(),
        ),
    }
    record: dict[str, Any] = {"benchmark": "adbc_driver_builds", "repeats": repeats}
    database = DB_NAME + ("_smoke" if run.smoke else "")
    with benchmark_database(database) as url, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        newest = (
            pinned  # the smoke lane downloads nothing: the pinned build against itself
            if run.smoke
            else {d: (v, str(p)) for d, (v, p) in newest_builds(folder / "newest").items()}
        )
        print("building the benchmark table …", flush=True)
        print(f"{build_table_in_subprocess(url, smoke=run.smoke):,} rows", flush=True)
        record["postgresql"] = compare(
            "postgresql", url, pinned["postgresql"], newest["postgresql"], repeats
        )
        sqlite_path = folder / "production.sqlite"
        build_sample_database(
            f"sqlite:///{sqlite_path}",
            tables=["flights"],
            through=SMOKE_THROUGH if run.smoke else None,
        )
        uri = f"file:{sqlite_path}?mode=ro"
        record["sqlite"] = compare("sqlite", uri, pinned["sqlite"], newest["sqlite"], repeats)
    record["notes"] = (
        "CPU seconds are this process's (the decode); the PostgreSQL server's work is the "
        "same for both builds. A ratio above 1 means the newest build costs more CPU."
    )
    record = run.finish(record)
    print(json.dumps({d: record[d]["newest_cpu_vs_pinned"] for d in DRIVERS}, indent=2))
    return record


if __name__ == "__main__":
    main()
