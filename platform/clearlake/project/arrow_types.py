"""Column types in configuration files: Arrow type names, as people write them.

A declared schema maps a column to ``"<type>"`` or ``"<type> not null"`` (or a mapping with
``type``, ``nullable`` and ``description``). Types are Arrow's own names so the lake, the
Parquet files and DuckDB agree: ``int64``, ``float64``, ``string``, ``bool``, ``date32``,
``timestamp[us]``, ``timestamp[us, tz=UTC]``, ``decimal128(12, 2)`` … Aliases that readers
of SQL catalogues expect (``date``, ``timestamp``, ``text``, ``double``) are accepted too,
and :func:`type_name` writes a type back in the canonical spelling.
"""

from __future__ import annotations

import re

import pyarrow as pa

ALIASES: dict[str, pa.DataType] = {
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "text": pa.string(),
    "str": pa.string(),
    "boolean": pa.bool_(),
    "integer": pa.int64(),
    "int": pa.int64(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "float": pa.float64(),
}
_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:,\s*tz=([\w/+:-]+))?\]$")
_DECIMAL = re.compile(r"^decimal(128|256)?\((\d+),\s*(\d+)\)$")
_CANONICAL = {
    "date32[day]": "date32",
    "date64[ms]": "date64",
    "halffloat": "float16",
    "float": "float32",
    "double": "float64",
}
NOT_NULL = re.compile(r"\s+not\s+null$", re.IGNORECASE)


class UnknownTypeError(ValueError):
    """A type name Arrow does not know (pydantic turns it into a field error)."""


def parse_type(text: str) -> pa.DataType:
    """The Arrow type a configuration names; :class:`UnknownTypeError` says what is allowed."""
    name = text.strip().lower()
    if name in ALIASES:
        return ALIASES[name]
    if match := _TIMESTAMP.match(name):
        unit, tz = match.groups()
        return pa.timestamp(unit, tz="UTC" if tz and tz.lower() == "utc" else tz)
    if match := _DECIMAL.match(name):
        width, precision, scale = match.groups()
        make = pa.decimal256 if width == "256" else pa.decimal128
        return make(int(precision), int(scale))
    try:
        return pa.type_for_alias(name)
    except (ValueError, KeyError):
        raise UnknownTypeError(
            f"unknown column type {text!r}: use an Arrow type such as int64, float64, string, "
            "bool, date32, timestamp[us, tz=UTC] or decimal128(12, 2)"
        ) from None


def type_name(data_type: pa.DataType) -> str:
    """The canonical spelling of ``data_type`` (``parse_type(type_name(t)) == t``)."""
    if pa.types.is_timestamp(data_type):
        unit = data_type.unit
        return f"timestamp[{unit}, tz={data_type.tz}]" if data_type.tz else f"timestamp[{unit}]"
    if pa.types.is_decimal(data_type):
        return f"decimal{data_type.bit_width}({data_type.precision}, {data_type.scale})"
    return _CANONICAL.get(str(data_type), str(data_type))


def is_temporal(data_type: pa.DataType) -> bool:
    """Dates and timestamps: what a daily partition may be cut on."""
    return bool(pa.types.is_date(data_type) or pa.types.is_timestamp(data_type))
