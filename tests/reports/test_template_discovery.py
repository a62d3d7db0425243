"""A scientist's new template: copied into the project's templates folder, it becomes a report
asset, runs for its partition and appears in the gallery, with no Python edited."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from report_harness import REPORTS_URL, ReportEnv, definitions, materialization

from clearlake.reports import render
from clearlake.settings import DEFAULT_PROJECT
from clearlake.versioning import json_version

DAY = "2013-01-05"


def new_template(path: Path) -> None:
    """What a scientist writes in Jupyter: a parameters cell and a scope in the metadata."""
    cells = [
        render.markdown_cell("# Windy days\n\nHow windy each origin was on one lake day."),
        render.code_cell(
            "from clearlake import lake\nfrom clearlake.reports import notebook as nb"
        ),
        render.code_cell(
            "day: str | None = None  # lake day\n"
            "threshold = 20.0  # wind speed (mph) that counts as windy\n"
            "provenance = None  # filled by Dagster",
            tags=["parameters"],
        ),
        render.code_cell(
            "frame = lake.read('weather', day, day)\n"
            "windy = frame[frame['wind_speed'] > threshold]\n"
            "nb.publish_summary(verdict=f'{len(windy)} windy hours', day=day)\n"
            "windy.groupby('origin').size().rename('windy hours').to_frame()"
        ),
    ]
    metadata = {"clearlake": {"scope": "day", "tables": ["weather"], "owners": ["team:ops"]}}
    render.write(render.notebook(cells, metadata=metadata), path)


@pytest.fixture(scope="module")
def project(report_env: ReportEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the flights example with one more template in its notebooks folder."""
    root = tmp_path_factory.mktemp("project") / "flights"
    shutil.copytree(DEFAULT_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    new_template(root / "notebooks" / "windy_days.ipynb")
    return root


def test_new_template_becomes_an_asset_runs_and_is_in_the_gallery(
    report_env: ReportEnv, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARLAKE_CONFIG", str(project / "clearlake.yaml"))
    defs = definitions()
    spec = defs.resolve_all_asset_specs()
    windy = next(s for s in spec if s.key.to_user_string() == "reports/windy_days")
    assert {d.asset_key.to_user_string() for d in windy.deps} == {"lake/weather"}
    assert windy.owners == ["team:ops"]
    assert windy.description == "How windy each origin was on one lake day."
    assert json.loads(json.dumps(windy.metadata["parameters"].value)) == {"threshold": 20.0}

    result = report_env.materialize(
        "reports/windy_days", partition=DAY, config={"reports__windy_days": {"threshold": 25.0}}
    )
    assert result.success
    meta = materialization(result, "reports/windy_days")
    variant = json_version({"threshold": 25.0})[:8]  # not the default: a variant of the day
    folder = report_env.reports_root / "windy_days" / DAY / variant
    assert meta["report"] == f"{REPORTS_URL}/windy_days/{DAY}/{variant}/report.html"
    assert meta["verdict"].endswith("windy hours")
    assert json.loads(meta["provenance/parameters"]) == {"day": DAY, "threshold": 25.0}
    assert "windy hours" in (folder / "report.html").read_text()

    gallery = report_env.materialize("reports/report_gallery")
    assert gallery.success
    index = (report_env.reports_root / "index.html").read_text()
    assert "<h2>windy_days</h2>" in index
    assert f'href="windy_days/{DAY}/{variant}/report.html"' in index
