"""A small project with a monitored binary task: days written straight into the lake, a
real git repository with a seeded stochastic model, the monitor's assets run by Dagster,
and a webhook receiver on 127.0.0.1 that records what it is told."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from assets.evaluation.suites import suite_assets
from assets.monitoring.monitors import monitor_assets
from clearlake.demo.repos import SampleCommit, add_commit, init_repository
from clearlake.lake.store import LakeStore
from clearlake.names import suite_key
from clearlake.orchestration import runs
from clearlake.orchestration.environment import resources_for
from clearlake.project.load import Project, load_project
from clearlake.settings import load_settings
from tests.evaluation.evaluation_env import SHOP_FEATURES, variables_set

FIRST = dt.date(2024, 3, 1)
DAYS = 75
ROWS = 400
TASK = "returns"
REPO = "returns-model"
REGIONS = ["north", "south", "west"]
MIX = [0.45, 0.40, 0.15]
MODEL = SampleCommit(
    "Seeded logistic regression",
    {
        "model.py": "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n\n"
        "class Model:\n"
        "    def fit(self, train, seed=None):\n"
        "        rng = np.random.RandomState(seed)\n"
        "        rows = rng.choice(len(train), len(train))  # a bootstrap sample: stochastic\n"
        "        part = train.iloc[rows]\n"
        "        self.model = LogisticRegression().fit(self._x(part), part['returned'])\n"
        "    def _x(self, frame):\n"
        "        return np.column_stack([frame['amount'] / 100, frame['region'] == 'west'])\n"
        "    def predict(self, frame):\n"
        "        return self.model.predict_proba(self._x(frame))[:, 1]\n"
    },
)


def config(monitor: dict[str, Any], *, days: int = DAYS) -> dict[str, Any]:
    return {
        "project": {"name": "shop"},
        "sources": {
            "orders": {
                "partition": {
                    "column": "order_date",
                    "first_day": FIRST.isoformat(),
                    "last_day": (FIRST + dt.timedelta(days=days - 1)).isoformat(),
                },
                "keys": ["order_id"],
                "columns": {"order_id": "string not null", "order_date": "date32 not null"},
            }
        },
        "features": {
            "returns": {
                "function": "shop_features:returns",
                "inputs": ["orders"],
                "row_id": "order_id",
                "date_column": "order_date",
                "columns": {
                    "order_id": "string not null",
                    "order_date": "date32 not null",
                    "region": "string not null",
                    "amount": "float64 not null",
                    "returned": "bool",
                },
            }
        },
        "tasks": {
            TASK: {
                "dataset": "returns",
                "target": "returned",
                "type": "binary",
                "suites": {
                    "train": {"start": "2024-03-01", "end": "2024-03-14", "role": "train"},
                    "holdout": {"start": "2024-03-15", "end": "2024-03-28", "role": "test"},
                },
                "metrics": ["log_loss", "brier"],
                "subgroups": ["region"],
                "min_subgroup_rows": 40,
                "verdict": {"bootstrap": {"samples": 60}},
                "monitor": monitor,
            }
        },
        "repositories": [{"name": REPO, "task": TASK, "location": "", "entrypoint": "model:Model"}],
    }


def write_days(
    store: LakeStore,
    *,
    flip_west: tuple[int, int] | None = None,
    unlabelled: tuple[int, ...] = (),
    days: int = DAYS,
    rows: int = ROWS,
) -> None:
    """Orders whose return probability grows with the amount and is high in 'west'; on the
    days ``flip_west`` = ``(from, until)`` west's orders are almost never returned any more
    (the world changed there: the model's log loss in west rises by about half, overall by
    under a tenth)."""
    rng = np.random.default_rng(7)
    schema = pa.schema(
        [
            pa.field("order_id", pa.string(), nullable=False),
            pa.field("order_date", pa.date32(), nullable=False),
            pa.field("region", pa.string(), nullable=False),
            pa.field("amount", pa.float64(), nullable=False),
            pa.field("returned", pa.bool_()),
        ]
    )
    for i in range(days):
        day = FIRST + dt.timedelta(days=i)
        region = rng.choice(REGIONS, rows, p=MIX)
        amount = rng.gamma(2.0, 50.0, rows)
        logit = -2.0 + amount / 80 + np.where(region == "west", 1.0, 0.0)
        returned = rng.random(rows) < 1 / (1 + np.exp(-logit))
        rare = rng.random(rows) < 0.05
        if flip_west and flip_west[0] <= i < flip_west[1]:
            returned = np.where(region == "west", rare, returned)
        labels: list[bool | None] = [None] * rows if i in unlabelled else returned.tolist()
        table = pa.table(
            {
                "order_id": [f"{day:%Y%m%d}-{n:04d}" for n in range(rows)],
                "order_date": [day] * rows,
                "region": region.tolist(),
                "amount": amount,
                "returned": labels,
            },
            schema=schema,
        )
        path = store.partition_file("features/returns", f"date={day.isoformat()}")
        store.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        pq.write_table(table, path, filesystem=store.fs)


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 recording every JSON body it receives."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    got: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            got.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(url=f"http://127.0.0.1:{server.server_port}/hook", received=got)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Monitored:
    home: Path
    project: Project
    store: LakeStore
    definitions: dg.Definitions
    instance: dg.DagsterInstance
    sha: str

    def day(self, index: int) -> dt.date:
        return FIRST + dt.timedelta(days=index)

    def run(self, key: dg.AssetKey, first: int | None = None, last: int | None = None) -> Any:
        window = None if first is None else (self.day(first), self.day(last or first))
        return runs.materialize(self.definitions, self.instance, [key], partition_range=window)

    def restart(self) -> None:
        """A new Dagster instance on the same home (a restarted daemon)."""
        self.instance.dispose()
        self.instance = dg.DagsterInstance.get()


@contextlib.contextmanager
def monitored(home: Path, monitor: dict[str, Any], **data: Any) -> Iterator[Monitored]:
    """The project in ``home`` with ``monitor``, its lake, repository and suites."""
    repo = home / REPO
    init_repository(repo)
    sha = add_commit(repo, MODEL, timestamp=1_714_557_600)
    raw = config(monitor, days=data.get("days", DAYS))
    raw["repositories"][0]["location"] = str(repo)
    (home / "project").mkdir(parents=True)
    path = home / "project" / "clearlake.yaml"
    path.write_text(yaml.safe_dump(raw))
    (home / "project" / "shop_features.py").write_text(SHOP_FEATURES)
    store = LakeStore(str(home / "lake"))
    write_days(store, **data)
    (home / "dagster").mkdir()
    variables = {
        "CLEARLAKE_HOME": str(home),
        "CLEARLAKE_LAKE_URL": store.url,
        "CLEARLAKE_CONFIG": str(path),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    with variables_set(variables):
        project = load_project(path)
        definitions = dg.Definitions(
            assets=[*suite_assets(project), *monitor_assets(project)],
            resources=resources_for(load_settings()),
        )
        instance = dg.DagsterInstance.get()
        made = runs.materialize(
            definitions, instance, [suite_key(TASK, "train"), suite_key(TASK, "holdout")]
        )
        assert made.success, runs.failure_message(made)
        env = Monitored(home, project, store, definitions, instance, sha)
        yield env
        env.instance.dispose()
