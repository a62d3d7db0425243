"""Column transforms applied per record batch: mask, keyed hash, drop.

The keyed hash is HMAC-SHA256(deployment key, value as text), hex, truncated to 16
characters (64 bits). The same value gives the same hash in every response of a
deployment, so hashed columns still join (orders.customer_id ↔ customers.customer_id) and count,
while nobody without the key can recover or confirm a value. Each batch hashes only its
distinct values (dictionary encoding), so the cost follows cardinality, not row count.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

import pyarrow as pa
import pyarrow.compute as pc

from clearlake.api.policy import Access

MASK = "****"
HASH_CHARS = 16


@functools.lru_cache(maxsize=131_072)
def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_CHARS]


def output_type(access: Access, source: pa.DataType) -> pa.DataType:
    """Type of a column as a role receives it."""
    return pa.string() if access == "hash" else source


def mask(array: pa.Array) -> pa.Array:
    """Strings become ``****`` (nulls stay null); other types become null."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pc.if_else(
            pc.is_valid(array), pa.scalar(MASK, array.type), pa.scalar(None, array.type)
        )
    return pa.nulls(len(array), type=array.type)


def hash_values(array: pa.Array, key: bytes) -> pa.Array:
    """Keyed hash of every value (nulls stay null), as strings."""
    text = array if pa.types.is_string(array.type) else pc.cast(array, pa.string())
    encoded = pc.dictionary_encode(text)
    digests = [keyed_hash(key, v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(digests, pa.string()), encoded.indices)


class BatchTransform:
    """Turns lake batches into what a principal may see, column by column."""

    def __init__(
        self, schema: pa.Schema, columns: list[str], grants: dict[str, Access], *, key: bytes
    ) -> None:
        denied = [name for name in columns if grants.get(name, "deny") == "deny"]
        if denied:
            raise ValueError(f"denied columns cannot be transformed: {denied}")
        self.key = key
        self.columns = list(columns)
        self.grants = {name: grants[name] for name in self.columns}
        self.schema = pa.schema(
            [
                pa.field(
                    name,
                    output_type(self.grants[name], schema.field(name).type),
                    nullable=schema.field(name).nullable or self.grants[name] == "mask",
                )
                for name in self.columns
            ]
        )

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = []
        for name in self.columns:
            column = batch.column(name)
            access = self.grants[name]
            if access == "mask":
                column = mask(column)
            elif access == "hash":
                column = hash_values(column, self.key)
            arrays.append(column)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)
