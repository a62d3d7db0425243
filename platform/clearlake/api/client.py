"""Python client of the Data API: the lake reader's arguments, pandas or Arrow out.

>>> from clearlake.api import Client
>>> with Client() as api:  # CLEARLAKE_API_URL / CLEARLAKE_API_TOKEN  # doctest: +SKIP
...     big = api.read("orders", "2024-03-01", "2024-03-31",
...                    columns=["region", "amount"], filters=[("region", "==", "north")])

Rows arrive as an Arrow IPC stream and are decoded batch by batch (:meth:`Client.scan`
never holds more than a batch); a refusal raises :class:`ApiClientError` with the
server's message (what was refused and what to do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, overload

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from clearlake.api.chunk_file import ChunkFile
from clearlake.errors import ClearlakeError, ConfigurationError
from clearlake.settings import ENV_VARS, load_settings

OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "in": "in"}
OPS["not in"] = "notin"
ClientFilter = tuple[str, str, Any] | str
DateArg = dt.date | str | None


class ApiClientError(ClearlakeError):
    """The service refused a request; ``status`` and ``refused`` say what and why."""

    def __init__(self, status: int, detail: str, refused: list[str] | None = None) -> None:
        self.status = status
        self.detail = detail
        self.refused = refused or []
        super().__init__(f"Data API answered {status}: {detail}")


def _filter_text(item: ClientFilter) -> str:
    if isinstance(item, str):
        return item
    column, op, value = item
    if op not in OPS:
        raise ValueError(f"Filter operator {op!r} is not one of {', '.join(OPS)}.")
    values = value if isinstance(value, list | tuple | set) else [value]
    text = ",".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values)
    return f"{column}:{OPS[op]}:{text}"


class Client:
    """A session with the Data API (bearer token; closes its connections on exit)."""

    def __init__(
        self, url: str | None = None, token: str | None = None, *, timeout: float = 300.0
    ) -> None:
        if url is None or token is None:
            settings = load_settings()
            url, token = url or settings.api_url, token or settings.api_token
        if not token:
            raise ConfigurationError(
                f"No Data API token: pass token= or set {ENV_VARS['api_token']} (get one "
                "with `clearlake api token issue --principal NAME --role ROLE`)."
            )
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- catalog ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json("/health")

    def datasets(self) -> pd.DataFrame:
        """Datasets you may read: description, partitions and freshness, one row each."""
        rows = [
            {
                "name": d["name"],
                "description": d["description"],
                "partitioned": d["partitioned"],
                "first": d["partitions"]["first"],
                "last": d["partitions"]["last"],
                "partitions": d["partitions"]["count"],
                "last_modified": d["freshness"]["last_modified"],
                "columns": len(d["fields"]),
            }
            for d in self._json("/v1/datasets")["datasets"]
        ]
        return pd.DataFrame(rows)

    def schema(self, dataset: str) -> pd.DataFrame:
        """Columns with their class and how your roles receive them (allow/hash/mask/deny)."""
        return pd.DataFrame(self._json(f"/v1/datasets/{dataset}/schema")["fields"])

    # -- data ------------------------------------------------------------------------------
    def scan(
        self,
        dataset: str,
        start: DateArg = None,
        end: DateArg = None,
        *,
        columns: Sequence[str] | None = None,
        filters: Sequence[ClientFilter] | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the selection as Arrow record batches (bounded memory)."""
        response = self._open(
            dataset, start, end, columns=columns, filters=filters, limit=limit, fmt="arrow"
        )
        try:
            reader = ipc.open_stream(ChunkFile(response.iter_bytes()))
        except BaseException:
            response.close()
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            finally:
                response.close()

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    @overload
    def read(
        self,
        dataset: str,
        start: DateArg = ...,
        end: DateArg = ...,
        *,
        columns: Sequence[str] | None = ...,
        filters: Sequence[ClientFilter] | None = ...,
        limit: int | None = ...,
        as_arrow: Literal[False] = ...,
    ) -> pd.DataFrame: ...
    @overload
    def read(
        self,
        dataset: str,
        start: DateArg = ...,
        end: DateArg = ...,
        *,
        columns: Sequence[str] | None = ...,
        filters: Sequence[ClientFilter] | None = ...,
        limit: int | None = ...,
        as_arrow: Literal[True],
    ) -> pa.Table: ...
    def read(
        self,
        dataset: str,
        start: DateArg = None,
        end: DateArg = None,
        *,
        columns: Sequence[str] | None = None,
        filters: Sequence[ClientFilter] | None = None,
        limit: int | None = None,
        as_arrow: bool = False,
    ) -> pd.DataFrame | pa.Table:
        """Like ``clearlake.lake.read``, through the API (as your roles may see it)."""
        table = self.scan(
            dataset, start, end, columns=columns, filters=filters, limit=limit
        ).read_all()
        return table if as_arrow else table.to_pandas()

    def download(
        self,
        dataset: str,
        path: Path,
        start: DateArg = None,
        end: DateArg = None,
        *,
        fmt: Literal["parquet", "csv", "jsonl", "arrow"] = "parquet",
        columns: Sequence[str] | None = None,
        filters: Sequence[ClientFilter] | None = None,
        limit: int | None = None,
    ) -> Path:
        """Stream the selection into a file (any size) and return its path."""
        response = self._open(
            dataset, start, end, columns=columns, filters=filters, limit=limit, fmt=fmt
        )
        try:
            with path.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 20):
                    handle.write(chunk)
        finally:
            response.close()
        return path

    # -- plumbing --------------------------------------------------------------------------
    def _open(
        self,
        dataset: str,
        start: DateArg,
        end: DateArg,
        *,
        columns: Sequence[str] | None,
        filters: Sequence[ClientFilter] | None,
        limit: int | None,
        fmt: str,
    ) -> httpx.Response:
        params: dict[str, Any] = {"format": fmt}
        for key, day in (("start", start), ("end", end)):
            if day is not None:
                params[key] = day.isoformat() if isinstance(day, dt.date) else day
        if columns is not None:
            params["columns"] = list(columns)
        if filters:
            params["filter"] = [_filter_text(f) for f in filters]
        if limit is not None:
            params["limit"] = limit
        request = self._http.build_request("GET", f"/v1/datasets/{dataset}/data", params=params)
        response = self._http.send(request, stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            self._raise(response)
        return response

    def _json(self, path: str) -> dict[str, Any]:
        response = self._http.get(path)
        if response.status_code != 200:
            self._raise(response)
        body: dict[str, Any] = response.json()
        return body

    @staticmethod
    def _raise(response: httpx.Response) -> NoReturn:
        try:
            body = response.json()
            raise ApiClientError(response.status_code, body["detail"], body.get("refused"))
        except (ValueError, KeyError, TypeError):
            raise ApiClientError(response.status_code, response.text[:500]) from None
