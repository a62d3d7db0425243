"""Streaming keeps the server's memory bounded whatever the range; concurrent clients
on loopback get no errors and leave memory stable. Memory is the server process's RSS,
sampled while the requests run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from live_api import LiveApi, issue_tokens, running_api, server_env

from clearlake.lake.store import LakeStore

COPIES = 12
"""Each day of the big lake holds the sample day 12 times (~970k flights for Q1)."""
MB = 1 << 20


@pytest.fixture(scope="module")
def big_api(tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore) -> Iterator[LiveApi]:
    root = tmp_path_factory.mktemp("big")
    lake = LakeStore(str(root / "lake"))
    for day in sample_lake.list_partitions("flights"):
        table = sample_lake.read_table(sample_lake.partition_file("flights", f"date={day}"))
        lake.write("flights", f"date={day}", table.schema, table.to_batches() * COPIES)
    tokens_file = root / "tokens.yaml"
    env = server_env(root / "home", lake, CLEARLAKE_API_TOKENS_FILE=str(tokens_file))
    with running_api(root / "home", env, issue_tokens(tokens_file)) as api:
        yield api


class PeakRss:
    """Samples a process's RSS every 10 ms in a thread; ``peak`` is the highest seen."""

    def __init__(self, sample: Callable[[], int]) -> None:
        self._sample = sample
        self.peak = sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._sample())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def stream_bytes(api: LiveApi, **params: str) -> int:
    total = 0
    with httpx.stream(
        "GET",
        f"{api.url}/v1/datasets/flights/data",
        params=params,
        headers=api.headers("sam"),
        timeout=120,
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            total += len(chunk)
    return total


def test_streaming_a_large_range_keeps_memory_bounded(big_api: LiveApi) -> None:
    # Warm up with the largest stream, so the allocators hold what one stream needs.
    stream_bytes(big_api, start="2013-01-01", end="2013-03-31", format="csv")
    baseline = big_api.rss()
    with PeakRss(big_api.rss) as short:
        short_bytes = stream_bytes(big_api, start="2013-01-01", end="2013-01-10", format="csv")
    with PeakRss(big_api.rss) as full:
        full_bytes = stream_bytes(big_api, start="2013-01-01", end="2013-03-31", format="csv")
    before = len(big_api.audit())
    with PeakRss(big_api.rss) as arrow:
        arrow_bytes = stream_bytes(big_api, start="2013-01-01", end="2013-03-31", format="arrow")
    print(
        f"baseline {baseline / MB:.0f} MB; 10 days {short_bytes / MB:.0f} MB csv -> peak "
        f"{short.peak / MB:.0f} MB; 90 days {full_bytes / MB:.0f} MB csv -> peak "
        f"{full.peak / MB:.0f} MB; {arrow_bytes / MB:.0f} MB arrow -> {arrow.peak / MB:.0f} MB"
    )
    assert full_bytes > 100 * MB and full_bytes > 8 * short_bytes
    assert full.peak - baseline < 48 * MB  # well under what was sent: nothing accumulates
    # 9x the range, the same memory: the 90 days send over 90 MB more than the 10 days,
    # so anything held per row would show as tens of MB. 24 MB leaves room for allocator
    # noise on a loaded machine (measured 9-12 MB quiet, 19 MB under parallel load).
    assert full.peak - short.peak < min(24 * MB, (full_bytes - short_bytes) // 4)
    assert arrow.peak - baseline < 48 * MB
    record = big_api.audit_after(before, 1)[-1]  # written just after the response went out
    assert record["rows"] == 80_789 * COPIES and record["outcome"] == "granted"


REQUESTS: list[tuple[str, dict[str, str], int]] = [
    ("/v1/datasets", {}, 200),
    ("/v1/datasets/flights/data", {"start": "2013-01-01", "end": "2013-01-07"}, 200),
    (
        "/v1/datasets/flights/data",
        {"start": "2013-02-01", "end": "2013-02-28", "filter": "dep_delay:gt:60", "format": "csv"},
        200,
    ),
    ("/v1/datasets/weather/data", {"format": "jsonl", "limit": "500"}, 200),
    ("/v1/datasets/planes/data", {"format": "parquet"}, 200),
    ("/v1/datasets/flights/data", {"columns": "nope"}, 400),
    ("/v1/datasets/flights/data", {"start": "2013-05-01", "end": "2013-05-02"}, 404),
]


def run_clients(api: LiveApi, *, clients: int, seconds: float) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        principals = ["sam", "pat", "stew"]
        with httpx.Client(base_url=api.url, timeout=60) as http:
            i = index
            while time.monotonic() < deadline:
                path, params, status = REQUESTS[i % len(REQUESTS)]
                principal = principals[i % 3]
                if principal == "pat" and ("weather" in path or "planes" in path):
                    status = 403
                response = http.get(path, params=params, headers=api.headers(principal))
                key = "ok" if response.status_code == status else f"{path} {response.status_code}"
                with lock:
                    outcomes[key] += 1
                i += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return outcomes


def test_concurrent_clients_get_no_errors_and_memory_stays_stable(live_api: LiveApi) -> None:
    outcomes = run_clients(live_api, clients=6, seconds=3)  # warm-up: pools, caches, arenas
    warm = live_api.rss()
    after_rounds = []
    with PeakRss(live_api.rss) as peak:
        for _ in range(2):
            outcomes += run_clients(live_api, clients=6, seconds=2.5)
            after_rounds.append(live_api.rss())
    print(f"load: {dict(outcomes)}; rss {warm / MB:.0f} -> {[r // MB for r in after_rounds]} MB")
    assert set(outcomes) == {"ok"}, outcomes  # every answer as expected, no 5xx, no resets
    assert outcomes["ok"] > 60
    assert max(after_rounds) - warm < 40 * MB  # no growth beyond allocator noise
    assert peak.peak - warm < 96 * MB
    assert "Traceback" not in live_api.log_path.read_text()
    assert httpx.get(f"{live_api.url}/health").status_code == 200


def test_a_stream_the_client_abandons_is_audited_as_aborted(big_api: LiveApi) -> None:
    before = len(big_api.audit())
    with httpx.stream(
        "GET",
        f"{big_api.url}/v1/datasets/flights/data",
        params={"format": "csv", "start": "2013-01-01", "end": "2013-03-31"},
        headers=big_api.headers("pat"),
    ) as response:
        received = b""
        for chunk in response.iter_raw():
            received += chunk
            if len(received) > MB:
                break
        assert received.startswith(b'"flight_date"')
    deadline = time.monotonic() + 10
    while len(big_api.audit()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    record = big_api.audit()[-1]
    assert (record["principal"], record["outcome"]) == ("pat", "aborted")
    assert 0 < record["rows"] < 80_789 * COPIES
