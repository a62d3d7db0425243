"""Response bodies of the Data API (JSON), as they appear in the OpenAPI spec."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearlake.api.policy import Access


class ErrorBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "forbidden",
                    "detail": "Column(s) 'customer_id' of 'orders' are not granted to your roles: "
                    "leave them out.",
                    "refused": ["customer_id"],
                }
            ]
        }
    )

    error: str = Field(description="Machine-readable kind: bad_request, forbidden, ...")
    detail: str = Field(description="What was wrong and what to do.")
    refused: list[str] | None = Field(None, description="Datasets or columns refused (403).")


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0", "tables": 5}]}
    )

    status: Literal["ok"]
    version: str
    tables: int = Field(description="Tables found in the lake.")


class FieldOut(BaseModel):
    name: str
    type: str = Field(description="Arrow type as served (hashed columns are strings).")
    nullable: bool
    column_class: str = Field(description="Sensitivity class from the policy.")
    access: Access = Field(description="How your roles receive the column.")


class DayRange(BaseModel):
    start: dt.date
    end: dt.date


class Partitions(BaseModel):
    column: str | None = Field(description="Date column the daily partitions are cut on.")
    count: int
    first: dt.date | None
    last: dt.date | None
    ranges: list[DayRange] = Field(description="Contiguous runs of days present.")


class Freshness(BaseModel):
    last_partition: dt.date | None
    last_modified: dt.datetime | None = Field(description="Newest file write (UTC).")
    age_seconds: float | None


class DatasetOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "orders",
                    "description": "One row per order.",
                    "partitioned": True,
                    "partitions": {
                        "column": "order_day",
                        "count": 31,
                        "first": "2024-03-01",
                        "last": "2024-03-31",
                        "ranges": [{"start": "2024-03-01", "end": "2024-03-31"}],
                    },
                    "freshness": {
                        "last_partition": "2024-03-31",
                        "last_modified": "2026-11-21T08:00:00Z",
                        "age_seconds": 3600.0,
                    },
                    "fields": [
                        {
                            "name": "customer_id",
                            "type": "string",
                            "nullable": True,
                            "column_class": "restricted",
                            "access": "hash",
                        }
                    ],
                }
            ]
        }
    )

    name: str = Field(description="Dataset name used in URLs.")
    description: str | None
    partitioned: bool
    partitions: Partitions
    freshness: Freshness
    fields: list[FieldOut]


class DatasetList(BaseModel):
    principal: str
    roles: list[str]
    datasets: list[DatasetOut] = Field(description="Datasets your roles may read.")


class SchemaOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "orders",
                    "fields": [
                        {
                            "name": "region",
                            "type": "string",
                            "nullable": False,
                            "column_class": "public",
                            "access": "allow",
                        }
                    ],
                }
            ]
        }
    )

    dataset: str
    fields: list[FieldOut]
