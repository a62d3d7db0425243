"""Listings: tab-separated and whole when piped, typed with --json, cut at words on a screen."""

from __future__ import annotations

import json

import pytest

from clearlake.cli.output import Listing, shorten


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("Naive baseline", 40, "Naive baseline"),
        (
            "Gradient boosting on departure delay, schedule, route and weather",
            40,
            "Gradient boosting on departure delay…",
        ),
        ("Nudge  Southwest\n(WN) arrivals later", 22, "Nudge Southwest (WN)…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),  # one word: cut inside it
        ("exactly ten", 11, "exactly ten"),
    ],
)
def test_shorten_cuts_at_a_word_boundary(text: str, limit: int, shown: str) -> None:
    assert shorten(text, limit) == shown
    assert len(shorten(text, limit)) <= limit


def listing() -> Listing:
    view = Listing(["name", "value", "note"], shown={"note": 10})
    view.add({"name": "a", "value": 0.123456, "note": "x" * 500})
    view.add({"name": "b", "value": float("nan"), "note": "two\nlines"})
    return view


def test_piped_rows_are_whole_and_tab_separated(capsys: pytest.CaptureFixture[str]) -> None:
    listing().show()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["name\tvalue\tnote", f"a\t0.1235\t{'x' * 500}", "b\t\ttwo lines"]


def test_json_keeps_types(capsys: pytest.CaptureFixture[str]) -> None:
    listing().show(as_json=True)
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["value"] == 0.123456 and rows[1]["value"] is None
    assert rows[0]["note"] == "x" * 500
