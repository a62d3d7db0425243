"""The data endpoint: a dataset's rows for a day range, streamed in the format asked.

Rows come from the lake's ``scan`` (record batches, a window of days at a time: see
``windows.py``), pass the role's column transforms batch by batch and are encoded batch
by batch: memory stays bounded whatever the range. The audit record is written when the
stream ends (rows actually sent).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints

from clearlake.api.access import plan_data
from clearlake.api.deps import ConfigDep, PrincipalDep
from clearlake.api.formats import EXTENSIONS, MEDIA_TYPES, Format
from clearlake.api.request_audit import audit_of, hand_off
from clearlake.api.routes_catalog import ERRORS, DatasetPath
from clearlake.api.streaming import DataStream, until_disconnected
from clearlake.api.windows import WindowedScan

router = APIRouter(prefix="/v1", tags=["data"])
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
FILTER_PATTERN = r"^[A-Za-z0-9_]+:(eq|ne|lt|le|gt|ge|in|notin):.*$"

DATA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The rows, streamed. Arrow IPC stream by default.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in MEDIA_TYPES.values()
        },
    },
    **ERRORS,
}


@router.get(
    "/datasets/{dataset}/data",
    response_class=StreamingResponse,
    responses=DATA_RESPONSES,
)
def get_data(
    request: Request,
    dataset: DatasetPath,
    config: ConfigDep,
    principal: PrincipalDep,
    start: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            json_schema_extra={"format": "date"},
            description="First day (inclusive, YYYY-MM-DD). Default: first partition.",
            examples=["2024-03-01"],
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            pattern=DATE_PATTERN,
            json_schema_extra={"format": "date"},
            description="Last day (inclusive). Default: last partition.",
            examples=["2024-03-31"],
        ),
    ] = None,
    columns: Annotated[
        list[str] | None,
        Query(
            description="Columns to return (repeat or comma-separate). Default: every "
            "column your roles may see.",
            examples=[["region", "amount"]],
        ),
    ] = None,
    filters: Annotated[
        list[Annotated[str, StringConstraints(pattern=FILTER_PATTERN)]] | None,
        Query(
            alias="filter",
            description="`column:op:value`, op one of eq, ne, lt, le, gt, ge, in, notin "
            "(in/notin: comma-separated values). Repeat for AND.",
            examples=[["region:eq:north", "amount:gt:30"]],
        ),
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="Return at most this many rows.", examples=[1000])
    ] = None,
    fmt: Annotated[
        Format, Query(alias="format", description="Response format.", examples=["arrow"])
    ] = "arrow",
) -> StreamingResponse:
    """Rows of a dataset for a day range, with column selection, filters and a row limit.

    Restricted columns arrive masked or hashed as your roles dictate; columns your roles
    may not see are refused (403). Example:
    `/v1/datasets/orders/data?start=2024-03-01&end=2024-03-31&columns=region,amount`
    `&filter=region:eq:north&format=csv`
    """
    record = audit_of(request)
    record.action, record.dataset, record.format = "data", dataset, fmt
    plan = plan_data(
        config,
        principal,
        dataset,
        start=start,
        end=end,
        columns=columns,
        filters=filters,
        limit=limit,
        fmt=fmt,
    )
    reader = WindowedScan(
        plan.state.table,
        plan.days,
        columns=plan.columns,
        filters=plan.filters,
        store=config.store,
    )
    record.columns = plan.columns
    record.masked = plan.served_as("mask")
    record.hashed = plan.served_as("hash")
    access = ",".join(f"{quote(c)}={plan.grants[c]}" for c in plan.columns)
    name = f"{dataset}_{plan.start or 'all'}_{plan.end or 'all'}.{EXTENSIONS[fmt]}"
    stream = DataStream(config, plan, reader, hand_off(request), limit=limit, fmt=fmt)
    return StreamingResponse(
        until_disconnected(request, stream),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{quote(name)}"',
            "X-Clearlake-Access": access,
        },
    )
