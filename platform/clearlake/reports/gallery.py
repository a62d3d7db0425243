"""The report gallery: a static HTML index of every report, grouped by task, then repository
and commit, with one stable page per commit.

Built from the records the reports leave next to their pages (no database needed), with
relative links only, so the same files open from a file system, an artefact store or
the Data API's ``/reports/``. This module renders; :mod:`clearlake.reports.gallery_books`
keeps the pages up to date one change at a time (paginated books). Stable URLs (relative
to the reports root):

    index.html                              every task's newest candidates, then the others
    candidates/<repo>@<commit>/index.html   one commit: its reports and parameter variants
    books/tasks/<task>/<n>.html             every commit of a task, a page at a time
    trends/<task>/index.html                one task's trends (written by its leaderboard)
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import CandidateKey
from clearlake.reports.compare_page import page_path as compare_page_path
from clearlake.reports.execute import (
    ReportRecord,
    report_url,
    safe_key,
    write_atomic,
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;
color:#212121}table{border-collapse:collapse;margin:0.5em 0 1.5em;max-width:100%}
th,td{padding:0.3em 0.8em;border-bottom:1px solid #e0e0e0;text-align:left;
overflow-wrap:anywhere}code{overflow-wrap:anywhere}.verdict{padding:0.1em 0.5em;
border-radius:0.3em;color:#fff;background:#757575;display:inline-block}
.improved,.healthy,.ok{background:#2e7d32}
.regressed,.failed{background:#c62828}.anomaly,.anomalies{background:#ef6c00}img{max-width:100%}
.no-report{background:#fff;color:#757575;border:1px solid #bdbdbd}
"""
MISSING = "missing"
"""Status of a candidate Dagster knows that has no report yet (its run stopped before the
report, or the follow-up run of the regression-report sensor has not run yet)."""
PENDING = "pending"
"""Status of a candidate whose gate outcome is stored and whose report is not (yet): listed
with the outcome's headline (:mod:`clearlake.reports.verdicts`)."""


@dataclass(frozen=True)
class GalleryTask:
    """What the gallery knows of one task besides its reports."""

    candidates: Sequence[str] = ()
    """Candidate keys Dagster knows: those without a report are listed as 'no report'."""
    report_url: str | None = None
    """Dagster page of the task's candidate report asset (link for 'no report' rows)."""
    leaderboard: str | None = None
    """The task's leaderboard image, relative to the reports root, if it exists."""
    kind: str = ""
    """The task's type, shown next to its name."""
    min_effects: str = ""
    """The task's declared minimum effects per metric (what a verdict needs)."""
    calibration: str = ""
    """The headline of the task's latest gate calibration (A/A false-alarm rate), if any."""
    calibration_rows: Sequence[Mapping[str, str]] = ()
    """Its primary metric per subgroup, as text cells (rows, false alarms, MDE…)."""
    monitor: str | None = None
    """The task's monitoring page, relative to the reports root, if it exists."""
    trends: str | None = None
    """The task's trend page, relative to the reports root, if it exists."""


@dataclass(frozen=True)
class Gallery:
    index: Path
    commit_pages: dict[str, Path]
    reports: int


def commit_page(commit_key: str) -> str:
    """Relative path of one commit's stable page."""
    return f"candidates/{safe_key(commit_key)}/index.html"


def commit_url(reports_root: Path, key: str, *, base_url: str | None) -> str:
    """The public link of a candidate's stable gallery page (CI statuses and comments)."""
    return report_url(reports_root, commit_page(key), base_url=base_url)


def regressions(record: ReportRecord) -> str:
    """Significant regressions the comparison recorded ('' if none): the overall verdict can
    read 'no significant change' while a subgroup regressed and failed the blocking check."""
    for upstream in record.provenance.get("inputs", {}).values():
        found = str((upstream.get("metadata") or {}).get("regressions") or "none")
        if found != "none":
            return found
    return ""


def gate_summary(record: ReportRecord) -> tuple[str, str]:
    """``(status, headline)`` of the gate outcome the comparison stored (empty if none)."""
    if record.status == PENDING:
        return record.summary.get("gate", ""), record.summary.get("gate_summary", "")
    for upstream in record.provenance.get("inputs", {}).values():
        meta = upstream.get("metadata") or {}
        if meta.get("gate_summary"):
            return str(meta.get("gate", "")), str(meta["gate_summary"])
    return "", ""


def verdict_badge(record: ReportRecord) -> str:
    if record.status == MISSING:
        return '<span class="verdict no-report">no report</span>'
    status, headline = gate_summary(record)
    if headline:
        css = {"passed": "improved", "blocked": "regressed"}.get(status, status.replace(" ", "-"))
        badge = f'<span class="verdict {html.escape(css)}">{html.escape(headline)}</span>'
        if record.status == PENDING:
            badge += ' <span class="verdict no-report">report pending</span>'
        return badge
    text = "failed" if record.status == "failed" else record.summary.get("verdict", "unknown")
    css = text.split()[-1] if text[:1].isdigit() else text.replace(" ", "-")
    badge = f'<span class="verdict {html.escape(css)}">{html.escape(text)}</span>'
    regressed = regressions(record)
    if regressed and text != "failed":
        badge += f' <span class="verdict regressed">regressed: {html.escape(regressed)}</span>'
    return badge


def report_links(prefix: str, record: ReportRecord) -> str:
    if record.status == PENDING:
        return ""
    if record.status == MISSING:
        return f'<a href="{html.escape(record.html)}">Dagster</a>' if record.html else ""
    return (
        f'<a href="{prefix}{quote(record.html)}">page</a> · '
        f'<a href="{prefix}{quote(record.notebook)}">notebook</a>'
    )


def page_html(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/><title>"
        f"{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def _leaderboard(image: str | None, prefix: str, task: str) -> str:
    if image is None:
        return f"<p><em>No leaderboard yet for {html.escape(task)}.</em></p>"
    return f'<img class="leaderboard" src="{prefix}{quote(image)}" alt="Leaderboard of {task}"/>'


@dataclass(frozen=True)
class Variant:
    """One candidate report: a template's report of a commit, with or without parameters."""

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

    @property
    def label(self) -> str:
        label = f"{self.record.template} · {self.params or 'default'}"
        return f"{label} · variant {self.record.variant}" if self.record.variant else label

    @property
    def values(self) -> str:
        """What tells a report variant apart: its launchpad values that differ from the
        template's defaults."""
        shown = self.record.settable
        return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(shown.items())) or "defaults"


@dataclass
class TaskSection:
    """task → repository → commit (newest first) → variants."""

    repos: dict[str, dict[str, list[Variant]]] = field(default_factory=dict)


def _by_repo(records: list[ReportRecord]) -> dict[str, dict[str, list[Variant]]]:
    commits: dict[str, list[Variant]] = defaultdict(list)
    for record in records:
        variant = Variant.of(record)
        commits[variant.commit_key].append(variant)
    ordered = sorted(commits.values(), key=lambda vs: max(v.when for v in vs), reverse=True)
    repos: dict[str, dict[str, list[Variant]]] = defaultdict(dict)
    for variants in ordered:
        repos[variants[0].repo][variants[0].commit_key] = sorted(variants, key=lambda v: v.label)
    return dict(sorted(repos.items()))


def task_section(task: str, info: GalleryTask, repos: dict[str, dict[str, list[Variant]]]) -> str:
    kind = f" <small>({html.escape(info.kind)})</small>" if info.kind else ""
    parts = [f"<h2>{html.escape(task)}{kind}</h2>", _leaderboard(info.leaderboard, "", task)]
    if info.min_effects:
        parts.append(f"<p>Minimum effects: {html.escape(info.min_effects)}</p>")
    if info.calibration:
        parts.append(_calibration(info))
    if info.trends:
        parts.append(
            f"<p><a class='trends' href='{quote(info.trends)}'>Trends</a>: every metric over "
            "commits with intervals, per subgroup, and the significant changes</p>"
        )
    if info.monitor:
        parts.append(
            f"<p><a class='monitor' href='{quote(info.monitor)}'>Monitor of the shipped model"
            "</a>: metrics per day, alerts, drift</p>"
        )
    if not repos:
        parts.append("<p><em>No candidate reports yet.</em></p>")
    head = (
        "<tr><th>commit</th><th>message</th><th>report</th><th>gate</th>"
        "<th>baseline</th><th>links</th><th>committed / made</th></tr>"
    )
    for repo, commits in repos.items():
        rows = "".join(
            f'<tr><td><a href="{quote(commit_page(commit_key))}">{html.escape(v.commit)}</a>'
            f"</td><td>{html.escape(v.message)}</td><td>{html.escape(v.label)}</td>"
            f"<td>{verdict_badge(v.record)}</td>"
            f"<td>{html.escape(v.record.summary.get('baseline', ''))}</td>"
            f"<td>{report_links('', v.record)}</td><td>{html.escape(v.when)}</td></tr>"
            for commit_key, variants in commits.items()
            for v in variants
        )
        parts.append(f"<h3>{html.escape(repo)}</h3><table class='candidates'>{head}{rows}</table>")
    return "".join(parts)


def _calibration(info: GalleryTask) -> str:
    text = f"<p>Gate calibration: {html.escape(info.calibration)}</p>"
    if not info.calibration_rows:
        return text
    head = "".join(f"<th>{html.escape(h)}</th>" for h in info.calibration_rows[0])
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row.values()) + "</tr>"
        for row in info.calibration_rows
    )
    return f"{text}<table class='calibration'><tr>{head}</tr>{rows}</table>"


def variant_suffix(record: ReportRecord) -> str:
    return html.escape(f" · variant {record.variant}") if record.variant else ""


def _other_sections(records: list[ReportRecord]) -> str:
    by_template: dict[str, list[ReportRecord]] = defaultdict(list)
    for record in records:
        by_template[record.template].append(record)
    sections = []
    for template, items in sorted(by_template.items()):
        rows = "".join(
            f"<tr><td>{html.escape(r.partition or '')}{variant_suffix(r)}</td>"
            f"<td>{verdict_badge(r)}</td><td>{report_links('', r)}</td></tr>"
            for r in sorted(items, key=lambda r: r.partition or "", reverse=True)
        )
        sections.append(f"<h2>{html.escape(template)}</h2><table>{rows}</table>")
    return "".join(sections)


def commit_body(task: str, info: GalleryTask, commit_key: str, variants: list[Variant]) -> str:
    prefix = "../../"
    first = variants[0]
    rows = "".join(
        f"<tr><td>{html.escape(v.label)}</td><td>{verdict_badge(v.record)}</td>"
        f"<td>{html.escape(v.record.summary.get('baseline', ''))}</td>"
        f"<td><code>{html.escape(v.values)}</code></td>"
        f"<td>{report_links(prefix, v.record)}</td><td>{html.escape(v.record.run_id)}</td></tr>"
        for v in variants
    )
    return (
        f"<p><a href='{prefix}index.html'>← all reports</a></p><h1>{html.escape(commit_key)}</h1>"
        f"<p>Task <strong>{html.escape(task)}</strong>. {html.escape(first.message)} "
        f"<em>{html.escape(first.when)}</em></p>{_compare_link(task, variants, prefix)}"
        "<table><tr><th>report</th><th>verdict</th><th>baseline</th><th>values</th>"
        f"<th>links</th><th>run</th></tr>{rows}</table>"
        f"{_leaderboard(info.leaderboard, prefix, task)}"
    )


def _compare_link(task: str, variants: list[Variant], prefix: str) -> str:
    """The link "compare with its baseline": the compare page of the default variant."""
    for v in sorted(variants, key=lambda v: v.params is not None):
        baseline = v.record.summary.get("baseline", "")
        if baseline and baseline != "none" and v.record.partition:
            page = compare_page_path(task, baseline, v.record.partition)
            return (
                f"<p><a class='compare' href='{prefix}{quote(page)}'>compare with its baseline "
                f"{html.escape(baseline)}</a></p>"
            )
    return ""


def missing_record(task: str, key: str, info: GalleryTask) -> ReportRecord:
    link = f"{info.report_url}?view=partitions&partition={quote(key)}" if info.report_url else ""
    return ReportRecord("", key, MISSING, "", "", "", link, scope="candidate", task=task)


TASKS_FILE = "gallery.json"
"""What the gallery knew of each task when it was built (read back by the Data API, which
renders the index per viewer from the records it may open)."""


def render_pages(
    records: Sequence[ReportRecord], tasks: Mapping[str, GalleryTask]
) -> dict[str, bytes]:
    """Every gallery page (relative path → HTML) for ``records`` and ``tasks``: the index and
    one page per commit. Pure: the Data API renders a viewer's own subset with it."""
    return _render(records, tasks)[0]


def _render(
    records: Sequence[ReportRecord], tasks: Mapping[str, GalleryTask]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Pages by relative path, and the relative path of each commit key's page."""
    by_task: dict[str, list[ReportRecord]] = defaultdict(list)
    for record in records:
        if record.scope == "candidate":
            by_task[record.task or ""].append(record)
    others = [r for r in records if r.scope != "candidate"]
    for task, info in tasks.items():
        reported = {r.partition for r in by_task[task]}
        by_task[task] += [
            missing_record(task, k, info) for k in info.candidates if k not in reported
        ]
    pages: dict[str, bytes] = {}
    commits_seen: dict[str, str] = {}
    sections = []
    for task in sorted(by_task):
        info = tasks.get(task, GalleryTask())
        repos = _by_repo(by_task[task])
        for commits in repos.values():
            for commit_key, variants in commits.items():
                body = commit_body(task, info, commit_key, variants)
                pages[commit_page(commit_key)] = page_html(commit_key, body)
                commits_seen[commit_key] = commit_page(commit_key)
        sections.append(task_section(task, info, repos))
    body = (
        "<h1>Clearlake reports</h1>"
        + ("".join(sections) or "<p><em>No candidate reports yet.</em></p>")
        + _other_sections(others)
    )
    return {"index.html": page_html("Clearlake reports", body), **pages}, commits_seen


def write_tasks(root: Path, tasks: Mapping[str, GalleryTask]) -> None:
    data = {task: dataclasses.asdict(info) for task, info in tasks.items()}
    write_atomic(root / TASKS_FILE, json.dumps(data, indent=2, sort_keys=True).encode())


def read_tasks(root: Path) -> dict[str, GalleryTask]:
    """The tasks the last build knew (empty before the first build, or if unreadable)."""
    try:
        data = json.loads((root / TASKS_FILE).read_text(encoding="utf-8"))
        return {
            str(task): GalleryTask(
                candidates=tuple(info.get("candidates") or ()),
                report_url=info.get("report_url"),
                leaderboard=info.get("leaderboard"),
                kind=str(info.get("kind") or ""),
                min_effects=str(info.get("min_effects") or ""),
                calibration=str(info.get("calibration") or ""),
                calibration_rows=tuple(
                    {str(k): str(v) for k, v in row.items()}
                    for row in info.get("calibration_rows") or ()
                ),
                monitor=info.get("monitor"),
                trends=info.get("trends"),
            )
            for task, info in data.items()
        }
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def trend_page(task: str) -> str:
    """Relative path of a task's trend page."""
    return f"trends/{safe_key(task)}/index.html"


@dataclass(frozen=True)
class TrendFigure:
    """One image of a trend page, relative to the page, with what it shows."""

    title: str
    image: str
    note: str = ""


def write_trend_page(
    root: Path, task: str, figures: Sequence[TrendFigure], *, shown: int, total: int
) -> Path:
    """Write ``trends/<task>/index.html`` (atomically): ``figures`` in order, with how many of
    the task's ``total`` candidates they show (the last ``shown``)."""
    window = (
        f"the last {shown} of {total} candidates in commit order"
        if shown < total
        else f"all {total} candidate(s) in commit order"
    )
    items = "".join(
        f"<h2>{html.escape(f.title)}</h2>"
        + (f"<p>{html.escape(f.note)}</p>" if f.note else "")
        + f'<img class="trend" src="{quote(f.image)}" alt="{html.escape(f.title)}"/>'
        for f in figures
    )
    body = (
        "<p><a href='../../index.html'>← all reports</a></p>"
        f"<h1>Trends of {html.escape(task)}</h1><p>Showing {html.escape(window)}. Bands are "
        "95% intervals; a red ✕ marks a commit the gate blocked.</p>" + items
    )
    path = root / trend_page(task)
    write_atomic(path, page_html(f"Trends · {task}", body))
    return path
