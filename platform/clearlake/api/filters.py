"""Query-string filters (``region:eq:north``) → the lake reader's ``(column, op, value)``.

Values are typed from the column's Arrow type, so ``amount:gt:30`` compares numbers
and ``order_day:ge:2024-03-15`` compares dates; anything that does not parse is a 400
naming the filter. ``in`` / ``notin`` take comma-separated values (``region:in:north,south``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

from clearlake.api.errors import BadRequestError
from clearlake.lake.reader import Filter

OPERATORS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "notin": "not in",
}
SYNTAX = (
    "use column:op:value with op one of " + ", ".join(OPERATORS) + " (for example "
    "region:eq:north, amount:gt:30, region:in:north,south)"
)


def parse_filter(text: str, schema: pa.Schema) -> Filter:
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise BadRequestError(f"Malformed filter {text!r}: {SYNTAX}.")
    column, op, raw = parts
    if column not in schema.names:
        raise BadRequestError(
            f"Filter {text!r} names unknown column {column!r}: columns are "
            f"{', '.join(schema.names)}."
        )
    if op not in OPERATORS:
        raise BadRequestError(f"Filter {text!r} has unknown operator {op!r}: {SYNTAX}.")
    arrow_type = schema.field(column).type
    if op in ("in", "notin"):
        value: Any = [_typed(v, arrow_type, text) for v in raw.split(",")]
    else:
        value = _typed(raw, arrow_type, text)
    return (column, OPERATORS[op], value)


def _typed(raw: str, arrow_type: pa.DataType, text: str) -> Any:
    try:
        return _convert(raw, arrow_type)
    except (ValueError, OverflowError) as exc:
        raise BadRequestError(
            f"Filter {text!r}: value {raw!r} is not a valid {arrow_type} ({exc})."
        ) from None


def _convert(raw: str, arrow_type: pa.DataType) -> Any:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return raw
    if pa.types.is_integer(arrow_type):
        value = int(raw.strip())
        bits = arrow_type.bit_width
        low, high = (
            (0, 2**bits - 1)
            if pa.types.is_unsigned_integer(arrow_type)
            else (
                -(2 ** (bits - 1)),
                2 ** (bits - 1) - 1,
            )
        )
        if not low <= value <= high:
            raise ValueError(f"outside {low}..{high}")
        return value
    if pa.types.is_floating(arrow_type):
        number = float(raw)
        if math.isnan(number):
            raise ValueError("NaN compares with nothing")
        return number
    if pa.types.is_boolean(arrow_type):
        if raw.lower() not in ("true", "false"):
            raise ValueError("use true or false")
        return raw.lower() == "true"
    if pa.types.is_date(arrow_type):
        return dt.date.fromisoformat(raw)
    if pa.types.is_timestamp(arrow_type):
        moment = dt.datetime.fromisoformat(raw)
        if arrow_type.tz is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if arrow_type.tz is None and moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment
    raise ValueError(f"columns of type {arrow_type} cannot be filtered")
