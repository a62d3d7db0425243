"""A live project for the new-days flow: an ``orders`` table in PostgreSQL that grows one
day at a time, a ``zones`` snapshot, a SQL feature table joining both and (optionally)
a rolling suite; its definitions are the real assets and the real automation sensor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import psycopg

from assets.evaluation.suites import suite_assets
from assets.features.automation import new_days_sensor
from assets.features.feature_tables import feature_asset
from assets.lake.replication import replication_asset
from clearlake.lake.store import LakeStore
from clearlake.lake.tables import lake_tables
from clearlake.orchestration.io_managers import LakeParquetIOManager
from clearlake.orchestration.resources import LakeResource, SourceDatabaseResource
from clearlake.project.load import Project, load_project

FIRST_DAY = dt.date(2024, 3, 1)
LAST_DAY = dt.date(2024, 3, 20)

CONFIG = f"""\
project:
  name: live-shop
sources:
  orders:
    partition: {{column: ordered_on, first_day: {FIRST_DAY}, last_day: {LAST_DAY}}}
    keys: [order_id]
    columns:
      order_id: string not null
      ordered_on: date32 not null
      zone_id: int64 not null
      amount: float64 not null
      returned: bool
  zones:
    partition: snapshot
    keys: [zone_id]
    columns:
      zone_id: int64 not null
      zone: string not null
features:
  order_features:
    sql: features/order_features.sql
    row_id: order_id
    date_column: order_day
    columns:
      order_id: string not null
      order_day: date32 not null
      zone: string not null
      amount: float64 not null
      returned: bool
"""

FEATURE_SQL = """\
select o.order_id, o.ordered_on as order_day, z.zone, o.amount, o.returned
from orders o join zones z on o.zone_id = z.zone_id
where o.ordered_on = $day
order by o.order_id
"""

TASK = """\
tasks:
  returns:
    dataset: order_features
    target: returned
    type: binary
    suites:
      train: {{start: {first}, end: {train_end}, role: train}}
      holdout: {{start: {holdout_start}, end: {holdout_end}, role: test}}{rolling}
    metrics: [log_loss]
"""


def day(n: int) -> dt.date:
    """The ``n``-th day of the project (0 is its first)."""
    return FIRST_DAY + dt.timedelta(days=n)


def create_source(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "create table orders (order_id text primary key, ordered_on date not null, "
            "zone_id bigint not null, amount double precision not null, returned boolean)"
        )
        conn.execute("create table zones (zone_id bigint primary key, zone text not null)")
        conn.execute("insert into zones values (1, 'north'), (2, 'south')")


def add_day(
    url: str, when: dt.date, *, orders: int = 5, amount: float = 10.0, first: int = 0
) -> None:
    """One day of orders arrives in production (``first``: the day's first order number,
    for late rows of a day already there)."""
    with psycopg.connect(url) as conn:
        for n in range(first, first + orders):
            conn.execute(
                "insert into orders values (%s, %s, %s, %s, %s)",
                (f"{when:%Y%m%d}-{n}", when, 1 + n % 2, amount + n, n % 3 == 0),
            )


ROLLING = "\n      recent: {rolling_days: 3, label_delay_days: 1, role: test}"


def write_project(folder: Path, *, with_task: bool = False, rolling: bool = False) -> Project:
    (folder / "features").mkdir(parents=True, exist_ok=True)
    (folder / "features" / "order_features.sql").write_text(FEATURE_SQL)
    text = CONFIG
    if with_task:
        text += TASK.format(
            first=FIRST_DAY,
            train_end=day(4),
            holdout_start=day(5),
            holdout_end=day(7),
            rolling=ROLLING if rolling else "",
        )
    (folder / "clearlake.yaml").write_text(text)
    return load_project(folder)


def definitions(project: Project, lake: LakeStore, source_url: str) -> dg.Definitions:
    assets = [replication_asset(t) for t in lake_tables(project).values()]
    assets += [feature_asset(project, name) for name in project.config.features]
    assets += suite_assets(project)
    resource = LakeResource(url=lake.url)
    return dg.Definitions(
        assets=assets,
        sensors=[new_days_sensor()],
        resources={
            "lake": resource,
            "io_manager": LakeParquetIOManager(lake=resource),
            "production": SourceDatabaseResource(url=source_url),
        },
    )
