"""The report gallery: a static HTML index of every report, one stable page per commit.

Built from the records the reports leave next to their pages (no database needed), with
relative links only, so the same files open from a file system, an artefact store or
the Data API's ``/reports/``. Stable URLs (relative to the reports root):

    index.html                              all reports, newest commits first
    candidates/<repo>@<commit>/index.html   one commit: its parameter variants, verdicts
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from clearlake.reports.candidate_keys import CandidateParts, parse_candidate
from clearlake.reports.publish import ReportRecord, read_records, safe_key, write_atomic

CANDIDATE_TEMPLATE = "candidate_report"
LEADERBOARD_PNG = "leaderboard.png"
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#212121}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{padding:0.3em 0.8em;
border-bottom:1px solid #e0e0e0;text-align:left}.verdict{padding:0.1em 0.5em;
border-radius:0.3em;color:#fff;background:#757575}.improved,.healthy,.ok{background:#2e7d32}
.regressed,.failed{background:#c62828}.anomaly,.anomalies{background:#ef6c00}img{max-width:100%}
"""


@dataclass(frozen=True)
class Gallery:
    index: Path
    commit_pages: dict[str, Path]
    reports: int


def commit_page(commit_key: str) -> str:
    """Relative path of one commit's stable page."""
    return f"candidates/{safe_key(commit_key)}/index.html"


def _verdict(record: ReportRecord) -> str:
    text = "failed" if record.status == "failed" else record.summary.get("verdict", "unknown")
    css = text.split()[-1] if text[:1].isdigit() else text.replace(" ", "-")
    return f'<span class="verdict {html.escape(css)}">{html.escape(text)}</span>'


def _link(prefix: str, record: ReportRecord) -> str:
    return (
        f'<a href="{prefix}{quote(record.html)}">page</a> · '
        f'<a href="{prefix}{quote(record.notebook)}">notebook</a>'
    )


def _page(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/><title>"
        f"{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def _leaderboard(root: Path, prefix: str) -> str:
    if not (root / LEADERBOARD_PNG).is_file():
        return "<p><em>No leaderboard yet: materialise evaluation/leaderboard.</em></p>"
    return f'<img class="leaderboard" src="{prefix}{LEADERBOARD_PNG}" alt="Leaderboard"/>'


def _by_commit(records: list[ReportRecord]) -> dict[str, list[tuple[CandidateParts, ReportRecord]]]:
    commits: dict[str, list[tuple[CandidateParts, ReportRecord]]] = defaultdict(list)
    for record in records:
        parts = parse_candidate(record.partition or "")
        commits[parts.commit_key].append((parts, record))
    return dict(
        sorted(commits.items(), key=lambda kv: max(r.created_at for _, r in kv[1]), reverse=True)
    )


def _candidate_rows(commits: dict[str, list[tuple[CandidateParts, ReportRecord]]]) -> str:
    rows = []
    for commit_key, variants in commits.items():
        for parts, record in sorted(variants, key=lambda v: v[0].params or ""):
            rows.append(
                f"<tr><td>{html.escape(parts.repo)}</td>"
                f'<td><a href="{quote(commit_page(commit_key))}">'
                f"{html.escape(parts.commit)}</a></td>"
                f"<td>{html.escape(parts.params or 'default')}</td><td>{_verdict(record)}</td>"
                f"<td>{html.escape(record.summary.get('baseline', ''))}</td>"
                f"<td>{_link('', record)}</td><td>{html.escape(record.created_at)}</td></tr>"
            )
    head = (
        "<tr><th>repository</th><th>commit</th><th>parameters</th><th>verdict</th>"
        "<th>baseline</th><th>report</th><th>made</th></tr>"
    )
    return (
        f"<table class='candidates'>{head}{''.join(rows)}</table>"
        if rows
        else ("<p><em>No candidate reports yet.</em></p>")
    )


def _other_sections(records: list[ReportRecord]) -> str:
    by_template: dict[str, list[ReportRecord]] = defaultdict(list)
    for record in records:
        by_template[record.template].append(record)
    sections = []
    for template, items in sorted(by_template.items()):
        rows = "".join(
            f"<tr><td>{html.escape(r.partition or '')}</td><td>{_verdict(r)}</td>"
            f"<td>{_link('', r)}</td></tr>"
            for r in sorted(items, key=lambda r: r.partition or "", reverse=True)
        )
        sections.append(f"<h2>{html.escape(template)}</h2><table>{rows}</table>")
    return "".join(sections)


def _commit_body(
    root: Path, commit_key: str, variants: list[tuple[CandidateParts, ReportRecord]]
) -> str:
    prefix = "../../"
    rows = "".join(
        f"<tr><td>{html.escape(parts.params or 'default')}</td><td>{_verdict(record)}</td>"
        f"<td>{html.escape(record.summary.get('baseline', ''))}</td>"
        f"<td><code>{html.escape(str(record.parameters))}</code></td>"
        f"<td>{_link(prefix, record)}</td><td>{html.escape(record.run_id)}</td></tr>"
        for parts, record in variants
    )
    return (
        f"<p><a href='{prefix}index.html'>← all reports</a></p><h1>{html.escape(commit_key)}</h1>"
        "<table><tr><th>parameters</th><th>verdict</th><th>baseline</th><th>values</th>"
        f"<th>report</th><th>run</th></tr>{rows}</table>{_leaderboard(root, prefix)}"
    )


def build_gallery(root: Path) -> Gallery:
    """Write ``index.html`` and every commit page under ``root`` (atomically, each)."""
    records = read_records(root)
    candidates = [r for r in records if r.template == CANDIDATE_TEMPLATE]
    others = [r for r in records if r.template != CANDIDATE_TEMPLATE]
    commits = _by_commit(candidates)
    pages = {}
    for commit_key, variants in commits.items():
        path = root / commit_page(commit_key)
        write_atomic(path, _page(commit_key, _commit_body(root, commit_key, variants)))
        pages[commit_key] = path
    body = (
        "<h1>Clearlake reports</h1><h2>Leaderboard</h2>"
        + _leaderboard(root, "")
        + "<h2>Candidates</h2>"
        + _candidate_rows(commits)
        + _other_sections(others)
    )
    index = root / "index.html"
    write_atomic(index, _page("Clearlake reports", body))
    return Gallery(index=index, commit_pages=pages, reports=len(records))
