"""History scale: the marginal cost of one new lake day and one new commit as history grows.

Issue 21: a team keeps Clearlake for years, so the work of one new day (or commit) must
not grow with the history behind it. In one run, interleaved so machine load hits every
size alike, with the history synthesised by ``clearlake.testing.history`` (the files and
Dagster records real runs write):

(1) **one new day** in a lake of 30 days (the baseline) and of 1,826 days (five years):
    its replication by the real asset with its checks (schema, key nulls, row count vs the
    trailing days), the freshness check's lookup and the lake_health computations of the
    day; CPU seconds per step, and the work counted (files opened, listings, entries
    listed, Dagster records read). Target: ≤ 1.25× the 30-day lake.
(2) **one new commit** after histories of 10 (the baseline), 1,000 and 10,000 candidates
    of one task (the flights example's ``arrival_delay``): the per-commit steps that read
    the history today, run on the new commit's artefacts — the ``leaderboard`` asset
    (materialised in process) and ``clearlake candidates --task`` (the CLI, in process).
    The slope (CPU per 1,000 candidates) of each step is recorded and the steps that still
    grow are named. Target: ≤ 1.25× at the largest history vs 10.

(3) **the partition list** of a task at 10 … 100,000 candidates: Dagster's cost of
    listing it, of one lookup, of the commit sensor's bookkeeping for one new commit and
    of pruning one partition (``evaluation.retention``).
(4) **the gallery and the Data API** after 10, 1,000 and 10,000 commits' reports: the
    gallery's update for one new commit and the API's index, commit and book pages.

Not measured here (say so rather than guess): the commit sensor's git fetches (need live
remotes; bounded by ``clearlake.evaluation.fetching``). 100,000 whole candidates do not
fit: synthesising costs ~20 ms of CPU each; the partition list is measured alone.

Run: ``uv run python benchmarks/history_scale.py`` (~25 min on 2 cores; ``--smoke``: tiny
sizes, seconds; ``--only commit`` or ``--only day``: one part, the other kept from the
results file already written, with the time it was measured; also ``--only partitions``,
``--only gallery``). Results:
``benchmarks/results/history_scale.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import dagster as dg
from harness import start

from assets.evaluation.leaderboard import leaderboard_asset
from assets.lake.replication import replication_asset
from clearlake.evaluation import candidate_index, candidates, gate
from clearlake.lake import checks, records
from clearlake.lake.tables import LakeTable
from clearlake.names import scores_key
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.project.load import current_project
from clearlake.reports import lake_health
from clearlake.settings import load_settings
from clearlake.testing import history, work

TARGET_RATIO = 1.25
FIRST_DAY = dt.date(2019, 1, 1)
ROWS_PER_DAY = 40
TASK, REPO = "arrival_delay", "flight-delays"


def cpu() -> float:
    return time.process_time()


@contextmanager
def in_memory_folder(prefix: str) -> Iterator[Path]:
    """A scratch folder in memory when the machine has one: SQLite's fsync per synthesised
    record would otherwise dominate the set-up's wall time (not the measured CPU)."""
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix=prefix, dir=memory) as folder:
        yield Path(folder)


# -- (1) one new day --------------------------------------------------------------------


@dataclass
class Lake:
    days: int
    root: Path
    table: LakeTable = field(init=False)
    instance: dg.DagsterInstance = field(init=False)
    url: str = field(init=False)
    next_day: dt.date = field(init=False)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    work: list[dict[str, Any]] = field(default_factory=list)
    setup_cpu: float = 0.0

    def __post_init__(self) -> None:
        began = cpu()
        self.table = history.events_table(FIRST_DAY)
        self.url = str(self.root / "lake")
        (self.root / "dagster").mkdir(parents=True)
        self.instance = dg.DagsterInstance.local_temp(str(self.root / "dagster"))
        days = history.days_from(FIRST_DAY, self.days)
        history.synthesise_lake_days(
            self.instance, work.counting_store(self.url), self.table, days, rows=ROWS_PER_DAY
        )
        self.next_day = days[-1] + dt.timedelta(days=1)
        self.setup_cpu = round(cpu() - began, 2)

    def new_day(self) -> None:
        day, table = self.next_day, self.table
        source = history.source_database(self.root / "source.sqlite", table, [day])
        asset = replication_asset(table)
        counted = work.CountingInstance(self.instance)
        files_before = Counter(work.file_work(self.url))

        def replicate() -> None:
            result = dg.materialize(
                [asset],
                partition_key=day.isoformat(),
                instance=self.instance,
                resources={
                    "lake": work.CountingLakeResource(url=self.url),
                    "production": SourceDatabaseResource(url=source),
                },
            )
            assert result.success, f"replication of {day} failed"

        def freshness() -> None:
            instance = cast(dg.DagsterInstance, counted)
            newest = records.lake_newest_day(instance, table, source_newest=day)
            assert checks.lag_finding(table, newest, day).passed

        def health() -> None:
            store = work.counting_store(self.url)
            lake_health.volume([table.name], day.isoformat(), 7, store)
            lake_health.null_rates(table.name, day.isoformat(), 7, store)
            lake_health.freshness([table.name], day.isoformat(), store)

        steps: dict[str, Callable[[], None]] = {
            "replicate_with_checks": replicate,
            "freshness_check": freshness,
            "lake_health": health,
        }
        for name, step in steps.items():
            began = cpu()
            step()
            self.cpu.setdefault(name, []).append(cpu() - began)
        files = Counter(work.file_work(self.url))
        files.subtract(files_before)
        self.work.append({"files": dict(files), "dagster_records": dict(counted.counts)})
        self.next_day += dt.timedelta(days=1)

    def summary(self) -> dict[str, Any]:
        medians = {k: round(statistics.median(v), 4) for k, v in self.cpu.items()}
        return {
            "days": self.days,
            "setup_cpu_seconds": self.setup_cpu,
            "cpu_seconds_median": medians,
            "cpu_seconds_total_median": round(sum(medians.values()), 4),
            "work_per_new_day": self.work,
        }


def new_day_cost(sizes: tuple[int, int], repeats: int) -> dict[str, Any]:
    with in_memory_folder("clearlake-history-lake-") as folder:
        lakes = [Lake(days, folder / f"lake-{days}") for days in sizes]
        for _ in range(repeats):
            for lake in lakes:
                lake.new_day()
        short, long = (lake.summary() for lake in lakes)
    ratios = {
        step: round(long["cpu_seconds_median"][step] / short["cpu_seconds_median"][step], 3)
        for step in short["cpu_seconds_median"]
    }
    total = long["cpu_seconds_total_median"] / short["cpu_seconds_total_median"]
    same_work = [w for w in long["work_per_new_day"]] == [w for w in short["work_per_new_day"]]
    return {
        "lake_small": short,
        "lake_large": long,
        "ratio_cpu_by_step": ratios,
        "ratio_cpu_total": round(total, 3),
        "same_work_per_new_day": same_work,
        "target_ratio_max": TARGET_RATIO,
        "met": total <= TARGET_RATIO and same_work,
    }


# -- (2) one new commit -----------------------------------------------------------------


@dataclass
class CandidateHistory:
    size: int
    root: Path
    cpu: dict[str, list[float]] = field(default_factory=dict)
    setup_cpu: float = 0.0

    @contextmanager
    def environment(self) -> Iterator[None]:
        """This history's home (its lake, reports and Dagster instance), for the steps."""
        saved = {k: os.environ.get(k) for k in ("CLEARLAKE_HOME", "DAGSTER_HOME")}
        os.environ["CLEARLAKE_HOME"] = str(self.root / "home")
        os.environ["DAGSTER_HOME"] = str(self.root / "home" / "dagster")
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def instance(self) -> dg.DagsterInstance:
        from clearlake.cli.runs import instance

        return instance()

    def setup(self, metric: str) -> None:
        began = cpu()
        with self.environment():
            settings = load_settings()
            history.synthesise_candidates(
                self.instance(),
                work.counting_store(settings.lake_url),
                task=TASK,
                repo=REPO,
                count=self.size,
                metric=metric,
            )
        self.setup_cpu = round(cpu() - began, 2)

    def new_commit(self, metric: str, index: int) -> None:
        from typer.testing import CliRunner

        from clearlake.cli.main import app

        with self.environment():
            settings = load_settings()
            instance = self.instance()
            history.synthesise_candidates(
                instance,
                work.counting_store(settings.lake_url),
                task=TASK,
                repo=REPO,
                count=1,
                metric=metric,
                start=self.size + index,
            )
            project = current_project(settings)

            key = f"{REPO}@{next(history.candidate_shas(REPO, 1, self.size + index))[:7]}"
            store = work.counting_store(settings.lake_url)

            def index_append() -> None:  # the comparison step's bookkeeping, again
                candidate_index.index_candidate(
                    store,
                    TASK,
                    key,
                    commit=candidates.recorded_commit_info(store, key),
                    scores=store.read_table(
                        store.partition_file("/".join(scores_key(TASK).path), f"key={key}")
                    ).to_pandas(),
                    outcome=gate.load_outcome(store, TASK, key),
                )

            def leaderboard() -> None:
                result = dg.materialize(
                    [leaderboard_asset(project, TASK)],
                    instance=instance,
                    resources={"lake": LakeResource(url=settings.lake_url)},
                )
                assert result.success

            def candidates_cli() -> None:
                outcome = CliRunner().invoke(app, ["candidates", "--task", TASK])
                assert outcome.exit_code == 0, outcome.output

            steps: tuple[tuple[str, Callable[[], None]], ...] = (
                ("index_append", index_append),
                ("leaderboard", leaderboard),
                ("candidates_cli", candidates_cli),
            )
            for name, step in steps:
                began = cpu()
                step()
                self.cpu.setdefault(name, []).append(cpu() - began)

    def summary(self) -> dict[str, Any]:
        medians = {k: round(statistics.median(v), 4) for k, v in self.cpu.items()}
        return {
            "candidates": self.size,
            "setup_cpu_seconds": self.setup_cpu,
            "cpu_seconds_median": medians,
        }


def new_commit_cost(sizes: list[int], repeats: int) -> dict[str, Any]:
    with in_memory_folder("clearlake-history-candidates-") as folder:
        histories = [CandidateHistory(size, folder / f"history-{size}") for size in sizes]
        with histories[0].environment():
            metric = current_project(load_settings()).task(TASK).primary
        for item in histories:
            item.setup(metric)
            print(f"{item.size} candidates ready ({item.setup_cpu} s CPU)", file=sys.stderr)
        for index in range(repeats):
            for item in histories:
                item.new_commit(metric, index)
        summaries = [h.summary() for h in histories]
    base, top = summaries[0], summaries[-1]
    steps = list(base["cpu_seconds_median"])
    ratios = {
        s: round(top["cpu_seconds_median"][s] / base["cpu_seconds_median"][s], 3) for s in steps
    }
    span = (top["candidates"] - base["candidates"]) / 1000
    slopes = {
        s: round((top["cpu_seconds_median"][s] - base["cpu_seconds_median"][s]) / span, 4)
        for s in steps
    }
    middle = summaries[len(summaries) // 2]
    beyond_window = {
        s: round(top["cpu_seconds_median"][s] / middle["cpu_seconds_median"][s], 3) for s in steps
    }
    return {
        "task": TASK,
        "histories": summaries,
        "ratio_cpu_largest_vs_smallest": ratios,
        "ratio_cpu_largest_vs_middle": beyond_window,
        "note": "the leaderboard's plot and trend pages draw the newest 40 and 30 candidates: "
        "below that the drawing grows with the history (10 candidates draw 11 points), above "
        "it not; the largest-vs-middle ratio compares two histories past the window",
        "slope_cpu_seconds_per_1000_candidates": slopes,
        "steps_that_still_grow": sorted(s for s, r in ratios.items() if r > TARGET_RATIO),
        "target_ratio_max": TARGET_RATIO,
        "met": all(r <= TARGET_RATIO for r in ratios.values()),
    }


# -- (3) the partition list at 100,000 candidates ------------------------------------------


def partition_cost(sizes: list[int], repeats: int) -> dict[str, Any]:
    """Dagster's own cost of a task's candidate partition list as it grows: the whole list
    (what the retention job reads once a run), one lookup (``has_dynamic_partition``, the
    commit sensor's "known?"), and the commit sensor's bookkeeping of one new commit (two
    lookups — the commit and its baseline — and one registration, as the daemon applies
    the tick's ``AddDynamicPartitionsRequest``), and one pruned partition. Partitions only
    (``add_dynamic_partitions``, 10,000 a call): 100,000 whole candidates would take ~35
    min to synthesise at ~20 ms each, and these calls read nothing else."""
    name = "candidates__arrival_delay"
    cost: dict[int, dict[str, list[float]]] = {n: {} for n in sizes}
    setup: dict[int, float] = {}
    with in_memory_folder("clearlake-history-partitions-") as folder:
        instances = {}
        for size in sizes:
            began = cpu()
            (folder / str(size)).mkdir()
            instance = dg.DagsterInstance.local_temp(str(folder / str(size)))
            # 12 hex digits: 7 collide at 100,000 (a birthday pair is ~99% likely)
            keys = [f"{REPO}@{sha[:12]}" for sha in history.candidate_shas(REPO, size)]
            for start in range(0, size, 10_000):
                instance.add_dynamic_partitions(name, keys[start : start + 10_000])
            instances[size] = (instance, keys)
            setup[size] = round(cpu() - began, 2)
            print(f"{size} partitions ready ({setup[size]} s CPU)", file=sys.stderr)
        for index in range(repeats):
            for size, (instance, keys) in instances.items():
                new = f"{REPO}@{next(history.candidate_shas(REPO, 1, size + index))[:12]}"

                def tick(instance: dg.DagsterInstance = instance, new: str = new) -> None:
                    instance.has_dynamic_partition(name, new)
                    instance.has_dynamic_partition(name, new)
                    instance.add_dynamic_partitions(name, [new])

                steps: dict[str, Callable[[], object]] = {
                    "list_all_partitions": partial(instance.get_dynamic_partitions, name),
                    "has_dynamic_partition": partial(
                        instance.has_dynamic_partition, name, keys[len(keys) // 2]
                    ),
                    "commit_sensor_bookkeeping": tick,
                    # the commit just registered: the list keeps its size across repeats
                    "prune_one_partition": partial(instance.delete_dynamic_partition, name, new),
                }
                for step, run in steps.items():
                    began = cpu()
                    run()
                    cost[size].setdefault(step, []).append(cpu() - began)
    medians = {
        n: {k: round(statistics.median(v), 5) for k, v in c.items()} for n, c in cost.items()
    }
    base, top = medians[sizes[0]], medians[sizes[-1]]
    ratios = {k: round(top[k] / base[k], 3) if base[k] else None for k in base}
    per_tick = ("has_dynamic_partition", "commit_sensor_bookkeeping", "prune_one_partition")
    return {
        "partitions": sizes,
        "repeats": repeats,
        "setup_cpu_seconds": setup,
        "cpu_seconds_median": medians,
        "ratio_cpu_largest_vs_smallest": ratios,
        "per_commit_steps": list(per_tick),
        "target_ratio_max": TARGET_RATIO,
        "met_per_commit": all((ratios[k] or 0) <= TARGET_RATIO for k in per_tick),
        "note": "list_all_partitions grows with the list by nature: only the retention job "
        "(once a run) and the gallery's first build read it; per-commit steps never do",
    }


# -- (4) the gallery and the Data API ------------------------------------------------------


def _report(root: Path, i: int) -> Any:
    from clearlake.reports.execute import ReportRecord, write_atomic

    key = f"{REPO}@{i:07x}"
    folder = f"candidate_report/{key}"
    record = ReportRecord(
        "candidate_report",
        key,
        "succeeded",
        f"run-{i}",
        "2026-01-01T00:00:00+00:00",
        f"{folder}/report.ipynb",
        f"{folder}/report.html",
        scope="candidate",
        task=TASK,
        provenance={"committed_at": f"2026-01-01T{i:010d}", "commit_message": f"commit {i}"},
        summary={"verdict": "no significant change", "baseline": f"{REPO}@{max(i - 1, 0):07x}"},
    )
    write_atomic(root / folder / "report.json", record.to_json().encode())
    return record


def gallery_cost(sizes: list[int], repeats: int) -> dict[str, Any]:
    """One new commit's report through the gallery (update of the books) and the Data API
    (index, the commit's page, its book page; in process through the ASGI app), after
    histories of report records built once by the gallery's first build."""
    with warnings.catch_warnings():  # starlette's nudge towards httpx2, not ours to act on
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from clearlake.api.app import create_app
    from clearlake.api.config import load_api_config
    from clearlake.api.tokens import issue_token
    from clearlake.reports import gallery_books as books
    from clearlake.reports.gallery import GalleryTask, commit_page

    policy = Path(__file__).resolve().parents[1] / "examples/flights/api_policy.yaml"
    tasks = {TASK: GalleryTask(kind="regression")}
    cost: dict[int, dict[str, list[float]]] = {n: {} for n in sizes}
    setup: dict[int, float] = {}
    with in_memory_folder("clearlake-history-gallery-") as folder:
        clients = {}
        for size in sizes:
            began = cpu()
            home = folder / str(size)
            for i in range(size):
                _report(home / "reports", i)
            books.build_gallery(home / "reports", tasks=tasks)
            token = issue_token(home / "tokens.yaml", principal="stew", roles=["steward"])
            settings = load_settings(
                {
                    "CLEARLAKE_HOME": str(home),
                    "CLEARLAKE_LAKE_URL": str(home / "lake"),
                    "CLEARLAKE_API_POLICY": str(policy),
                    "CLEARLAKE_API_TOKENS_FILE": str(home / "tokens.yaml"),
                    "CLEARLAKE_API_MASK_KEY": "bench-mask-key-0123456789abcdef",
                }
            )
            client = TestClient(create_app(load_api_config(settings)))
            client.headers["Authorization"] = f"Bearer {token}"
            clients[size] = (home / "reports", client)
            setup[size] = round(cpu() - began, 2)
            print(f"gallery of {size} commits ready ({setup[size]} s CPU)", file=sys.stderr)
        for index in range(repeats):
            for size, (root, client) in clients.items():
                number = size + index
                record = _report(root, number)
                last = number // books.PAGE_SIZE + 1

                def get(path: str, client: Any = client) -> None:
                    response = client.get(f"/reports/{path}")
                    assert response.status_code == 200, (path, response.text[:200])

                steps: dict[str, Callable[[], object]] = {
                    "gallery_update": partial(
                        books.update,
                        root,
                        [books.Change(record.partition, (record,), task=TASK)],
                        tasks=tasks,
                    ),
                    "api_index": partial(get, ""),
                    "api_commit_page": partial(get, commit_page(record.partition)),
                    "api_book_page": partial(get, books.page_file(books.task_book(TASK), last)),
                }
                for step, run in steps.items():
                    began = cpu()
                    run()
                    cost[size].setdefault(step, []).append(cpu() - began)
    medians = {
        n: {k: round(statistics.median(v), 5) for k, v in c.items()} for n, c in cost.items()
    }
    base, top = medians[sizes[0]], medians[sizes[-1]]
    ratios = {k: round(top[k] / base[k], 3) for k in base}
    return {
        "commits": sizes,
        "repeats": repeats,
        "setup_cpu_seconds": setup,
        "cpu_seconds_median": medians,
        "ratio_cpu_largest_vs_smallest": ratios,
        "steps_that_still_grow": sorted(k for k, r in ratios.items() if r > TARGET_RATIO),
        "target_ratio_max": TARGET_RATIO,
        "met": all(r <= TARGET_RATIO for r in ratios.values()),
    }


RESULTS = Path(__file__).parent / "results" / "history_scale.json"
PARTS = ("day", "commit", "partitions", "gallery")


def previous_results(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    return loaded


def kept_part(previous: dict[str, Any], part: str) -> dict[str, Any]:
    """A part not measured in this run, as the previous run recorded it (and when)."""
    found = previous.get(part)
    if not isinstance(found, dict):
        return {"not_measured": f"run without --only to measure {part}"}
    when = previous.get("machine", {}).get("measured_at")
    return {**found, "kept_from_run_at": found.get("kept_from_run_at", when)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="new days/commits per size")
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="measure one part; the others are kept from the results file already written",
    )
    run = start("history_scale", __doc__, argv, parser)
    if run.smoke:
        lake_sizes, candidate_sizes, repeats = (3, 12), [2, 5], 1
        partition_sizes, gallery_sizes = [10, 100], [3, 60]
    else:
        lake_sizes, candidate_sizes, repeats = (30, 1826), [10, 1000, 10000], run.extra.repeats
        partition_sizes, gallery_sizes = [10, 1000, 10000, 100000], [10, 1000, 10000]
    started = time.perf_counter()
    only = run.extra.only
    kept = previous_results(run.out or RESULTS) if only else {}

    def part(name: str, key: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return measure() if only in (None, name) else kept_part(kept, key)

    days = part("day", "new_day", lambda: new_day_cost(lake_sizes, repeats))
    print(f"new day: {days.get('ratio_cpu_total')}x", file=sys.stderr, flush=True)
    commits = part("commit", "new_commit", lambda: new_commit_cost(candidate_sizes, repeats))
    partitions = part(
        "partitions", "partition_list", lambda: partition_cost(partition_sizes, max(repeats, 5))
    )
    galleries = part("gallery", "gallery_and_api", lambda: gallery_cost(gallery_sizes, repeats))
    result = {
        "benchmark": "history_scale",
        "description": (__doc__ or "").splitlines()[0],
        "method": {
            "history": "synthesised by clearlake.testing.history (files + Dagster records as "
            "real runs write them)",
            "lake_days": list(lake_sizes),
            "candidates": candidate_sizes,
            "repeats_interleaved": repeats,
            "measured": "process CPU seconds of each step, in process (median of repeats)",
        },
        "new_day": days,
        "new_commit": commits,
        "partition_list": partitions,
        "gallery_and_api": galleries,
        "not_measured": [
            "commit sensor tick's git fetches (needs live git remotes; bounded per "
            "repository by clearlake.evaluation.fetching)",
            "100,000 whole candidates (synthesis ~20 ms CPU per candidate): the partition "
            "list is measured at 100,000 on its own",
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
    return run.finish(result)


if __name__ == "__main__":
    outcome = main()
    print(
        {
            "new_day_ratio": outcome["new_day"].get("ratio_cpu_total"),
            "new_commit_ratios": outcome["new_commit"].get("ratio_cpu_largest_vs_smallest"),
            "machine": outcome["machine"],
        }
    )
