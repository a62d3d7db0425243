"""How a result came to be (``why``) and why two results differ (``diff``).

Everything is read from the Dagster instance's event log, never from side files: each
materialisation carries Dagster's tags (``dagster/code_version``, ``dagster/data_version``,
``dagster/input_data_version/<key>``, ``dagster/input_event_pointer/<key>``) and
Clearlake's ``provenance/*`` metadata (platform commit, candidate commit, parameters,
environment lock hash, run id). Upstream materialisations are found per input:

* same partition key upstream (candidate assets, a day of features → that day of the lake),
* a declared window (``provenance/input_partitions/<key>`` = ``start..end``) summarised,
* an unpartitioned upstream: the materialisation that was current at the time (event pointer),
* a comparison's baseline (metadata ``baseline``): the baseline's predictions.

A pipeline candidate's materialisations carry metadata ``stages`` (``{repo: full sha}`` in
stage order): ``why`` names every stage's commit and ``diff`` says which stage changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidate_run import parse_stages
from clearlake.evaluation.candidates import CandidateKey, InvalidCandidateKeyError

DATA_PREFIX = "dagster/input_data_version/"
POINTER_PREFIX = "dagster/input_event_pointer/"
PROVENANCE = "provenance/"
WINDOW = "provenance/input_partitions/"
STAGES = "stages"
"""Metadata of a pipeline candidate's materialisations: ``{repo: full sha}``, stage order."""
PREDICTIONS_NAME = "candidate_predictions"
"""The last part of a task's predictions key (the definitions own the whole key)."""


class LineageError(ClearlakeError):
    """The asked-for materialisation is not recorded in the instance."""


@dataclass(frozen=True)
class Record:
    """One materialisation as the event log holds it."""

    asset: dg.AssetKey
    partition: str | None
    storage_id: int
    run_id: str
    timestamp: float
    code_version: str | None
    data_version: str | None
    inputs: dict[str, str]
    pointers: dict[str, int | None]
    provenance: dict[str, str]
    metadata: dict[str, str]

    @property
    def label(self) -> str:
        where = f" [{self.partition}]" if self.partition else ""
        return f"{self.asset.to_user_string()}{where}"

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    @property
    def stages(self) -> dict[str, str]:
        """Each stage's full commit of a pipeline candidate, in pipeline order (``{}`` for
        anything else)."""
        return stage_commits(self.metadata.get(STAGES), self.partition)


def stage_commits(raw: str | None, partition: str | None = None) -> dict[str, str]:
    """``{repo: sha}`` from the JSON text of a ``stages`` entry (``{}`` when absent or not
    an object: a record written before pipelines), in the stage order of ``partition`` (a
    candidate key): Dagster stores JSON metadata with its keys sorted."""
    found = parse_stages(raw)
    try:
        order = [s.repo for s in CandidateKey.parse(partition or "").stages]
    except InvalidCandidateKeyError:
        return found
    return {r: found[r] for r in order if r in found} | found


def _text(value: object) -> str:
    """A metadata value as text; JSON values as JSON (their Python repr is not parseable)."""
    return json.dumps(value, sort_keys=False) if isinstance(value, (dict, list)) else str(value)


def _record(entry: dg.EventLogRecord) -> Record:
    materialization = entry.asset_materialization
    if materialization is None:
        raise LineageError(f"event {entry.storage_id} is not a materialisation")
    tags = dict(materialization.tags or {})
    metadata = {k: _text(v.value) for k, v in materialization.metadata.items()}
    return Record(
        asset=materialization.asset_key,
        partition=materialization.partition,
        storage_id=entry.storage_id,
        run_id=entry.run_id,
        timestamp=entry.timestamp,
        code_version=tags.get("dagster/code_version"),
        data_version=tags.get("dagster/data_version"),
        inputs={k[len(DATA_PREFIX) :]: v for k, v in tags.items() if k.startswith(DATA_PREFIX)},
        pointers={
            k[len(POINTER_PREFIX) :]: (int(v) if v.isdigit() else None)
            for k, v in tags.items()
            if k.startswith(POINTER_PREFIX)
        },
        provenance={
            k[len(PROVENANCE) :]: v for k, v in metadata.items() if k.startswith(PROVENANCE)
        },
        metadata={k: v for k, v in metadata.items() if not k.startswith(PROVENANCE)},
    )


def latest(
    instance: dg.DagsterInstance,
    asset: dg.AssetKey,
    partition: str | None = None,
    *,
    before: int | None = None,
) -> Record | None:
    """The newest materialisation of ``asset`` (of ``partition``), optionally before an event."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=asset,
            asset_partitions=[partition] if partition is not None else None,
            before_storage_id=before,
        ),
        limit=1,
    ).records
    return _record(found[0]) if found else None


def select(instance: dg.DagsterInstance, asset: dg.AssetKey, selector: str | None) -> Record:
    """A materialisation by partition key, ``run:<run id or prefix>`` or (None) the latest."""
    if selector and selector.startswith("run:"):
        prefix = selector[4:]
        for entry in instance.fetch_materializations(asset, limit=500).records:
            if entry.run_id.startswith(prefix):
                return _record(entry)
        raise LineageError(f"No materialisation of {asset.to_user_string()} by run {prefix}*.")
    found = latest(instance, asset, selector)
    if found is None:
        where = f" partition {selector!r}" if selector else ""
        raise LineageError(
            f"{asset.to_user_string()}{where} has never been materialised in this instance "
            "(check the asset key and partition: `clearlake candidates` lists candidates)."
        )
    return found


@dataclass
class Node:
    """A materialisation and the upstream materialisations it was made from."""

    key: dg.AssetKey
    record: Record | None
    role: str = "input"
    note: str = ""
    window: str | None = None
    """For a window of partitions: ``start..end`` (the record is its newest partition)."""
    upstream: list[Node] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.window:
            return f"{self.key.to_user_string()} [{self.window}]"
        return self.record.label if self.record else self.key.to_user_string()


def upstream_records(instance: dg.DagsterInstance, record: Record) -> list[Node]:
    """One (unexpanded) node per input of ``record``."""
    found: list[Node] = []
    for name, version in sorted(record.inputs.items()):
        key = dg.AssetKey.from_user_string(name)
        window = record.provenance.get(f"input_partitions/{name}")
        same = (
            latest(instance, key, record.partition, before=record.storage_id)
            if record.partition
            else None
        )
        if same is not None:
            found.append(Node(key, same))
        elif window:
            start, _, end = window.partition("..")
            parts = instance.get_materialized_partitions(key, before_cursor=record.storage_id)
            inside = sorted(p for p in parts if start <= p <= end)
            newest = latest(instance, key, inside[-1], before=record.storage_id) if inside else None
            found.append(
                Node(
                    key,
                    newest,
                    note=f"{len(inside)} partition(s), combined data version {version}",
                    window=window,
                )
            )
        else:
            pointer = record.pointers.get(name)
            exact = None
            if pointer is not None:
                entries = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, storage_ids=[pointer]), limit=1
                ).records
                exact = _record(entries[0]) if entries else None
            if exact is None or exact.partition is not None:
                exact = latest(instance, key, before=record.storage_id)
            if exact is not None and exact.partition is not None:  # all partitions of it
                parts = instance.get_materialized_partitions(key, before_cursor=record.storage_id)
                found.append(
                    Node(
                        key,
                        exact,
                        note=f"data version {version}",
                        window=f"{len(parts)} partition(s)",
                    )
                )
                continue
            note = "" if exact is not None else f"never materialised here (data version {version})"
            found.append(Node(key, exact, note=note))
    baseline = record.metadata.get("baseline")
    predictions = _predictions_input(record)
    if baseline and baseline != "none" and predictions is not None:
        base = latest(instance, predictions, baseline, before=record.storage_id)
        found.append(Node(predictions, base, "baseline", "" if base else "not found"))
    return found


def _predictions_input(record: Record) -> dg.AssetKey | None:
    """The predictions a comparison read (its baseline's are the same asset, another
    partition): the input named like ``…/candidate_predictions``."""
    for name in record.inputs:
        if name.rsplit("/", 1)[-1] == PREDICTIONS_NAME:
            return dg.AssetKey.from_user_string(name)
    return None


def why(
    instance: dg.DagsterInstance,
    asset: dg.AssetKey,
    selector: str | None = None,
    *,
    depth: int = 8,
) -> Node:
    """The lineage tree of a materialisation, down to the lake (or ``depth`` levels)."""
    root = select(instance, asset, selector)

    expanded: set[int] = set()

    def expand(node: Node, level: int) -> None:
        record = node.record
        if record is None or node.window or level >= depth or record.storage_id in expanded:
            return
        expanded.add(record.storage_id)
        node.upstream = upstream_records(instance, record)
        for child in node.upstream:
            expand(child, level + 1)

    tree = Node(asset, root, "result")
    expand(tree, 0)
    return tree


def describe(record: Record) -> list[str]:
    lines = [
        f"materialised {record.when} by run {record.run_id[:8]}",
        f"code version {record.code_version or '?'} · data version {record.data_version or '?'}",
    ]
    shown = {
        k: v
        for k, v in record.provenance.items()
        if k not in ("run_id", "code_version", STAGES) and not k.startswith("input_partitions/")
    }
    if shown:
        lines.append(" · ".join(f"{k} {v}" for k, v in sorted(shown.items())))
    stages = record.stages
    for number, (repo, sha) in enumerate(stages.items(), start=1):
        lines.append(f"stage {number} of {len(stages)}: {repo} {sha}")
    return lines


def render(node: Node) -> str:
    """``why`` as indented text (what the CLI prints)."""
    out: list[str] = []
    shown: set[tuple[int, str | None]] = set()

    def visit(item: Node, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        role = f"({item.role}) " if item.role == "baseline" else ""
        identity = (item.record.storage_id, item.window) if item.record else None
        repeated = identity in shown
        out.append(f"{prefix}{branch}{role}{item.label}" + (" (as above)" if repeated else ""))
        if repeated:
            return
        if identity:
            shown.add(identity)
        inner = prefix + ("" if top else ("   " if last else "│  "))
        details = [] if item.record is None else describe(item.record)
        if item.window and item.record is not None:
            details[0] = f"newest partition {item.record.partition} {details[0]}"
        for line in details + ([item.note] if item.note else []):
            out.append(f"{inner}{'│  ' if item.upstream else '   '}{line}")
        for index, child in enumerate(item.upstream):
            visit(child, inner, index == len(item.upstream) - 1, False)

    visit(node, "", True, True)
    return "\n".join(out)


@dataclass(frozen=True)
class Difference:
    where: str
    kind: str
    """``code``, ``data``, ``parameters``, ``environment`` or ``result``."""
    field: str
    a: str
    b: str


FIELDS = {
    "platform_commit": "code",
    "candidate_commit": "code",
    "parameters": "parameters",
    "parameters_hash": "parameters",
    "environment_lock_hash": "environment",
}


def compare(
    instance: dg.DagsterInstance, a: Record, b: Record, *, depth: int = 4
) -> list[Difference]:
    """What differs between two materialisations, following differing inputs upstream."""
    found: list[Difference] = []

    def add(where: str, kind: str, name: str, x: str | None, y: str | None) -> None:
        if (x or "") != (y or ""):
            found.append(Difference(where, kind, name, x or "(none)", y or "(none)"))

    def walk(x: Record, y: Record, level: int) -> None:
        where = x.asset.to_user_string()
        add(where, "code", "code_version", x.code_version, y.code_version)
        for name, kind in FIELDS.items():
            add(where, kind, name, x.provenance.get(name), y.provenance.get(name))
        stages_x, stages_y = x.stages, y.stages
        for repo in [*stages_x, *(r for r in stages_y if r not in stages_x)]:
            add(where, "code", f"stage {repo}", stages_x.get(repo), stages_y.get(repo))
        for name in sorted(set(x.inputs) | set(y.inputs)):
            add(where, "data", f"input {name}", x.inputs.get(name), y.inputs.get(name))
            window = f"input_partitions/{name}"
            add(
                where,
                "data",
                f"window of {name}",
                x.provenance.get(window),
                y.provenance.get(window),
            )
        if level >= depth:
            return
        ups_x = {(n.role, n.key): n.record for n in upstream_records(instance, x)}
        ups_y = {(n.role, n.key): n.record for n in upstream_records(instance, y)}
        for slot in sorted(set(ups_x) & set(ups_y), key=lambda s: (s[0], s[1].to_user_string())):
            rx, ry = ups_x[slot], ups_y[slot]
            if rx and ry and rx.storage_id != ry.storage_id and rx.data_version != ry.data_version:
                walk(rx, ry, level + 1)

    add(a.asset.to_user_string(), "result", "data_version", a.data_version, b.data_version)
    walk(a, b, 0)
    return found


def candidate_differences(
    instance: dg.DagsterInstance,
) -> Callable[[Sequence[str], str, str], list[Difference]]:
    """The event log as the compare view asks it (``clearlake.evaluation.compare.EventLog``):
    what differs between two partitions (candidate keys) of a predictions asset (its path);
    :class:`LineageError` when either was never materialised."""

    def differences(predictions: Sequence[str], a: str, b: str) -> list[Difference]:
        key = dg.AssetKey(list(predictions))
        return compare(instance, select(instance, key, a), select(instance, key, b))

    return differences


def render_diff(a: Record, b: Record, differences: list[Difference]) -> str:
    lines = [
        f"A: {a.label} · run {a.run_id[:8]} · {a.when}",
        f"B: {b.label} · run {b.run_id[:8]} · {b.when}",
    ]
    same_result = not any(d.kind == "result" for d in differences)
    lines.append(
        "results are identical (same data version)"
        if same_result
        else "results differ (data versions differ)"
    )
    causes = [d for d in differences if d.kind != "result"]
    if not causes:
        lines.append("made the same way: same code, data, parameters and environment")
    for kind in ("code", "parameters", "data", "environment"):
        for d in (c for c in causes if c.kind == kind):
            changed = _changed_keys(d.a, d.b) if d.field == "parameters" else None
            if changed:  # two report variants: the values that tell them apart
                lines.append(f"  {kind:<11} {d.where}: {d.field}")
                lines += [f"{'':14}{name}: A {x} · B {y}" for name, x, y in changed]
                continue
            lines.append(
                f"  {kind:<11} {d.where}: {d.field}\n{'':14}A {_short(d.a)}\n{'':14}B {_short(d.b)}"
            )
    return "\n".join(lines)


def _changed_keys(a: str, b: str) -> list[tuple[str, str, str]]:
    """The keys whose values differ between two JSON objects ([] when either is not one)."""
    try:
        x, y = json.loads(a), json.loads(b)
    except ValueError:
        return []
    if not (isinstance(x, dict) and isinstance(y, dict)):
        return []
    return [
        (name, json.dumps(x.get(name)), json.dumps(y.get(name)))
        for name in sorted(set(x) | set(y))
        if x.get(name) != y.get(name)
    ]


def _short(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return json.dumps(parsed, sort_keys=True) if isinstance(parsed, dict) else value
