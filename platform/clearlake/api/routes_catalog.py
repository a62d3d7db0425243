"""Catalog endpoints: which datasets a principal may read, their schemas, partitions, freshness."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pyarrow as pa
from fastapi import APIRouter, Path

from clearlake.api.access import authorize_dataset, grants
from clearlake.api.catalog import TableState, api_name, lake_tables, table_schema, table_state
from clearlake.api.config import ApiConfig
from clearlake.api.deps import ConfigDep, PrincipalDep
from clearlake.api.masking import output_type
from clearlake.api.models import (
    DatasetList,
    DatasetOut,
    DayRange,
    ErrorBody,
    FieldOut,
    Freshness,
    Partitions,
    SchemaOut,
)
from clearlake.api.tokens import Principal

router = APIRouter(prefix="/v1", tags=["datasets"])
DATASET_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$"
DatasetPath = Annotated[
    str,
    Path(
        pattern=DATASET_PATTERN,
        description="Lake table name (`drops/<name>` is written `drops.<name>`).",
        examples=["orders"],
    ),
]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Malformed or oversized request."),
        (401, "Missing or unknown bearer token."),
        (403, "Dataset or column not granted to your roles."),
        (404, "Unknown dataset, or no partition in the range."),
    )
}


def fields_for(
    config: ApiConfig, principal: Principal, state: TableState, schema: pa.Schema
) -> list[FieldOut]:
    granted = grants(config, principal, state, schema)
    out = []
    for column in schema:
        access = granted[column.name]
        out.append(
            FieldOut(
                name=column.name,
                type=str(output_type(access, column.type)),
                nullable=column.nullable or access == "mask",
                column_class=config.policy.column_class(state.table, column.name),
                access=access,
            )
        )
    return out


def describe(config: ApiConfig, principal: Principal, state: TableState) -> DatasetOut:
    schema = table_schema(config.store, state)
    now = dt.datetime.now(dt.UTC)
    modified = state.last_modified
    return DatasetOut(
        name=api_name(state.table),
        description=config.policy.description(state.table) or state.description,
        partitioned=state.partitioned,
        partitions=Partitions(
            column=state.partition_column,
            count=len(state.days),
            first=state.days[0] if state.days else None,
            last=state.days[-1] if state.days else None,
            ranges=[DayRange(start=r.start, end=r.end) for r in state.ranges],
        ),
        freshness=Freshness(
            last_partition=state.days[-1] if state.days else None,
            last_modified=modified,
            age_seconds=(now - modified).total_seconds() if modified else None,
        ),
        fields=fields_for(config, principal, state, schema),
    )


@router.get("/datasets", response_model=DatasetList, responses=ERRORS)
def list_datasets(config: ConfigDep, principal: PrincipalDep) -> DatasetList:
    """Datasets your roles may read, with descriptions, schema, partitions and freshness."""
    readable = [t for t in lake_tables(config.store) if config.policy.may_read(principal.roles, t)]
    states = [s for s in (table_state(config.store, t) for t in readable) if s is not None]
    return DatasetList(
        principal=principal.name,
        roles=list(principal.roles),
        datasets=[describe(config, principal, s) for s in states],
    )


@router.get("/datasets/{dataset}", response_model=DatasetOut, responses=ERRORS)
def get_dataset(dataset: DatasetPath, config: ConfigDep, principal: PrincipalDep) -> DatasetOut:
    """One dataset: description, schema as your roles see it, partitions, freshness."""
    state = authorize_dataset(config, principal, dataset)
    return describe(config, principal, state)


@router.get("/datasets/{dataset}/schema", response_model=SchemaOut, responses=ERRORS)
def get_schema(dataset: DatasetPath, config: ConfigDep, principal: PrincipalDep) -> SchemaOut:
    """Columns of the dataset with their class and how your roles receive them."""
    state = authorize_dataset(config, principal, dataset)
    schema = table_schema(config.store, state)
    return SchemaOut(dataset=dataset, fields=fields_for(config, principal, state, schema))
