"""Fixtures of the production-shaped tests: a real S3 server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from s3_server import S3Server, running_s3


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def s3_lake_url(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; this process's AWS variables point at the server (as the chart's)."""
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    return f"s3://{bucket}/lake"
