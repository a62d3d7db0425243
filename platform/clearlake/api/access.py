"""From an HTTP request to a checked plan: which dataset, days, columns, filters, grants.

Everything that can be refused is refused here, before the first byte is streamed, so
every refusal is a clean 4xx: unknown dataset (404), dataset or column not granted
(403, naming it), bad dates, unknown columns, malformed filters, oversized ranges (400).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa

from clearlake.api.catalog import TableState, api_name, require_table, table_schema
from clearlake.api.config import ApiConfig
from clearlake.api.errors import BadRequestError, ForbiddenError, NotFoundError
from clearlake.api.filters import parse_filter
from clearlake.api.formats import Format
from clearlake.api.masking import BatchTransform
from clearlake.api.policy import Access
from clearlake.api.report_access import refused
from clearlake.api.tokens import Principal
from clearlake.lake.reader import Filter, parse_day


def authorize_dataset(config: ApiConfig, principal: Principal, dataset: str) -> TableState:
    state = require_table(
        config.store, dataset, readable=lambda t: config.policy.may_read(principal.roles, t)
    )
    if not config.policy.may_read(principal.roles, state.table):
        raise ForbiddenError(
            f"Dataset {dataset!r} is not granted to {principal.name!r} (roles: "
            f"{', '.join(principal.roles)}). Ask a data steward for a role that lists it.",
            datasets=[dataset],
        )
    return state


def task_refusals(config: ApiConfig, principal: Principal, task: str) -> list[str]:
    """The datasets of ``task`` (what its reports, comparisons and monitor are about) that
    ``principal`` may not read; empty when every one is granted."""
    return refused(
        config.reports.tasks.get(task), lambda d: config.policy.may_read(principal.roles, d)
    )


def require_task_grant(config: ApiConfig, principal: Principal, task: str, subject: str) -> None:
    """Refuse (403) unless ``principal`` reads every dataset of ``task``; ``subject`` opens
    the message, e.g. "Comparisons of task 'x' are"."""
    missing = task_refusals(config, principal, task)
    if missing:
        raise ForbiddenError(
            f"{subject} about {', '.join(missing)}: not granted to {principal.name!r} (roles: "
            f"{', '.join(principal.roles)}). Ask a data steward for a role that reads them.",
            datasets=missing,
        )


def grants(
    config: ApiConfig, principal: Principal, state: TableState, schema: pa.Schema
) -> dict[str, Access]:
    policy = config.policy
    return {n: policy.grant(principal.roles, state.table, n).access for n in schema.names}


@dataclass
class DataPlan:
    state: TableState
    columns: list[str]
    grants: dict[str, Access]
    transform: BatchTransform
    filters: list[Filter] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def days(self) -> list[dt.date] | None:
        """Partition days to read (``None``: the table is not partitioned by date)."""
        if self.start is None or self.end is None:
            return None
        return [d for d in self.state.days if self.start <= d <= self.end]

    def served_as(self, access: Access) -> list[str]:
        return [c for c in self.columns if self.grants[c] == access]


def plan_data(
    config: ApiConfig,
    principal: Principal,
    dataset: str,
    *,
    start: str | None,
    end: str | None,
    columns: list[str] | None,
    filters: list[str] | None,
    limit: int | None,
    fmt: Format,
) -> DataPlan:
    state = authorize_dataset(config, principal, dataset)
    schema = table_schema(config.store, state)
    granted = grants(config, principal, state, schema)
    limits = config.policy.limits
    if limit is not None and limit > limits.max_rows:
        raise BadRequestError(
            f"limit={limit} exceeds the maximum of {limits.max_rows} rows per request: "
            "ask for less, or page by date range."
        )
    selected = _columns(dataset, schema, granted, columns)
    parsed = _filters(dataset, schema, granted, filters or [], limits.max_filters)
    first, last = _days(dataset, state, start, end, limits.max_days)
    transform = BatchTransform(schema, selected, granted, key=config.mask_key)
    return DataPlan(state, selected, granted, transform, parsed, first, last)


def _columns(
    dataset: str, schema: pa.Schema, granted: dict[str, Access], requested: list[str] | None
) -> list[str]:
    if requested is None:
        visible = [n for n in schema.names if granted[n] != "deny"]
        if not visible:
            raise ForbiddenError(
                f"No column of {dataset!r} is granted to your roles.", datasets=[dataset]
            )
        return visible
    names = list(dict.fromkeys(c.strip() for part in requested for c in part.split(",")))
    names = [n for n in names if n]
    if not names:
        raise BadRequestError("columns= is empty: name at least one column, or omit it.")
    unknown = [n for n in names if n not in schema.names]
    if unknown:
        raise BadRequestError(
            f"Unknown column(s) {', '.join(map(repr, unknown))} in {dataset!r}: columns are "
            f"{', '.join(schema.names)}."
        )
    denied = [n for n in names if granted[n] == "deny"]
    if denied:
        raise ForbiddenError(
            f"Column(s) {', '.join(map(repr, denied))} of {dataset!r} are not granted to your "
            "roles: leave them out.",
            columns=denied,
        )
    return names


def _filters(
    dataset: str,
    schema: pa.Schema,
    granted: dict[str, Access],
    texts: list[str],
    max_filters: int,
) -> list[Filter]:
    if len(texts) > max_filters:
        raise BadRequestError(
            f"{len(texts)} filters exceed the maximum of {max_filters} per request."
        )
    parsed = [parse_filter(text, schema) for text in texts]
    hidden = sorted({column for column, _, _ in parsed if granted[column] != "allow"})
    if hidden:
        raise ForbiddenError(
            f"Filtering {dataset!r} on {', '.join(map(repr, hidden))} is not allowed: your "
            "roles do not see these columns in clear (a filter would reveal their values).",
            columns=hidden,
        )
    return parsed


def _days(
    dataset: str, state: TableState, start: str | None, end: str | None, max_days: int
) -> tuple[dt.date | None, dt.date | None]:
    if not state.files:
        raise NotFoundError(
            f"Dataset {dataset!r} holds no data yet: materialise lake/{state.table} first."
        )
    if not state.partitioned:
        if start or end:
            raise BadRequestError(
                f"Dataset {dataset!r} is not partitioned by date: omit start and end."
            )
        return None, None
    first, last = parse_day(start, "start date"), parse_day(end, "end date")
    first, last = first or state.days[0], last or state.days[-1]
    if first > last:
        raise BadRequestError(f"start {first} is after end {last}: swap them.")
    span = (last - first).days + 1
    if span > max_days:
        raise BadRequestError(
            f"The range {first}..{last} covers {span} days, more than the maximum of "
            f"{max_days} per request: split it into smaller ranges."
        )
    if not any(first <= day <= last for day in state.days):
        available = ", ".join(f"{r.start}..{r.end}" for r in state.ranges)
        raise NotFoundError(
            f"Dataset {api_name(state.table)!r} has no partition between {first} and {last}; "
            f"available: {available}."
        )
    return first, last
