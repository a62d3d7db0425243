"""The audit log: one JSON line per request (granted, denied, refused, unauthenticated…).

Who (principal and roles), what (dataset, range, filters, format), which columns and
how each was served (clear, masked, hashed), how many rows left the service, and the
outcome. Locally a file under ``CLEARLAKE_HOME/api``; in the cluster stdout (``-``), where
the log collector picks it up with the pod's other logs.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

Outcome = Literal["granted", "denied", "refused", "unauthenticated", "aborted", "failed"]


@dataclass
class AuditRecord:
    action: str
    outcome: Outcome
    principal: str | None = None
    roles: list[str] = field(default_factory=list)
    dataset: str | None = None
    columns: list[str] = field(default_factory=list)
    refused_datasets: list[str] = field(default_factory=list)
    refused_columns: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    filters: list[str] = field(default_factory=list)
    limit: int | None = None
    format: str | None = None
    rows: int = 0
    status: int = 200
    detail: str | None = None
    client: str | None = None
    duration_s: float = 0.0
    time: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())


class AuditLog:
    """Appends records as JSON lines, thread-safe, flushed per record."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        self._lock = threading.Lock()
        self._stream: TextIO
        if self.target == "-":
            self._stream = sys.stdout
        else:
            path = Path(self.target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("a", encoding="utf-8")

    def write(self, record: AuditRecord) -> None:
        line = json.dumps({"audit": "clearlake.api", **asdict(record)}, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not sys.stdout:
            self._stream.close()


def read_audit_log(path: Path) -> list[dict[str, Any]]:
    """Records of a local audit file (for tests and `clearlake api audit`)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
