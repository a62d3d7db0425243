"""Fixtures for report tests (helpers in ``report_harness``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import dagster as dg
import pytest
from report_harness import INSTANCE_YAML, PUBLIC_URL, ReportEnv

from clearlake.lake.store import LakeStore


@pytest.fixture(scope="module")
def report_env(
    tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore, sample_db: str
) -> Iterator[ReportEnv]:
    """One Clearlake home + Dagster instance shared by a test module (runs cost ~3 s each).

    The lake is a copy of the session's sample lake: stand-in evaluation outputs are
    written into it and must not leak into other tests' lake.
    """
    home = tmp_path_factory.mktemp("reports-home")
    shutil.copytree(sample_lake.root, home / "lake")
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARLAKE_HOME", str(home))
        patch.setenv("CLEARLAKE_LAKE_URL", (home / "lake").as_uri())
        patch.setenv("CLEARLAKE_SOURCE_URL", sample_db)
        patch.setenv("CLEARLAKE_PUBLIC_URL", PUBLIC_URL)
        patch.setenv("DAGSTER_HOME", str(dagster_home))
        with dg.DagsterInstance.get() as instance:
            yield ReportEnv(home=home, reports_root=home / "reports", instance=instance)
