"""Is a hashed or masked column still readable through the clear columns next to it?

Hashing ``store`` protects nothing if ``(city, street)`` is served in clear: when each
recurring (city, street) pair has one store in almost every case,
so the pair *is* the destination. For each role and each column it receives hashed or
masked, every single clear column and every pair of them is measured on the lake data:
among the combinations of values that recur (two rows or more: a value seen once teaches
nothing), the share that always comes with one protected value. A share of at least
``THRESHOLD`` over at least ``MIN_GROUPS`` recurring combinations is a warning naming the
columns to protect. Pairs are checked only when neither column alone already determines
the value (the single column is the finding). Measured on the newest ``SAMPLE_DAYS``
partitions (a month: enough recurring combinations, bounded time on a year of data).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from clearlake.api.catalog import TableState, api_name, lake_tables, table_schema, table_state
from clearlake.api.policy import AccessPolicy
from clearlake.lake.reader import dataset
from clearlake.lake.store import LakeStore

THRESHOLD = 0.95
MIN_GROUPS = 10
SAMPLE_DAYS = 31


@dataclass(frozen=True)
class Inference:
    """``columns`` (served in clear) determine ``protected`` in ``share`` of ``groups``."""

    protected: str
    columns: tuple[str, ...]
    share: float
    groups: int


def determined_share(
    con: duckdb.DuckDBPyConnection, protected: str, columns: Sequence[str]
) -> tuple[float, int]:
    """Share of recurring combinations of ``columns`` with one distinct ``protected`` value."""
    keys = ", ".join(f'"{c}"' for c in columns)
    row = con.execute(
        f"""
        select count(*) filter (where k = 1), count(*) from (
            select count(distinct "{protected}") as k from sample
            where "{protected}" is not null group by {keys} having count(*) >= 2
        )
        """
    ).fetchone()
    determined, groups = (row or (0, 0))[0] or 0, (row or (0, 0))[1] or 0
    return (determined / groups if groups else 0.0), int(groups)


def inferable(table: pa.Table, protected: str, clear: Sequence[str]) -> list[Inference]:
    """The single clear columns, then the pairs, that determine ``protected`` (best first)."""
    con = duckdb.connect()
    con.register("sample", table)
    found: list[Inference] = []
    singles = set()
    for column in clear:
        share, groups = determined_share(con, protected, [column])
        if groups >= MIN_GROUPS and share >= THRESHOLD:
            found.append(Inference(protected, (column,), share, groups))
            singles.add(column)
    rest = [c for c in clear if c not in singles]
    for pair in itertools.combinations(rest, 2):
        share, groups = determined_share(con, protected, pair)
        if groups >= MIN_GROUPS and share >= THRESHOLD:
            found.append(Inference(protected, pair, share, groups))
    con.close()
    return sorted(found, key=lambda f: (len(f.columns), -f.share, -f.groups))


@dataclass(frozen=True)
class Finding:
    """One role's protected column and the clear combinations that give it away."""

    role: str
    dataset: str
    access: str
    protected: str
    inferences: tuple[Inference, ...]

    @property
    def to_protect(self) -> list[str]:
        """Fewest clear columns whose protection breaks every combination (greedy cover)."""
        left = [set(f.columns) for f in self.inferences]
        chosen: list[str] = []
        while left:
            counts: dict[str, int] = {}
            for combination in left:
                for column in combination:
                    counts[column] = counts.get(column, 0) + 1
            best = max(sorted(counts), key=lambda c: counts[c])
            chosen.append(best)
            left = [c for c in left if best not in c]
        return chosen

    def __str__(self) -> str:
        shown = "; ".join(
            f"({', '.join(f.columns)}) in {f.share:.1%} of {f.groups:,}"
            for f in self.inferences[:3]
        )
        more = len(self.inferences) - 3
        return (
            f"role {self.role!r}, dataset {self.dataset!r}: {self.access}ed column "
            f"{self.protected!r} is inferable from clear columns — recurring values determine "
            f"it: {shown}{f'; and {more} more' if more > 0 else ''}. Protect "
            f"{', '.join(self.to_protect)} as well (a class this role does not see in "
            f"clear), or deny {self.protected!r}."
        )


def policy_findings(policy: AccessPolicy, store: LakeStore) -> list[Finding]:
    """Every hashed or masked column a role can still read through its clear columns."""
    samples: dict[str, pa.Table | None] = {}
    measured: dict[tuple[str, str, tuple[str, ...]], list[Inference]] = {}
    findings = []
    for role in sorted(policy.roles):
        for table in lake_tables(store):
            if not policy.may_read([role], table):
                continue
            state = table_state(store, table)
            if state is None or not state.files:
                continue
            schema = table_schema(store, state)
            grants = {c: policy.grant([role], table, c).access for c in schema.names}
            clear = tuple(c for c in schema.names if grants[c] == "allow")
            for protected in (c for c in schema.names if grants[c] in ("hash", "mask")):
                if table not in samples:
                    samples[table] = _sample(store, state)
                sample = samples[table]
                key = (table, protected, clear)
                if sample is not None and key not in measured:
                    measured[key] = inferable(sample, protected, clear)
                if measured.get(key):
                    findings.append(
                        Finding(
                            role,
                            api_name(table),
                            grants[protected],
                            protected,
                            tuple(measured[key]),
                        )
                    )
    return findings


def _sample(store: LakeStore, state: TableState) -> pa.Table | None:
    days = state.days[-SAMPLE_DAYS:]
    start, end = (days[0], days[-1]) if days else (None, None)
    scanned: pa.Table = dataset(state.table, start, end, store=store).to_table()
    return scanned if scanned.num_rows else None
