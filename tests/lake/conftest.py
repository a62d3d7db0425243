from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from replication_harness import Replicator


@pytest.fixture
def replicator_factory(tmp_path: Path) -> Callable[[str], Replicator]:
    def make(source_url: str) -> Replicator:
        return Replicator((tmp_path / "lake").as_uri(), source_url)

    return make
