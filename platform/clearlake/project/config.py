"""A project's configuration: what a team evaluates, declared, never written into the library.

One YAML file (``clearlake.yaml`` in the project folder) declares the lake ``sources``, the
``features`` built from them, the evaluation ``tasks``, the algorithm ``repositories``,
the experiment ``profiles``, the drop-zone ``drops``, the Data API policy and the report
templates folder. Every model forbids unknown keys (a typo is an error naming the key, the
top level included); :mod:`clearlake.project.load` adds the checks that span sections
(a task's columns exist in its dataset's declared schema, a feature reads declared tables…).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from clearlake.project.arrow_types import NOT_NULL, is_temporal, parse_type

NAME = r"^[a-z0-9][a-z0-9_.-]*$"
"""Names become parts of asset keys, partition keys and paths: no '/', '@', '~'."""
IDENTIFIER = r"^[a-z_][a-z0-9_]*$"
"""Names that become Dagster asset-key parts and SQL view names."""
OBJECT_REF = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
"""``module:name`` of a Python object (a toolbox function, a metric, an algorithm class)."""
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------


class ColumnSpec(_Model):
    """One declared column: an Arrow type name, nullability, what it means."""

    type: str
    nullable: bool = True
    description: str = ""

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        parse_type(value)
        return value

    @property
    def arrow_type(self) -> pa.DataType:
        return parse_type(self.type)


def _column(value: Any) -> Any:
    """``"int64"`` / ``"int64 not null"`` shorthand → a :class:`ColumnSpec` mapping."""
    if isinstance(value, str):
        nullable = NOT_NULL.search(value) is None
        return {"type": NOT_NULL.sub("", value).strip(), "nullable": nullable}
    return value


Column = Annotated[ColumnSpec, BeforeValidator(_column)]
DeclaredSchema = dict[str, Column]


def arrow_schema(columns: DeclaredSchema) -> pa.Schema:
    """The declared columns as an Arrow schema (declaration order)."""
    return pa.schema(
        [pa.field(name, spec.arrow_type, nullable=spec.nullable) for name, spec in columns.items()]
    )


def _check_columns(columns: DeclaredSchema, names: list[str], what: str) -> None:
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(
            f"{what} {', '.join(missing)} not in the declared schema "
            f"(columns: {', '.join(columns)})"
        )


# ---------------------------------------------------------------------------------------
# Lake sources
# ---------------------------------------------------------------------------------------


class DailyPartitioning(_Model):
    """Daily partitions cut on a date or timestamp column, from ``first_day`` on.

    Without ``last_day`` the partitions are open-ended: they grow by one every day, up to
    today. A frozen sample declares its last day.
    """

    column: str
    first_day: dt.date
    last_day: dt.date | None = None
    refresh_days: int = Field(default=0, ge=0)
    """Trailing days (up to the source's newest) re-read on every new-days tick: a day
    whose rows changed since it was replicated (late rows) is replicated again."""

    @model_validator(mode="after")
    def _ordered(self) -> DailyPartitioning:
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError(f"last_day {self.last_day} is before first_day {self.first_day}")
        return self


class SourceConfig(_Model):
    """A production table (or query) replicated into the lake as ``lake/<name>``."""

    description: str = ""
    table: str | None = None
    """The source table; default: the source's own name. Exclusive with ``query``."""
    query: str | None = None
    """A SELECT whose result is replicated instead of a table (wrapped as a subquery)."""
    partition: DailyPartitioning | Literal["snapshot"]
    """Daily partitions on a date/timestamp column, or ``snapshot`` (one whole copy)."""
    keys: list[str] = Field(min_length=1)
    """Columns that identify a row: the canonical order that makes data versions stable."""
    columns: DeclaredSchema = Field(min_length=1)
    """The declared schema; ``clearlake lake infer-schema`` writes it from the catalogue."""

    @model_validator(mode="after")
    def _consistent(self) -> SourceConfig:
        if self.table is not None and self.query is not None:
            raise ValueError("declare either `table` or `query`, not both")
        _check_columns(self.columns, self.keys, "key column(s)")
        if isinstance(self.partition, DailyPartitioning):
            column = self.partition.column
            _check_columns(self.columns, [column], "partition column")
            if not is_temporal(self.columns[column].arrow_type):
                raise ValueError(
                    f"partition column {column} is {self.columns[column].type}: daily "
                    "partitions need a date or timestamp column"
                )
        return self

    @property
    def daily(self) -> DailyPartitioning | None:
        return self.partition if isinstance(self.partition, DailyPartitioning) else None


# ---------------------------------------------------------------------------------------
# Feature tables
# ---------------------------------------------------------------------------------------


class FeatureCheckConfig(_Model):
    """A data check on every materialisation of a feature table (a warning unless blocking).

    ``range``: every non-null value of ``column`` lies in ``[min, max]``.
    ``coverage``: at least ``min_fraction`` of ``column``'s values are not null.
    """

    name: str = Field(pattern=IDENTIFIER)
    kind: Literal["range", "coverage"]
    column: str
    min: float | None = None
    max: float | None = None
    min_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    blocking: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _complete(self) -> FeatureCheckConfig:
        if self.kind == "range" and self.min is None and self.max is None:
            raise ValueError(f"check {self.name!r}: a range check needs `min` and/or `max`")
        if self.kind == "coverage" and self.min_fraction is None:
            raise ValueError(f"check {self.name!r}: a coverage check needs `min_fraction`")
        return self


class FeatureConfig(_Model):
    """A daily-partitioned feature table built from lake tables: SQL or a toolbox function.

    ``sql``: a file (relative to the project) of DuckDB SQL over the lake tables, which are
    views named after them; ``$day`` is the partition's day (a DATE). Its inputs are the
    tables the query names. ``function``: ``module:function`` called with a
    :class:`clearlake.features.FeatureInputs` for one day, returning an Arrow table or a
    pandas frame; its ``inputs`` are declared.
    """

    description: str = ""
    sql: str | None = None
    function: str | None = Field(default=None, pattern=OBJECT_REF)
    inputs: list[str] = []
    """Lake tables read; derived from the SQL when omitted, required for a function."""
    row_id: str
    date_column: str
    first_day: dt.date | None = None
    """Default: the latest first day of the daily sources it reads."""
    last_day: dt.date | None = None
    """Default: the earliest declared last day of the daily sources it reads (if any)."""
    columns: DeclaredSchema = Field(min_length=1)
    checks: list[FeatureCheckConfig] = []

    @model_validator(mode="after")
    def _consistent(self) -> FeatureConfig:
        if (self.sql is None) == (self.function is None):
            raise ValueError("declare exactly one of `sql` (a file) or `function` (module:name)")
        if self.function is not None and not self.inputs:
            raise ValueError("a function feature declares the lake tables it reads: `inputs`")
        _check_columns(self.columns, [self.row_id], "row_id")
        _check_columns(self.columns, [self.date_column], "date_column")
        if not is_temporal(self.columns[self.date_column].arrow_type):
            raise ValueError(f"date_column {self.date_column} must be a date or timestamp")
        _check_columns(self.columns, [c.column for c in self.checks], "checked column(s)")
        return self


# ---------------------------------------------------------------------------------------
# Evaluation tasks
# ---------------------------------------------------------------------------------------

TaskType = Literal["regression", "binary", "multiclass"]
Direction = Literal["lower", "higher"]


class SuiteConfig(_Model):
    """A window of dataset rows: pinned (``start``..``end``, a regression dataset with a
    version) or rolling (the ``rolling_days`` before the newest day with known labels,
    ``label_delay_days`` behind the lake: it moves with the lake, one partition a day)."""

    start: dt.date | None = None
    end: dt.date | None = None
    rolling_days: int | None = Field(default=None, ge=1)
    label_delay_days: int = Field(default=0, ge=0)
    """Rolling: days a label takes to be known (partition D ends at D - label_delay_days)."""
    role: Literal["train", "test", "slice"] = "slice"
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> SuiteConfig:
        pinned = self.start is not None or self.end is not None
        if pinned == (self.rolling_days is not None):
            raise ValueError(
                "declare the suite either pinned (`start` and `end`) or rolling "
                "(`rolling_days`, optionally `label_delay_days`), exactly one of them"
            )
        if pinned and (self.start is None or self.end is None):
            raise ValueError("a pinned suite declares both `start` and `end`")
        if pinned and self.label_delay_days:
            raise ValueError("`label_delay_days` is for rolling suites (with `rolling_days`)")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self

    @property
    def rolling(self) -> bool:
        return self.rolling_days is not None

    def span(self) -> tuple[dt.date, dt.date]:
        """A pinned suite's first and last day."""
        if self.start is None or self.end is None:
            raise ValueError("a rolling suite has no fixed span: use window_ending(day)")
        return self.start, self.end

    def window_ending(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """A rolling suite's window in its partition ``day``: the ``rolling_days`` up to
        ``day - label_delay_days``."""
        if self.rolling_days is None:
            return self.span()
        last = day - dt.timedelta(days=self.label_delay_days)
        return last - dt.timedelta(days=self.rolling_days - 1), last

    @property
    def days(self) -> list[dt.date]:
        start, end = self.span()
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


class MetricConfig(_Model):
    """A metric by name (built-in registry) or a custom ``module:function`` with a direction.

    A custom function is called as ``function(actual, predicted) -> float`` with NumPy
    arrays (for binary tasks ``predicted`` holds probabilities of the positive class; for
    multiclass tasks a rows x classes matrix). Minimum effects: a delta smaller than
    ``min_absolute_effect`` or than ``min_relative_effect`` x the baseline's value is never
    a verdict (task-wide defaults in ``verdict``).
    """

    name: str = Field(pattern=IDENTIFIER)
    function: str | None = Field(default=None, pattern=OBJECT_REF)
    direction: Direction | None = None
    min_relative_effect: float | None = Field(default=None, ge=0)
    min_absolute_effect: float | None = Field(default=None, ge=0)
    description: str = ""

    @model_validator(mode="after")
    def _custom_has_direction(self) -> MetricConfig:
        if self.function is not None and self.direction is None:
            raise ValueError(
                f"custom metric {self.name!r} needs `direction: lower` or `direction: higher`"
            )
        return self


def _metric(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


Metric = Annotated[MetricConfig, BeforeValidator(_metric)]


class SubgroupConfig(_Model):
    """Rows grouped by a column's value, or by a bucket derived from it.

    ``bins`` cut a numeric column at the given edges (``[0, 500, 1000]`` gives
    ``<0``, ``[0, 500)``, ``[500, 1000)``, ``>=1000``); ``derive`` takes a part of a
    date/timestamp column (``hour``, ``weekday``, ``month``, ``year``).
    """

    name: str = Field(default="", pattern=r"^$|" + IDENTIFIER)
    column: str
    bins: list[float] | None = Field(default=None, min_length=1)
    derive: Literal["hour", "weekday", "month", "year"] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> SubgroupConfig:
        if self.bins is not None and self.derive is not None:
            raise ValueError(f"subgroup {self.label!r}: declare `bins` or `derive`, not both")
        if self.bins is not None and sorted(self.bins) != self.bins:
            raise ValueError(f"subgroup {self.label!r}: bins must be increasing")
        return self

    @property
    def label(self) -> str:
        """The subgroup kind's name in scores and reports."""
        if self.name:
            return self.name
        return f"{self.column}_{self.derive}" if self.derive else self.column


def _subgroup(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


Subgroup = Annotated[SubgroupConfig, BeforeValidator(_subgroup)]


class BootstrapConfig(_Model):
    samples: int = Field(default=200, ge=50, le=5000)
    seed: int = 0
    """Seed of the bootstrap's resamples: the same inputs give the same intervals."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


class VerdictConfig(_Model):
    """How a comparison decides: interval, minimum effects, multiplicity across subgroups."""

    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    min_relative_effect: float = Field(default=0.01, ge=0.0)
    """Default for every metric: a delta below this fraction of the baseline is no verdict."""
    min_absolute_effect: float = Field(default=0.0, ge=0.0)
    multiplicity: Literal["bonferroni", "holm", "bh"] = "bonferroni"
    """Across every metric and subgroup of a comparison: Holm (family-wise) or
    Benjamini-Hochberg (false discoveries); Bonferroni is the conservative default."""
    power: float = Field(default=0.8, gt=0.5, lt=1.0)
    """A row whose minimum detectable effect (at this power) exceeds its declared minimum
    effect is 'inconclusive', not 'no significant change'."""


class SeedConfig(_Model):
    """Training randomness: the seed passed to candidates, and the baseline's seed runs."""

    seed: int = 0
    """Passed to every evaluation run (``fit(train, seed=…)``, Python, NumPy, hash seed)."""
    runs: int = Field(default=2, ge=0, le=20)
    """Extra runs of a baseline with seeds ``seed+1…seed+runs`` (cached per baseline
    commit) that measure its seed-to-seed spread; 0 ignores training randomness. A
    deterministic baseline stops after the first run."""
    upper_bound_level: float = Field(default=0.05, gt=0.0, lt=0.5)
    """The seed variance a verdict uses is its one-sided ``1 - upper_bound_level`` upper
    confidence bound, ``(n-1)s²/χ²(upper_bound_level, n-1)``: three runs widen the
    interval (x3.1 on the sd at 0.05) instead of being taken as exact."""
    pool: bool = True
    """Pool the seed runs of the recent commits of the same repository (same task and seed
    settings; both sides of a comparison included) into one variance estimate."""
    budget_runs: int = Field(default=0, ge=0, le=40)
    """Extra seed runs a comparison may buy (4 per look: 2 of the candidate, 2 of the
    baseline) while its gate is inconclusive only for want of seed runs. With a budget the
    level is split evenly over the planned looks (Bonferroni over looks), the first one
    included, so the family-wise error holds however many looks are taken."""


class CalibrationConfig(_Model):
    """A/A trials of ``clearlake gate calibrate``: the champion against itself."""

    trials: int = Field(default=10, ge=2, le=200)
    """Seed/resample pairs compared (each reuses the cached seed runs when it can)."""
    champion: str | None = None
    """``repo@sha7`` compared with itself; default: the task's best evaluated candidate."""
    schedule: str | None = None
    """A cron (``0 4 * * 1``: Mondays 04:00) on which the calibration re-runs by itself;
    default: only on demand (``clearlake gate calibrate TASK``)."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError(
                f"schedule {value!r} is not a cron of five fields (minute hour day month "
                "weekday), e.g. '0 4 * * 1'"
            )
        return value


# -- monitoring of a shipped model (``monitor:`` of a task) ------------------------------

WATCH = re.compile(
    r"^(champion|[a-z0-9][a-z0-9_.-]*@[0-9a-f]{7,40}|[a-z0-9][a-z0-9_.-]*:[^\s:@]+)$"
)
"""``champion``, ``repo@sha`` (pinned) or ``repo:branch`` (the branch's head)."""


class MonitorReferenceConfig(_Model):
    """The window the watched model's recent days are compared with: ``{start, end}`` days
    of the dataset, or ``{suite: name}`` (one of the task's suites)."""

    start: dt.date | None = None
    end: dt.date | None = None
    suite: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> MonitorReferenceConfig:
        window = self.start is not None and self.end is not None
        if window == (self.suite is not None) or (self.start is None) != (self.end is None):
            raise ValueError("declare the reference as `{start, end}` or as `{suite: name}`")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"reference start {self.start} is after end {self.end}")
        return self


class MonitorDriftConfig(_Model):
    """Population stability (PSI, reference-quantile bins) of the model's scores and of
    declared dataset columns, per day against the reference window."""

    columns: list[str] = []
    psi_threshold: float = Field(default=0.2, gt=0)
    """A column whose PSI reaches this is drifting (0.1 small shift, 0.2 large, by custom)."""
    prediction_psi_threshold: float = Field(default=0.2, gt=0)
    bins: int = Field(default=10, ge=2, le=50)


def _alert_notifier(value: Any) -> Any:
    if isinstance(value, dict) and value.get("kind") in ("github", "gitlab"):
        raise ValueError(
            f"a {value['kind']} notifier posts commit statuses; a monitor alert is about a "
            "model in production, not a commit: use `kind: webhook` (Slack, chat, paging)"
        )
    return value


class MonitorConfig(_Model):
    """A watch on the task's model after it ships: its metrics on the newest days against a
    reference window, subgroups and drift included, with alerts on significant degradation.

    ``level`` is the declared false-alert rate: the probability that a model whose
    performance does not change raises at least one alert (any subgroup, any metric) over
    ``horizon_days`` days of monitoring. It is split evenly over the decision days of the
    horizon (every day, or every 7th with ``cadence: week``) and, on each decision, over
    the trailing ``windows`` (Bonferroni) and the subgroups x metrics (Holm).
    """

    watch: str = "champion"
    """``champion`` (the task's champion: calibration.champion, else its best evaluated
    candidate), a pinned ``repo@sha`` or a branch head ``repo:branch``."""
    label_delay_days: int = Field(default=0, ge=0, le=365)
    """Labels of day D are mature once the lake has day D + this delay."""
    reference: MonitorReferenceConfig
    cadence: Literal["day", "week"] = "day"
    """How often alerts are decided (metrics and drift are computed every day)."""
    level: float = Field(default=0.05, gt=0.0, lt=0.5)
    horizon_days: int = Field(default=90, ge=7, le=3650)
    windows: list[int] = Field(default=[1, 2, 4, 8, 16, 28], min_length=1)
    """Trailing windows (days) compared with the reference on every decision."""
    resolve_days: int = Field(default=7, ge=1, le=90)
    """An open alert resolves when this trailing window no longer shows the degradation:
    its change is below the minimum effect and not significant even unadjusted."""
    metrics: list[str] | None = None
    """Default: every metric of the task."""
    subgroups: list[str] | None = None
    """Subgroup kinds (labels) watched; default: every subgroup of the task."""
    min_relative_effect: float | None = Field(default=None, ge=0)
    """Default: the task's ``verdict`` minimum effects (a metric's own first)."""
    min_absolute_effect: float | None = Field(default=None, ge=0)
    history_days: int = Field(default=90, ge=7, le=730)
    """Days shown (per-day metrics with intervals) in the status and the monitoring page."""
    drift: MonitorDriftConfig = Field(default_factory=MonitorDriftConfig)
    notifiers: list[Annotated[WebhookNotifier, BeforeValidator(_alert_notifier)]] = []
    """Webhooks told once per alert episode (opened, then resolved)."""
    notify: NotifyConfig = Field(default_factory=lambda: NotifyConfig())

    @field_validator("watch")
    @classmethod
    def _watch(cls, value: str) -> str:
        if not WATCH.match(value):
            raise ValueError(
                f"watch {value!r}: use `champion`, `repo@sha` (a pinned commit) or "
                "`repo:branch` (the branch's head)"
            )
        return value

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[int]) -> list[int]:
        if sorted(set(value)) != value or value[0] < 1:
            raise ValueError(f"windows {value} must be increasing whole days >= 1")
        return value

    @property
    def decisions(self) -> int:
        """Decision days over the horizon (the level is split over them)."""
        return self.horizon_days if self.cadence == "day" else -(-self.horizon_days // 7)


class StageReferenceConfig(_Model):
    """The commit a stage stands at while another stage's commit is evaluated."""

    policy: Literal["branch", "champion"] = "branch"
    """``branch``: the head of the stage repository's first watched branch; ``champion``:
    the pinned ``commit``."""
    commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{7,40}$")

    @model_validator(mode="after")
    def _complete(self) -> StageReferenceConfig:
        if self.policy == "champion" and not self.commit:
            raise ValueError("reference policy 'champion' needs `commit: <sha>`")
        if self.policy == "branch" and self.commit:
            raise ValueError("`commit` is for reference policy 'champion' (policy: branch)")
        return self


class StageOutputConfig(_Model):
    """The frame a transform stage returns (besides the task's row id column)."""

    columns: DeclaredSchema = Field(min_length=1)


class StageConfig(_Model):
    """One stage of a task's pipeline: a registered repository at some commit."""

    repository: str = Field(pattern=NAME)
    reference: StageReferenceConfig = Field(default_factory=StageReferenceConfig)
    requires: list[str] = []
    """Columns this stage reads: checked against the previous stage's output (the dataset's
    candidate columns for the first stage)."""
    output: StageOutputConfig | None = None
    """A transform stage's output (required for every stage but the last, the model)."""


class TaskConfig(_Model):
    """What is predicted, from which dataset, scored how, on which windows."""

    description: str = ""
    dataset: str
    """A feature table of this project."""
    target: str
    type: TaskType
    row_id: str | None = None
    """Default: the dataset's row id. Comparisons pair candidates on it."""
    date_column: str | None = None
    """Default: the dataset's date column. Suites are windows of it."""
    unit: str = ""
    """Unit of a regression target, for reports (``minutes``, ``EUR``)."""
    positive_class: str | int | bool | None = None
    """Binary: the target value that is positive (default: true / 1)."""
    classes: list[str] | None = None
    """Multiclass: the target's classes, in the order of the prediction columns."""
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Binary: probability at or above which a row is predicted positive (accuracy, F1…)."""
    exclude_columns: list[str] = []
    """Dataset columns never given to candidates (e.g. what is only known afterwards)."""
    suites: dict[str, SuiteConfig] = Field(min_length=1)
    train_suite: str = "train"
    test_suite: str = "holdout"
    metrics: list[Metric] = Field(min_length=1)
    primary_metric: str | None = None
    """Default: the first metric."""
    subgroups: list[Subgroup] = []
    min_subgroup_rows: int = Field(default=100, ge=10)
    verdict: VerdictConfig = Field(default_factory=VerdictConfig)
    seeds: SeedConfig = Field(default_factory=SeedConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    candidate_timeout_seconds: float = Field(default=600, gt=0)
    candidate_threads: int = Field(default=1, ge=1)
    """Threads a candidate's numeric libraries may use (OMP/BLAS), unless the env sets them."""
    baseline_wait_seconds: float = Field(default=900, ge=0)
    pipeline: list[StageConfig] | None = Field(default=None, min_length=1)
    """Ordered stages (transforms, then the model stage last) whose combined commits are the
    task's candidates; ``None``: a single repository registered to the task."""
    monitor: MonitorConfig | None = Field(default=None, exclude=True)
    """A watch on the task's model after it ships (:class:`MonitorConfig`). Left out of the
    task's dumps: evaluation versions and seed-run caches hash the task, and a monitor's
    settings change nothing of an evaluation."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``pipeline`` when there is none: a single-repository task dumps (and so
        hashes, in every code version built from it) as before pipelines existed."""
        dumped: dict[str, Any] = handler(self)
        if dumped.get("pipeline", ...) is None:
            del dumped["pipeline"]
        return dumped

    @model_validator(mode="after")
    def _consistent(self) -> TaskConfig:
        for name in self.suites:
            if not re.match(NAME, name):
                raise ValueError(f"suite name {name!r} must match {NAME}")
        for role in ("train_suite", "test_suite"):
            suite = getattr(self, role)
            if suite not in self.suites:
                raise ValueError(
                    f"{role} {suite!r} is not a declared suite (suites: {', '.join(self.suites)})"
                )
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"metric names must be unique: {names}")
        if self.primary_metric is not None and self.primary_metric not in names:
            raise ValueError(
                f"primary_metric {self.primary_metric!r} is not one of the metrics {names}"
            )
        labels = [s.label for s in self.subgroups]
        if len(set(labels)) != len(labels):
            raise ValueError(f"subgroup names must be unique: {labels} (set `name:`)")
        if self.type == "multiclass" and not self.classes:
            raise ValueError("a multiclass task declares its `classes`")
        if self.type != "multiclass" and self.classes:
            raise ValueError(f"`classes` is for multiclass tasks, this one is {self.type}")
        if self.type != "binary" and self.positive_class is not None:
            raise ValueError(f"`positive_class` is for binary tasks, this one is {self.type}")
        if self.suites[self.train_suite].rolling:
            raise ValueError(
                f"the train suite {self.train_suite!r} is rolling: candidates are fitted on a "
                "pinned window (declare its `start` and `end`); roll the test suite instead"
            )
        return self

    @property
    def primary(self) -> str:
        return self.primary_metric or self.metrics[0].name

    @property
    def model_stage(self) -> StageConfig | None:
        """The pipeline's last stage (None for a single-repository task)."""
        return self.pipeline[-1] if self.pipeline else None

    @property
    def transform_stages(self) -> list[StageConfig]:
        return list(self.pipeline[:-1]) if self.pipeline else []

    @property
    def train(self) -> SuiteConfig:
        return self.suites[self.train_suite]

    @property
    def test(self) -> SuiteConfig:
        return self.suites[self.test_suite]

    def window(self) -> tuple[dt.date, dt.date]:
        """The days of the dataset every pinned suite together needs (rolling suites follow
        the lake; the train suite is always pinned)."""
        spans = [s.span() for s in self.suites.values() if not s.rolling]
        return min(a for a, _ in spans), max(b for _, b in spans)


# ---------------------------------------------------------------------------------------
# Repositories, profiles, drops, API, reports
# ---------------------------------------------------------------------------------------


class BaselineConfig(_Model):
    """Which algorithm version a candidate is compared with."""

    policy: Literal["parent", "branch", "champion"] = "parent"
    branch: str | None = None
    commit: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> BaselineConfig:
        if self.policy == "branch" and not self.branch:
            raise ValueError("baseline policy 'branch' needs `branch: <name>`")
        if self.policy == "champion" and not self.commit:
            raise ValueError("baseline policy 'champion' needs `commit: <sha>`")
        return self


class GitHubNotifier(_Model):
    """A commit status and one commit comment (updated in place) through GitHub's REST API."""

    kind: Literal["github"]
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    """``owner/name`` on GitHub."""
    token_env: str = Field(default="GITHUB_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Environment variable holding the token (never the token itself)."""
    api_url: str = "https://api.github.com"


class GitLabNotifier(_Model):
    """A commit status and one commit discussion note (updated in place), GitLab REST API."""

    kind: Literal["gitlab"]
    project: str
    """Project id or ``group/name`` path."""
    token_env: str = Field(default="GITLAB_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")
    api_url: str = "https://gitlab.com/api/v4"


class WebhookNotifier(_Model):
    """A JSON POST of the outcome (``text`` for Slack, the full outcome under ``clearlake``)."""

    kind: Literal["webhook"]
    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Environment variable holding the URL (Slack webhook URLs are secrets)."""

    @model_validator(mode="after")
    def _one_url(self) -> WebhookNotifier:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook notifier declares exactly one of `url` or `url_env`")
        return self


Notifier = Annotated[GitHubNotifier | GitLabNotifier | WebhookNotifier, Field(discriminator="kind")]


class NotifyConfig(_Model):
    retries: int = Field(default=3, ge=0, le=10)
    """Retries after a connection error, HTTP 429 or 5xx (never after another 4xx)."""
    backoff_seconds: float = Field(default=1.0, ge=0)
    """First wait; doubled after each retry."""
    timeout_seconds: float = Field(default=10.0, gt=0)


class AlertsConfig(_Model):
    """Where the platform reports its own failures: failed runs and erroring sensors."""

    notifiers: list[Annotated[WebhookNotifier, BeforeValidator(_alert_notifier)]] = []
    """Webhooks told of each failed run and each sensor that starts erroring."""
    notify: NotifyConfig = Field(default_factory=lambda: NotifyConfig())


class RepositoryConfig(_Model):
    """An algorithm repository whose commits are evaluated automatically: on one task, or as
    a stage of the pipelines naming it."""

    name: str = Field(pattern=NAME)
    task: str | None = None
    """The task its commits are evaluated on; may be omitted when the project has one task
    or when a pipeline names the repository (its stage commits name the pipeline's task)."""
    location: str
    """A local path or a git URL; ``{home}`` is CLEARLAKE_HOME, ``{project}`` the project folder."""
    branches: list[str] = ["main"]
    entrypoint: str = Field(pattern=OBJECT_REF)
    """``module:Class`` inside the repository, implementing ``clearlake.evaluation.Algorithm``."""
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    no_baseline: Literal["allow", "block"] = "allow"
    """The gate when no ancestor was evaluated successfully (a first commit, a history of
    failures): ``allow`` passes it visibly as 'no baseline', ``block`` fails the check."""
    notifiers: list[Notifier] = []
    """Where each gate outcome is posted (commit status, one comment, webhook)."""
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    initial_history: int = Field(default=20, ge=1)
    """How many of a branch's latest commits are evaluated when it is first seen."""
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Overrides the task's ``candidate_timeout_seconds`` for this repository."""


class Quantity(_Model):
    request: str
    limit: str

    @field_validator("request", "limit")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if not QUANTITY.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)")
        return value


class ResourceProfile(_Model):
    """CPU/memory requests and limits and GPU count an experiment may ask for by name."""

    description: str = ""
    cpu: Quantity
    memory: Quantity
    gpu: int = Field(default=0, ge=0)


class DropConfig(_Model):
    """A drop-zone dataset: files dropped in ``drops/<name>/`` become ``lake/drops/<name>``."""

    description: str = ""
    columns: dict[str, Literal["string", "int64", "float64", "bool", "date", "timestamp"]] = Field(
        min_length=1
    )
    settle_seconds: float = Field(default=120, ge=0)
    """A file not written as ``name.part`` + rename is taken once its size and modification
    time stayed unchanged this long across sensor ticks (0 for writers that rename)."""
    completion: Literal["settle", "marker"] = "settle"
    """``marker``: a file is complete once ``<file>.done`` exists (the writer says so);
    ``settle``: once unchanged for ``settle_seconds``."""
    unfinished_seconds: float = Field(default=3600, ge=0)
    """A CSV without a final newline (likely cut mid-row) waits this long unchanged, then
    is quarantined with that reason (``settle`` zones only)."""


class ApiConfig(_Model):
    policy: str | None = None
    """Data API access policy file (relative to the project); default: nothing is readable
    without an explicit grant (the platform's empty policy)."""


class ReportsConfig(_Model):
    templates: str = "notebooks"
    """Folder of the project's report templates (relative to the project)."""


class LiveConfig(_Model):
    """How new data flows by itself: the daemon's new-days and automation sensors."""

    new_days: Literal["running", "stopped"] | None = None
    """The new-days sensor's state on a fresh instance. Default: running when a daily
    source is open-ended (it grows by itself), stopped when every one declares a last day
    (a frozen sample; start it to watch days released by ``clearlake sample-db advance``)."""
    poll_seconds: int = Field(default=900, ge=1)
    """How often the new-days sensor asks each daily source for its newest day (and
    re-reads its ``refresh_days``)."""
    flow_seconds: int = Field(default=60, ge=1)
    """How often the automation sensor looks for lake days to push downstream (feature
    tables, rolling suites, monitors)."""
    backlog_days: int = Field(default=31, ge=1)
    """How far back from a daily asset's last partition (today, for an open-ended source)
    automation fills a missing day by itself; older gaps are ``clearlake build``'s job. A
    frozen sample released day by day needs its whole span (e.g. 366)."""


class RetentionConfig(_Model):
    """Which candidate partitions stay registered in Dagster (issue 21: an asset past
    ~100,000 partitions slows every partition lookup). A pruned candidate leaves only
    Dagster's partition list: its results stay in the lake, the candidate index, the
    leaderboard, ``clearlake candidates`` and compare. Kept: a candidate newer than either
    bound, a champion/pinned commit of the configuration, the baseline of any kept one."""

    keep_last: int | None = Field(default=None, ge=1)
    """The newest commits of each repository kept (by commit time)."""
    keep_days: int | None = Field(default=None, ge=1)
    """Commits younger than this many days kept."""
    cron: str = "30 3 * * *"
    """When the retention job runs (UTC)."""

    @model_validator(mode="after")
    def _bounded(self) -> RetentionConfig:
        if self.keep_last is None and self.keep_days is None:
            raise ValueError("evaluation.retention needs `keep_last`, `keep_days` or both")
        return self


class EvaluationConfig(_Model):
    """Project-wide evaluation settings."""

    retention: RetentionConfig | None = None
    """Prune old candidate partitions from Dagster (none: keep every one)."""


class DemoConfig(_Model):
    """What ``clearlake demo`` prepares before running the loop on embedded defaults."""

    sample_database: str | None = Field(default=None, pattern=OBJECT_REF)
    """``module:function(url: str, progress: Callable[[str], None]) -> dict[str, int]``:
    builds the sample production database at a SQLite or PostgreSQL URL and returns the
    row count of each table (``clearlake sample-db build`` and the demo call it)."""
    advance_sample_database: str | None = Field(default=None, pattern=OBJECT_REF)
    """``module:function(url: str, *, days: int, progress: Callable[[str], None]) ->
    dict[str, list[datetime.date]]``: inserts the next ``days`` days of every daily table
    into the sample database at ``url`` (a day at a time, as production receives them) and
    returns the days each daily table now has (``clearlake sample-db advance``). The
    ``sample_database`` builder then also takes ``through: datetime.date | None`` (build
    the daily tables up to that day only)."""
    sample_through: dt.date | None = None
    """The demo's sample database starts with the daily tables' days up to this one
    (the builder's ``through``); default: every day it has."""
    release_days: int = Field(default=0, ge=0, le=366)
    """After evaluating, the demo releases this many more days (``advance_sample_database``,
    ``release_batch_days`` at a time) and lets each batch flow through the new-days sensor
    and the automation to the feature tables and the monitors, as the daemon would."""
    release_batch_days: int = Field(default=7, ge=1)
    repositories: str | None = Field(default=None, pattern=OBJECT_REF)
    """``module:function(home: Path) -> None``: creates the demo algorithm repositories
    under CLEARLAKE_HOME (idempotent: same commits, same shas)."""
    description: str = ""

    @model_validator(mode="after")
    def _can_release(self) -> DemoConfig:
        if self.release_days and self.advance_sample_database is None:
            raise ValueError(
                "release_days needs `advance_sample_database: module:function` (what inserts "
                "the next days into the sample database)"
            )
        return self


class ProjectInfo(_Model):
    name: str = Field(pattern=NAME)
    description: str = ""
    python_path: list[str] = ["."]
    """Folders (relative to the project) on ``sys.path`` for toolbox functions and metrics."""


class ProjectConfig(_Model):
    """The whole file; sections other than these are errors."""

    project: ProjectInfo
    sources: dict[str, SourceConfig] = {}
    features: dict[str, FeatureConfig] = {}
    tasks: dict[str, TaskConfig] = {}
    repositories: list[RepositoryConfig] = []
    profiles: dict[str, ResourceProfile] = {}
    drops: dict[str, DropConfig] = {}
    api: ApiConfig = Field(default_factory=ApiConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    demo: DemoConfig | None = None

    @field_validator("sources", "features", "tasks", "drops")
    @classmethod
    def _identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(IDENTIFIER, name):
                raise ValueError(f"name {name!r} must match {IDENTIFIER} (it becomes an asset key)")
        return value
