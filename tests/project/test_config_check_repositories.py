"""`clearlake config check` imports each repository's entrypoint from its branch head, and
names a feature SQL mistake by line and column: a typo is one line there, not a failure of
every commit evaluated afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shop_project import COMMITS, write_project

from clearlake.demo.repos import SampleCommit, create_repository


def check(config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLEARLAKE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "clearlake.cli.main", "config", "check", str(config)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop")


def test_an_importable_entrypoint_passes(shop: Path, tmp_path: Path) -> None:
    create_repository(shop.parent / "repos" / "returns-model", COMMITS)
    done = check(shop, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stdout
    assert "warning" not in done.stdout


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"other.py": "X = 1\n"}, "cannot import module 'returns_model': ModuleNotFoundError"),
        ({"returns_model.py": "class Model:\n    pass\n"}, "has no 'ReturnsModel'"),
        (
            {"returns_model.py": "class ReturnsModel:\n    def fit(self, train):\n        pass\n"},
            "ReturnsModel is not an algorithm class: it lacks predict",
        ),
    ],
    ids=["no module", "no class", "no predict"],
)
def test_a_broken_entrypoint_is_one_line_naming_the_commit(
    shop: Path, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    shas = create_repository(
        shop.parent / "repos" / "returns-model", (SampleCommit("Start", files),)
    )
    done = check(shop, tmp_path / "home")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    error = " ".join(done.stderr.split())
    assert "repositories[0].entrypoint: 'returns_model:ReturnsModel' at " in error
    assert f"returns-model@{shas[-1][:7]}" in error
    assert message in error


def test_a_repository_not_created_yet_is_a_warning(shop: Path, tmp_path: Path) -> None:
    done = check(shop, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "warning: repository 'returns-model' not checked" in " ".join(done.stdout.split())


def test_a_feature_sql_mistake_names_line_and_column(shop: Path, tmp_path: Path) -> None:
    sql = shop.parent / "features" / "order_features.sql"
    sql.write_text(sql.read_text().replace("from orders", "form orders"))
    done = check(shop, tmp_path / "home")
    assert done.returncode == 2
    error = " ".join(done.stderr.split())
    assert 'line 3, column 6: syntax error at or near "orders"' in error, error
