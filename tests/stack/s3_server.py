"""A real S3 API on loopback (moto's server mode) for the lake and the stack tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    stop: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)
    """Stops the server now (an outage mid-run); stopping again does nothing."""

    def env(self, **overrides: str) -> dict[str, str]:
        """What the chart gives a pod (lake.endpointUrl, lake.region) plus dummy keys."""
        env = {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        env.update(overrides)
        return env

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Object keys, without the empty directory markers pyarrow leaves (``…/``)."""
        paginator = self.client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix)
        found = (item["Key"] for page in pages for item in page.get("Contents", []))
        return sorted(key for key in found if not key.endswith("/"))

    def pending_uploads(self, bucket: str) -> list[str]:
        answer = self.client().list_multipart_uploads(Bucket=bucket)
        return [upload["Key"] for upload in answer.get("Uploads", [])]


@contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, stopped on exit."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    stopped = threading.Event()

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            server.stop()

    try:
        yield S3Server(f"http://127.0.0.1:{port}", stop)
    finally:
        stop()
