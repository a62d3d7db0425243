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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import CandidateKey
from clearlake.reports.publish import ReportRecord, read_records, safe_key, write_atomic

CANDIDATE_TEMPLATE = "candidate_report"
LEADERBOARD_PNG = "leaderboard.png"
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#212121}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{padding:0.3em 0.8em;
border-bottom:1px solid #e0e0e0;text-align:left}.verdict{padding:0.1em 0.5em;
border-radius:0.3em;color:#fff;background:#757575;white-space:nowrap}.improved,.healthy,.ok{background:#2e7d32}
.regressed,.failed{background:#c62828}.anomaly,.anomalies{background:#ef6c00}img{max-width:100%}
.no-report{background:#fff;color:#757575;border:1px solid #bdbdbd}
"""


@dataclass(frozen=True)
class Gallery:
    index: Path
    commit_pages: dict[str, Path]
    reports: int


def commit_page(commit_key: str) -> str:
    """Relative path of one commit's stable page."""
    return f"candidates/{safe_key(commit_key)}/index.html"


MISSING = "missing"
"""Status of a candidate Dagster knows but that has no report yet (its run failed before the
comparison, or the follow-up report run of ``regression_report_sensor`` has not run yet)."""
COMPARISON_INPUT = "evaluation/candidate_comparison"


def regressions(record: ReportRecord) -> str:
    """The comparison's significant regressions the report was made from ('' if none).

    The overall verdict can read "no significant change" while a subgroup regressed (and
    failed the blocking check): the gallery says so next to the verdict.
    """
    upstream = record.provenance.get("inputs", {}).get(COMPARISON_INPUT, {})
    found = str((upstream.get("metadata") or {}).get("regressions") or "none")
    return "" if found == "none" else found


def _verdict(record: ReportRecord) -> str:
    if record.status == MISSING:
        return '<span class="verdict no-report">no report</span>'
    text = "failed" if record.status == "failed" else record.summary.get("verdict", "unknown")
    css = text.split()[-1] if text[:1].isdigit() else text.replace(" ", "-")
    badge = f'<span class="verdict {html.escape(css)}">{html.escape(text)}</span>'
    regressed = regressions(record) if record.template == CANDIDATE_TEMPLATE else ""
    if regressed and text != "failed":
        badge += f' <span class="verdict regressed">regressed: {html.escape(regressed)}</span>'
    return badge


def _link(prefix: str, record: ReportRecord) -> str:
    if record.status == MISSING:
        return f'<a href="{html.escape(record.html)}">Dagster</a>' if record.html else ""
    return (
        f'<a href="{prefix}{quote(record.html)}">page</a> · '
        f'<a href="{prefix}{quote(record.notebook)}">notebook</a>'
    )


def _page(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/><title>"
        f"{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def _leaderboard(present: bool, prefix: str) -> str:
    if not present:
        return "<p><em>No leaderboard yet: materialise evaluation/leaderboard.</em></p>"
    return f'<img class="leaderboard" src="{prefix}{LEADERBOARD_PNG}" alt="Leaderboard"/>'


@dataclass(frozen=True)
class Variant:
    """One candidate report: a commit of a repository, with or without a parameter set."""

    repo: str
    commit: str
    params: str | None
    record: ReportRecord

    @classmethod
    def of(cls, record: ReportRecord) -> Variant:
        key = record.partition or ""
        try:
            parsed = CandidateKey.parse(key)
        except ClearlakeError:  # not a candidate key: listed on its own
            return cls(key, key, None, record)
        return cls(parsed.repo, parsed.commit, parsed.param_hash, record)

    @property
    def commit_key(self) -> str:
        return f"{self.repo}@{self.commit}"

    @property
    def when(self) -> str:
        """Commit time when the evaluation recorded it, else when the report was made."""
        return str(self.record.provenance.get("committed_at") or self.record.created_at)

    @property
    def message(self) -> str:
        return str(self.record.provenance.get("commit_message") or "")


def _by_repo(records: list[ReportRecord]) -> dict[str, dict[str, list[Variant]]]:
    """repository → commit (newest first) → variants."""
    commits: dict[str, list[Variant]] = defaultdict(list)
    for record in records:
        variant = Variant.of(record)
        commits[variant.commit_key].append(variant)
    ordered = sorted(commits.values(), key=lambda vs: max(v.when for v in vs), reverse=True)
    repos: dict[str, dict[str, list[Variant]]] = defaultdict(dict)
    for variants in ordered:
        repos[variants[0].repo][variants[0].commit_key] = sorted(
            variants, key=lambda v: v.params or ""
        )
    return dict(sorted(repos.items()))


def _candidate_sections(repos: dict[str, dict[str, list[Variant]]]) -> str:
    if not repos:
        return "<p><em>No candidate reports yet.</em></p>"
    head = (
        "<tr><th>commit</th><th>message</th><th>parameters</th><th>verdict</th>"
        "<th>baseline</th><th>report</th><th>committed / made</th></tr>"
    )
    sections = []
    for repo, commits in repos.items():
        rows = "".join(
            f'<tr><td><a href="{quote(commit_page(commit_key))}">{html.escape(v.commit)}</a>'
            f"</td><td>{html.escape(v.message)}</td><td>{html.escape(v.params or 'default')}</td>"
            f"<td>{_verdict(v.record)}</td>"
            f"<td>{html.escape(v.record.summary.get('baseline', ''))}</td>"
            f"<td>{_link('', v.record)}</td><td>{html.escape(v.when)}</td></tr>"
            for commit_key, variants in commits.items()
            for v in variants
        )
        sections.append(
            f"<h3>{html.escape(repo)}</h3><table class='candidates'>{head}{rows}</table>"
        )
    return "".join(sections)


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


def _commit_body(leaderboard: bool, commit_key: str, variants: list[Variant]) -> str:
    prefix = "../../"
    first = variants[0]
    rows = "".join(
        f"<tr><td>{html.escape(v.params or 'default')}</td><td>{_verdict(v.record)}</td>"
        f"<td>{html.escape(v.record.summary.get('baseline', ''))}</td>"
        f"<td><code>{html.escape(str(v.record.parameters))}</code></td>"
        f"<td>{_link(prefix, v.record)}</td><td>{html.escape(v.record.run_id)}</td></tr>"
        for v in variants
    )
    return (
        f"<p><a href='{prefix}index.html'>← all reports</a></p><h1>{html.escape(commit_key)}</h1>"
        f"<p>{html.escape(first.message)} <em>{html.escape(first.when)}</em></p>"
        "<table><tr><th>parameters</th><th>verdict</th><th>baseline</th><th>values</th>"
        f"<th>report</th><th>run</th></tr>{rows}</table>{_leaderboard(leaderboard, prefix)}"
    )


def _missing(key: str, dagster_url: str | None) -> ReportRecord:
    link = (
        f"{dagster_url.rstrip('/')}/assets/reports/{CANDIDATE_TEMPLATE}?view=partitions"
        f"&partition={quote(key)}"
        if dagster_url
        else ""
    )
    return ReportRecord(CANDIDATE_TEMPLATE, key, MISSING, "", "", "", link)


def build_gallery(
    root: Path, *, candidates: Sequence[str] = (), dagster_url: str | None = None
) -> Gallery:
    """Write ``index.html`` and every commit page under ``root`` (atomically, each).

    ``candidates`` are the candidate keys Dagster knows: those without a report are listed
    too (linked to their Dagster page), so a run that stopped before its report shows up.
    """
    records = read_records(root)
    reported = {r.partition for r in records if r.template == CANDIDATE_TEMPLATE}
    records += [_missing(k, dagster_url) for k in candidates if k not in reported]
    candidates_ = [r for r in records if r.template == CANDIDATE_TEMPLATE]
    others = [r for r in records if r.template != CANDIDATE_TEMPLATE]
    repos = _by_repo(candidates_)
    leaderboard = (root / LEADERBOARD_PNG).is_file()  # one stat per build, not per page
    pages = {}
    for commits in repos.values():
        for commit_key, variants in commits.items():
            path = root / commit_page(commit_key)
            write_atomic(path, _page(commit_key, _commit_body(leaderboard, commit_key, variants)))
            pages[commit_key] = path
    body = (
        "<h1>Clearlake reports</h1><h2>Leaderboard</h2>"
        + _leaderboard(leaderboard, "")
        + "<h2>Candidates</h2>"
        + _candidate_sections(repos)
        + _other_sections(others)
    )
    index = root / "index.html"
    write_atomic(index, _page("Clearlake reports", body))
    return Gallery(
        index=index, commit_pages=pages, reports=sum(r.status != MISSING for r in records)
    )
