"""Outputs of a pipeline's transform stages: checked against their declared schema, stored
once per chain and input, reused by every combination that shares them.

A transform stage's output depends on the commits of the stages up to it (its *chain*),
their declarations (entrypoint, ``output.columns``), the seed, and the frames the first
stage reads (the task's train and test suites, by content). Its **address** hashes exactly
that, so the output is stored content-addressed at
``<lake>/evaluation/<task>/stage_outputs/<repo>/chain=<address>/split={train,test}`` with a
``record.json`` written last (its presence means complete: who computed it, how long it
took). A second combination with the same chain finds the record and runs nothing: a commit
to the model stage recomputes nothing upstream, and a new suite window (new lake days)
changes the address, so stale outputs are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from clearlake.evaluation.candidates import json_path, read_json, write_json
from clearlake.evaluation.errors import StageOutputError
from clearlake.lake.store import LakeStore
from clearlake.project.config import DeclaredSchema, StageConfig, arrow_schema
from clearlake.versioning import json_version

SPLITS = ("train", "test")


def stage_output_table(task: str, repo: str) -> str:
    return f"evaluation/{task}/stage_outputs/{repo}"


def stage_label(repo: str, sha: str) -> str:
    """How errors and logs name a stage at a commit: ``repo@sha7``."""
    return f"{repo}@{sha[:7]}"


def _kind(data_type: pa.DataType) -> str:
    for kind, test in (
        ("string", lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        ("integer", pa.types.is_integer),
        ("float", pa.types.is_floating),
        ("boolean", pa.types.is_boolean),
        ("timestamp", pa.types.is_timestamp),
        ("date", pa.types.is_date),
    ):
        if test(data_type):
            return kind
    return str(data_type)


def check_output(stage: str, table: pa.Table, *, declared: DeclaredSchema, row_id: str) -> pa.Table:
    """``table`` as the declared schema (declared column order), or
    :class:`StageOutputError` naming the stage, commit and the first column at fault: a
    missing or undeclared column, another kind of type (an int where a float is declared,
    text where a number is), or a null in a ``not null`` column. Representations of one
    kind (large_string/string, int32/int64) are cast to the declared type."""
    schema = arrow_schema(declared)
    names = table.column_names
    for name in schema.names:
        if name not in names:
            raise StageOutputError(stage, f"output column {name} is missing")
    extra = [n for n in names if n not in schema.names]
    if extra:
        raise StageOutputError(
            stage, f"output column {extra[0]} is not declared (declared: {', '.join(schema.names)})"
        )
    if row_id not in schema.names:
        raise StageOutputError(stage, f"output lacks the task's row id column {row_id}")
    columns = []
    for field in schema:
        column = table.column(field.name)
        if column.type != field.type:
            if _kind(column.type) != _kind(field.type):
                raise StageOutputError(
                    stage,
                    f"output column {field.name} is {column.type}, declared {field.type}",
                )
            column = column.cast(field.type)
        if not field.nullable and column.null_count:
            raise StageOutputError(
                stage,
                f"output column {field.name} holds {column.null_count} null(s), declared not null",
            )
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def stage_address(
    *,
    chain: Sequence[tuple[str, str]],
    stages: Sequence[StageConfig],
    entrypoints: Sequence[str],
    inputs: str,
    seed: int,
) -> str:
    """The content address of the output of the last stage of ``chain`` (``(repo, full
    sha)`` pairs in pipeline order, with their declarations and entrypoints) computed from
    suite frames whose digest is ``inputs``."""
    return json_version(
        {
            "chain": [list(link) for link in chain],
            "stages": [s.model_dump(mode="json", exclude={"reference"}) for s in stages],
            "entrypoints": list(entrypoints),
            "inputs": inputs,
            "seed": seed,
        }
    )[:24]


@dataclass(frozen=True)
class StoredOutput:
    address: str
    train: pa.Table
    test: pa.Table
    record: dict[str, Any]


def _split_file(store: LakeStore, task: str, repo: str, address: str, split: str) -> str:
    return store.partition_file(stage_output_table(task, repo), f"chain={address}/split={split}")


def _record_path(store: LakeStore, task: str, repo: str, address: str) -> str:
    return json_path(store, stage_output_table(task, repo), f"chain={address}/record")


def stored_record(store: LakeStore, task: str, repo: str, address: str) -> dict[str, Any] | None:
    """The record of a complete stored output (None when it was never computed)."""
    return read_json(store, _record_path(store, task, repo, address))


def load_output(store: LakeStore, task: str, repo: str, address: str) -> StoredOutput | None:
    record = stored_record(store, task, repo, address)
    if record is None:
        return None
    train, test = (
        store.read_table(_split_file(store, task, repo, address, split)) for split in SPLITS
    )
    return StoredOutput(address, train, test, record)


def save_output(
    store: LakeStore,
    task: str,
    repo: str,
    address: str,
    *,
    train: pa.Table,
    test: pa.Table,
    record: dict[str, Any],
) -> StoredOutput:
    """Store both splits, then the record (a reader never sees half an output)."""
    for split, table in zip(SPLITS, (train, test), strict=True):
        store.write(
            stage_output_table(task, repo),
            f"chain={address}/split={split}",
            table.schema,
            table.to_batches(),
        )
    write_json(store, _record_path(store, task, repo, address), record)
    return StoredOutput(address, train, test, record)
