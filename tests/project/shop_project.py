"""A project that is not flights: shop orders with a 'returned' label, declared from scratch.

Builds, in the real PostgreSQL server, an ``orders`` table of a few thousand orders over
four months (timestamps, money, categories; the return rate depends on category, amount
and express shipping, so a real model beats the base rate), and a project folder that
declares it entirely by configuration: the source, a SQL feature table, a binary task and
a repository of candidate commits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import psycopg

from clearlake.demo.repos import SampleCommit

FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 121  # 2024-01-01 .. 2024-04-30
CATEGORIES = ["books", "electronics", "fashion", "garden", "toys"]
REGIONS = ["north", "south", "east", "west"]

CONFIG = """\
project:
  name: shop
  description: Orders of a web shop; will the order be returned?

sources:
  orders:
    description: One row per order.
    partition: {column: ordered_at, first_day: 2024-01-01, last_day: 2024-04-30}
    keys: [order_id]
    columns:
      order_id: string not null
      ordered_at: timestamp[us, tz=UTC] not null
      region: string not null
      category: string not null
      amount: float64 not null
      items: int64 not null
      express: bool not null
      returned: bool not null

features:
  order_features:
    description: What is known when an order ships, and whether it came back.
    sql: features/order_features.sql
    row_id: order_id
    date_column: order_day
    columns:
      order_id: string not null
      order_day: date32 not null
      region: string not null
      category: string not null
      amount: float64 not null
      items: int64 not null
      express: bool not null
      returned: bool not null

tasks:
  returns:
    description: Probability that an order is returned.
    dataset: order_features
    target: returned
    type: binary
    suites:
      train: {start: 2024-01-01, end: 2024-02-29, role: train}
      holdout: {start: 2024-03-01, end: 2024-04-30, role: test}
    metrics: [log_loss, roc_auc, brier]
    subgroups:
      - region
      - {name: amount_band, column: amount, bins: [50, 150]}
    min_subgroup_rows: 50
    verdict:
      bootstrap: {samples: 100, seed: 7}

repositories:
  - name: returns-model
    location: "{project}/repos/returns-model"
    entrypoint: "returns_model:ReturnsModel"
"""

FEATURE_SQL = """\
select order_id, cast(ordered_at as date) as order_day, region, category, amount, items,
       express, returned
from orders
where cast(ordered_at as date) = $day
order by order_id
"""

BASE_RATE = """
import numpy as np


class ReturnsModel:
    def fit(self, train):
        self.rate = float(train["returned"].mean())

    def predict(self, frame):
        return np.full(len(frame), self.rate)
"""

LOGISTIC = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

CATEGORIES = ["books", "electronics", "fashion", "garden", "toys"]


def inputs(frame):
    x = pd.DataFrame({"amount": frame["amount"] / 100, "express": frame["express"].astype(float)})
    for c in CATEGORIES:
        x[c] = (frame["category"] == c).astype(float)
    return x.to_numpy()


class ReturnsModel:
    def fit(self, train):
        self.model = LogisticRegression(max_iter=1000).fit(inputs(train), train["returned"])

    def predict(self, frame):
        return self.model.predict_proba(inputs(frame))[:, 1]
"""

INVERTED = LOGISTIC.replace(
    "return self.model.predict_proba(inputs(frame))[:, 1]",
    "return self.model.predict_proba(inputs(frame))[:, 0]  # oops: the other class",
)

COMMITS = (
    SampleCommit("Base rate", {"returns_model.py": BASE_RATE}),
    SampleCommit(
        "Logistic regression on amount, category, express", {"returns_model.py": LOGISTIC}
    ),
    SampleCommit("Refactor the model (takes the wrong column)", {"returns_model.py": INVERTED}),
)


def create_orders(url: str, *, seed: int = 11) -> int:
    """The ``orders`` table in the database at ``url``; returns its row count."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(DAYS):
        date = FIRST_DAY + dt.timedelta(days=day)
        for n in range(int(rng.integers(25, 45))):
            category = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]
            amount = float(np.round(rng.gamma(2.0, 50.0), 2))
            express = bool(rng.random() < 0.3)
            logit = -2.2 + 0.9 * (category == "fashion") + 0.006 * amount - 0.8 * express
            returned = bool(rng.random() < 1 / (1 + np.exp(-logit)))
            at = dt.datetime.combine(date, dt.time(), dt.UTC) + dt.timedelta(
                seconds=int(rng.integers(0, 86_400))
            )
            rows.append(
                (
                    f"{date:%Y%m%d}-{n:03d}",
                    at,
                    REGIONS[int(rng.integers(0, len(REGIONS)))],
                    category,
                    amount,
                    int(rng.integers(1, 6)),
                    express,
                    returned,
                )
            )
    with psycopg.connect(url) as conn:
        conn.execute(
            "create table orders (order_id text primary key, ordered_at timestamptz not null, "
            "region text not null, category text not null, amount double precision not null, "
            "items bigint not null, express boolean not null, returned boolean not null)"
        )
        with conn.cursor().copy("copy orders from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute("create index on orders (ordered_at)")
    return len(rows)


def write_project(folder: Path) -> Path:
    """The project folder (configuration + feature SQL); returns its clearlake.yaml."""
    (folder / "features").mkdir(parents=True, exist_ok=True)
    (folder / "features" / "order_features.sql").write_text(FEATURE_SQL)
    path = folder / "clearlake.yaml"
    path.write_text(CONFIG)
    return path
