"""The gallery's compare page of two candidates: one static HTML file per pair.

``compare/<task>/<A>__<B>.html`` (A the baseline side), next to ``<A>__<B>.json`` (the
whole comparison, :meth:`CandidateComparison.to_json`). Self-contained: the delta plot is
inline SVG (drawn here: no plotting library in the loop, milliseconds per page) and every
wide table scrolls inside its own box, so the page never overflows a 1,280 px window.

The gallery builds the page of each gated candidate against its baseline (the link "compare
with its baseline" on every commit page); ``index.json`` remembers which gate record each
page was built from, so a gallery build only compares the candidates whose outcome is new.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from clearlake.errors import ClearlakeError
from clearlake.evaluation import gate
from clearlake.evaluation.compare import CandidateComparison, Side
from clearlake.evaluation.slices import p_text
from clearlake.lake.store import LakeStore
from clearlake.reports.execute import safe_key, write_atomic

FOLDER = "compare"
INDEX = "index.json"
COLOURS = {
    "regressed": "#c62828",
    "improved": "#2e7d32",
    "inconclusive": "#bf8700",
    "no significant change": "#757575",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#212121}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{padding:0.25em 0.6em;
border-bottom:1px solid #e0e0e0;text-align:left;vertical-align:top}
.scroll{overflow-x:auto;max-width:100%}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{padding:0.1em 0.5em;border-radius:0.3em;color:#fff;white-space:nowrap}
.regressed{background:#c62828}.improved{background:#2e7d32}.inconclusive{background:#bf8700}
.no-significant-change{background:#757575}.warn{color:#c62828;font-weight:bold}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-family:inherit}
td.key{white-space:nowrap;font-family:monospace}code{overflow-wrap:anywhere}svg{max-width:100%}
"""
SHOWN_FEATURES = 6


def page_path(task: str, a: str, b: str) -> str:
    """Relative path (below the reports root) of the compare page of A and B."""
    return f"{FOLDER}/{task}/{safe_key(a)}__{safe_key(b)}.html"


def _e(value: object) -> str:
    return html.escape(str(value))


def _num(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _e(value)
    return f"{number:.4g}" if number == number else "–"


def _where(row: Mapping[Any, Any]) -> str:
    kind = str(row["subgroup_kind"])
    return "overall" if kind == "overall" else f"{kind}={row['subgroup']}"


def delta_plot(deltas: pd.DataFrame, metric: str) -> str:
    """Inline SVG: ``metric``'s delta with its interval per subgroup, coloured by verdict."""
    rows = deltas[deltas["metric"] == metric].to_dict("records")
    if not rows:
        return ""
    values = [float(r[c]) for r in rows for c in ("ci_low", "ci_high", "delta")]
    finite = [v for v in values if v == v] + [0.0]
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    left, width, step = 210, 640, 18

    def x(v: float) -> float:
        return left + (v - low) / span * width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 {step * len(rows) + 50}" '
        f'width="900" role="img" aria-label="delta of {_e(metric)} per subgroup">',
        f'<line x1="{x(0):.1f}" y1="5" x2="{x(0):.1f}" y2="{step * len(rows) + 10}" '
        'stroke="#9e9e9e" stroke-dasharray="3,3"/>',
    ]
    for i, row in enumerate(rows):
        y = 15 + i * step
        colour = COLOURS.get(str(row["verdict"]), "#757575")
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="11" text-anchor="end">'
            f"{_e(_where(row))}</text>"
        )
        lo, hi, d = float(row["ci_low"]), float(row["ci_high"]), float(row["delta"])
        if lo == lo and hi == hi:
            parts.append(
                f'<line x1="{x(lo):.1f}" y1="{y}" x2="{x(hi):.1f}" y2="{y}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        if d == d:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y}" r="4" fill="{colour}"/>')
    bottom = step * len(rows) + 30
    parts.append(f'<text x="{left}" y="{bottom}" font-size="11">{_num(low)}</text>')
    parts.append(
        f'<text x="{left + width}" y="{bottom}" font-size="11" text-anchor="end">{_num(high)}'
        f'</text><text x="{left + width / 2}" y="{bottom + 14}" font-size="11" '
        f'text-anchor="middle">B − A of {_e(metric)} (dashed line: 0)</text></svg>'
    )
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]], css: str = "") -> str:
    top = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<div class='scroll'><table class='{css}'><tr>{top}</tr>{body}</table></div>"


def _badge(verdict: str) -> str:
    return f"<span class='verdict {_e(verdict.replace(' ', '-'))}'>{_e(verdict)}</span>"


def render_page(result: CandidateComparison, *, gallery: str = "../../index.html") -> bytes:
    a, b = result.a, result.b
    deltas = result.deltas
    changed = deltas["verdict"].isin(["regressed", "improved"])
    shown = deltas[(deltas["metric"] == result.primary) | changed]
    hidden = len(deltas) - len(shown)
    delta_rows = [
        [
            _e(r["metric"]),
            _e(_where(r)),
            _num(r["baseline_value"]),
            _num(r["candidate_value"]),
            _num(r["delta"]),
            f"{_num(r['ci_low'])} … {_num(r['ci_high'])}",
            _e(r["n_rows"]),
            _badge(str(r["verdict"])),
        ]
        for r in shown.to_dict("records")
    ]
    rows_note = _e(result.rows_note)
    if result.rows_only_a or result.rows_only_b:
        rows_note = f"<span class='warn'>{rows_note}</span>"
    sides = "".join(
        f"<tr><th>{label}</th><td class='key'>{_e(s.key)}</td><td class='key'>{_commits(s)}"
        f"</td><td><pre>{_e(s.message)}</pre></td><td>{_e(s.author)}<br/>{_e(s.committed_at[:16])}"
        f"</td><td>{_e(s.gate or 'not gated')}</td></tr>"
        for label, s in (("A (baseline side)", a), ("B", b))
    )
    stages = (
        f"<p class='stages'>Changed: <strong>{_e(result.stages_note)}</strong></p>"
        if result.stages_note
        else ""
    )
    parts = [
        f"<p><a href='{gallery}'>← all reports</a></p>",
        f"<h1>Compare {_e(a.key)} → {_e(b.key)}</h1>",
        f"<p>Task <strong>{_e(result.task)}</strong> · {rows_note} · deltas are B − A.</p>",
        stages,
        "<div class='scroll'><table class='sides'><tr><th></th><th>candidate</th><th>commit</th>"
        f"<th>message</th><th>author</th><th>gate</th></tr>{sides}</table></div>",
        f"<h2>Deltas of {_e(result.primary)} per subgroup</h2>",
        delta_plot(deltas, result.primary),
        "<p><small>Dot: delta; line: its interval. Red regressed, green improved, amber "
        "inconclusive, grey no significant change.</small></p>",
        f"<h2>Metric and subgroup deltas</h2><p>{_e(result.deltas_source)}. Intervals: "
        f"{_e(result.interval)}.</p>",
        _table(
            ["metric", "where", "A", "B", "delta", "interval", "rows", "verdict"],
            delta_rows,
            "deltas",
        ),
        f"<p>{hidden} row(s) of the other metrics neither regressed nor improved: in the JSON "
        "beside this page.</p>"
        if hidden
        else "",
        _slices(result),
        _flips(result),
        _changes(result),
    ]
    parts += [f"<p><em>{_e(n)}</em></p>" for n in result.notes]
    title = f"Compare {a.key} → {b.key}"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/><meta name='viewport' "
        f"content='width=device-width'/><title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    ).encode()


def _commits(side: Side) -> str:
    """The commit cell: each stage's commit of a pipeline's combination, else the one."""
    if not side.stages:
        return _e(side.sha[:12])
    return "<br/>".join(f"{_e(repo)} {_e(sha[:12])}" for repo, sha in side.stages.items())


def _slices(result: CandidateComparison) -> str:
    search = result.slices
    top = search.regressed().head(15)
    rows = [
        [
            _e(r["slice"]),
            _e(r["n_rows"]),
            _num(r["delta"]),
            f"{_num(r['ci_low'])} … {_num(r['ci_high'])}",
            p_text(r["p_adjusted"]),
        ]
        for r in top.to_dict("records")
    ]
    note = search.to_json()["note"]
    body = (
        _table(["slice", "rows", "delta", "interval", "adjusted p"], rows, "slices")
        if rows
        else "<p>No slice regressed significantly.</p>"
    )
    return f"<h2>Slices that regressed most</h2><p>{_e(note)}.</p>{body}"


def _flips(result: CandidateComparison) -> str:
    counts = result.flip_counts
    frame = result.flips
    fixed = [c for c in frame.columns if c in ("row_id", "actual", "loss_a", "loss_b", "change")]
    labels = [c for c in frame.columns if c not in fixed]
    head = fixed + labels[: SHOWN_FEATURES + 6]
    rows = [
        [_num(r[c]) if c != "row_id" else _e(r[c]) for c in head] for r in frame.to_dict("records")
    ]
    flipped = f", {counts['flipped']} changed class" if "flipped" in counts else ""
    return (
        f"<h2>Rows whose {_e(result.loss)} grew most</h2><p>Of {counts['rows']} rows: "
        f"{counts['worse']} worse, {counts['better']} better, {counts['unchanged']} unchanged"
        f"{flipped}.</p>" + _table(head, rows, "flips")
    )


def _changes(result: CandidateComparison) -> str:
    params = [[_e(c.field), _e(c.a), _e(c.b)] for c in result.parameters]
    files = [
        [f"<code>{_e(f.path)}</code>", _e("bin" if f.added is None else f"+{f.added}"),
         _e("" if f.deleted is None else f"-{f.deleted}")]
        for f in result.files or []
    ]  # fmt: skip
    provenance = [
        [_e(c.kind), _e(c.where), _e(c.field), f"<code>{_e(c.a)}</code>", f"<code>{_e(c.b)}</code>"]
        for c in result.provenance
    ]
    return "".join(
        [
            "<h2>Parameters</h2>",
            _table(["parameter", "A", "B"], params) if params else "<p>Same parameters.</p>",
            f"<h2>Files changed</h2><p>{_e(result.files_note)}</p>",
            _table(["file", "added", "deleted"], files) if files else "",
            f"<h2>Provenance</h2><p>What differs, from {_e(result.provenance_source)}.</p>",
            _table(["kind", "where", "field", "A", "B"], provenance, "provenance")
            if provenance
            else "<p>Nothing: same code, data, parameters and environment.</p>",
        ]
    )


def write_page(root: Path, result: CandidateComparison) -> Path:
    """Write the page and its JSON; return the page."""
    relative = page_path(result.task, result.a.key, result.b.key)
    target = root / relative
    write_atomic(target, render_page(result))
    data = json.dumps(result.to_json(), indent=2, default=str).encode()
    write_atomic(target.with_suffix(".json"), data)
    return target


Compare = Callable[[str, str, str], CandidateComparison]
"""``(task, a, b) → comparison`` (the caller binds project, store, instance and paths)."""


def build_pages_of(
    root: Path, *, store: LakeStore, task: str, keys: Iterable[str], compare: Compare
) -> list[Path]:
    """The compare page of each of ``keys`` that has a gate outcome with a baseline: one read
    per key, nothing listed (the gallery's update of the candidates that changed)."""
    written = []
    for key in sorted(set(keys)):
        outcome = gate.load_outcome(store, task, key)
        if outcome is None or not outcome.baseline:
            continue
        try:
            written.append(write_page(root, compare(task, outcome.baseline, key)))
        except ClearlakeError:  # one pair's problem never stops the gallery
            continue
    return written


def build_baseline_pages(
    root: Path, *, store: LakeStore, tasks: list[str], compare: Compare
) -> list[Path]:
    """The compare page of every gated candidate with its baseline, for outcomes stored since
    the last build (one LIST of each task's gate records, one read per new record)."""
    written = []
    for task in tasks:
        index_file = root / FOLDER / task / INDEX
        try:
            index: dict[str, Any] = json.loads(index_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            index = {}
        for key, stored_at in sorted(store.list_files(gate.gate_table(task), ".json").items()):
            stamp = stored_at.isoformat() if stored_at else ""
            if index.get(key, {}).get("stamp") == stamp:
                continue
            outcome = gate.load_outcome(store, task, key)
            entry: dict[str, Any] = {"stamp": stamp, "page": None}
            if outcome is not None and outcome.baseline:
                try:
                    written.append(write_page(root, compare(task, outcome.baseline, key)))
                    entry["page"] = page_path(task, outcome.baseline, key)
                except ClearlakeError as exc:  # one pair's problem never stops the gallery
                    entry["error"] = str(exc)
            index[key] = entry
        if index:
            write_atomic(index_file, json.dumps(index, indent=2, sort_keys=True).encode())
    return written
