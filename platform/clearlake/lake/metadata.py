"""The Dagster metadata every published lake partition carries."""

from __future__ import annotations

from typing import Any

import dagster as dg

from clearlake.lake.store import WrittenPartition


def written_metadata(written: WrittenPartition) -> dict[str, Any]:
    """Where the partition is, its size and its exact content version.

    ``content_hash`` is the partition's own: in a ranged run Dagster gives every
    partition the range's combined data version, so this is what tells the days apart.
    """
    return {
        "path": dg.MetadataValue.path(written.uri),
        "dagster/row_count": written.row_count,
        "bytes": written.byte_size,
        "content_hash": written.content_hash[:16],
    }
