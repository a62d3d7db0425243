"""A code location for the daemon test: the real drop-zone sensor and asset, ticking every
second, with a lake that can be told to pause mid-run so the test can kill it there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg

from assets.lake.drops import ZONES, drop_definitions
from clearlake.lake import drops
from clearlake.lake.store import LakeStore
from clearlake.orchestration.resources import DropZoneResource, LakeResource


class PausingLakeResource(LakeResource):
    pause_file: str

    def store(self) -> LakeStore:
        while Path(self.pause_file).exists():  # the test removes it (or kills the run)
            time.sleep(0.2)
        return super().store()


declared = ZONES["delay_annotations"]
zone = drops.DropZone(declared.name, declared.description, declared.schema, settle_seconds=0)
root = Path(os.environ["DROPS_TEST_ROOT"])
defs = dg.Definitions.merge(
    drop_definitions({zone.name: zone}, minimum_interval_seconds=1),
    dg.Definitions(
        resources={
            "lake": PausingLakeResource(url=str(root / "lake"), pause_file=str(root / "pause")),
            "drop_zone": DropZoneResource(root=str(root / "drops")),
        }
    ),
)
