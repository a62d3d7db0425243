"""Trends: bounded plots whatever the history, and the page a person opens (real Chromium)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from evaluation_env import TASK, Evaluated

from clearlake.evaluation import trends
from clearlake.evaluation.leaderboard import Entry
from clearlake.evaluation.scoring import IMPROVED, NO_CHANGE, REGRESSED
from clearlake.reports import gallery

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
GROUPS = [("carrier", c) for c in ("AA", "B6", "DL", "UA", "WN")] + [
    ("origin", o) for o in ("EWR", "JFK", "LGA")
]


def frames(regressed: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores overall and for eight subgroups; DL improved, UA regressed if ``regressed``."""
    rows = [("overall", "all"), *GROUPS]
    scores = pd.DataFrame(
        [
            {
                "metric": metric,
                "subgroup_kind": kind,
                "subgroup": group,
                "value": 10.0,
                "ci_low": 9.7,
                "ci_high": 10.3,
            }
            for metric in ("mae", "rmse")
            for kind, group in rows
        ]
    )
    comparison = scores[["metric", "subgroup_kind", "subgroup"]].assign(
        verdict=[
            REGRESSED if regressed and g == "UA" else IMPROVED if g == "DL" else NO_CHANGE
            for g in scores["subgroup"]
        ]
    )
    return scores, comparison


FRAMES = {flag: frames(flag) for flag in (False, True)}


def entry(index: int) -> Entry:
    """Candidate ``index``, an hour after the previous one; every 7th regressed in UA."""
    scores, comparison = FRAMES[index % 7 == 6]
    return Entry(f"repo@{index:07x}", T0 + dt.timedelta(hours=index), scores, comparison)


def test_plots_stay_bounded_as_history_grows(tmp_path: Path) -> None:
    history = [entry(i) for i in range(2_000)][::-1]  # listed in any order
    frame = trends.trend_frame(history)
    assert frame["candidate"].nunique() == trends.LAST_COMMITS
    assert frame["candidate"].iloc[-1] == "repo@00007cf"  # the newest last
    figures = trends.draw_trends(frame, metrics=["mae"], directory=tmp_path)
    assert [f[1] for f in figures] == ["metrics.svg", "subgroups-mae.svg", "heatmap-mae.svg"]
    for _, name, _ in figures:
        svg = (tmp_path / name).read_text()
        labels = set(re.findall(r"repo@[0-9a-f]{7}", svg))
        assert 0 < len(labels) <= trends.MAX_TICKS, name  # never one label per candidate
        assert len(svg) < 250_000, name


def test_heatmap_colours_only_significant_changes(tmp_path: Path) -> None:
    """Seven commits, eight subgroups: DL improved in all (green), UA regressed once (red),
    the other 6 × 7 + 6 cells blank."""
    import matplotlib.image

    frame = trends.trend_frame([entry(i) for i in range(7)])
    ranked = trends.ranked_subgroups(frame, metric="mae")
    assert ranked[:2] == [("carrier", "DL"), ("carrier", "UA")]
    svg = trends.plot_heatmap(frame, metric="mae", path=tmp_path / "h.svg").read_text()
    assert "carrier=UA" in svg and "carrier=DL" in svg
    found = re.search(r'xlink:href="data:image/png;base64,([^"]+)"', svg)
    assert found is not None
    pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(found.group(1))))[..., :3]
    colours = {tuple(round(float(c) * 255) for c in p) for p in pixels.reshape(-1, 3)}
    red, green, white = (207, 34, 46), (26, 127, 55), (255, 255, 255)
    assert {red, green, white} <= colours
    share = {
        colour: float((abs(pixels * 255 - colour).sum(axis=-1) < 3).mean())
        for colour in (red, green, white)
    }
    assert share[white] > share[green] > share[red] > 0, share


@pytest.mark.slow
def test_trend_page_of_a_real_history(evaluated: Evaluated, tmp_path: Path) -> None:
    """The leaderboard asset wrote the task's trend page: the blocked commit is marked and
    the page fits 1,280 px in real Chromium."""
    from playwright.sync_api import sync_playwright

    root = evaluated.env.settings.reports_root
    page_path = root / gallery.trend_page(TASK)
    assert page_path.is_file()
    text = page_path.read_text()
    for image in ("metrics.svg", "subgroups-mae.svg", "heatmap-mae.svg"):
        assert f'src="{image}"' in text
    blocked = evaluated.key("flight-delays", 3)
    metrics_svg = (page_path.parent / "metrics.svg").read_text()
    assert blocked in metrics_svg and "blocked" in metrics_svg
    heatmap = (page_path.parent / "heatmap-mae.svg").read_text()
    assert "carrier=WN" in heatmap  # the subgroup that regressed is a row of the heatmap
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_path.as_uri())
        assert page.get_by_role("heading", name=f"Trends of {TASK}").is_visible()
        loaded = page.locator("img.trend").evaluate_all(
            "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
        )
        assert loaded and all(loaded)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.screenshot(path=tmp_path / "trends.png", full_page=True)
        browser.close()
