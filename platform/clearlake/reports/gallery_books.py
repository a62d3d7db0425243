"""The gallery kept up to date one change at a time: paginated books instead of one page of
everything.

The first gallery re-read every ``report.json`` and rewrote every page on each update: at
20,000 candidates 20,006 pages and a 10 MB ``index.html`` per commit (issue 21, 27×). Now an
update takes the reports that changed and rewrites their commit pages, the one page of each
book that holds them and ``index.html``; it reads as little. Relative to the reports root::

    index.html                                  each task's newest commits, links to its books
    candidates/<repo>@<commit>/index.html       one commit (the stable URL CI links to)
    books/tasks/<task>/<n>.html                 the task's commits, PAGE_SIZE a page
    books/repos/<task>/<repo>/<n>.html          one repository's commits within the task
    books/reports/<template>/<n>.html           the other reports (days, snapshots)
    books/<book>/<n>.json, state.json, entries/<key>.json   what the pages are rendered from

Pages are numbered from the oldest: page 1 holds the first ``PAGE_SIZE`` entries a book ever
took and an entry keeps its page for good, so a new commit changes only the last page of its
books (a later report of an old commit rewrites that commit's page only). Each page shows its
entries newest first. The page JSON keeps the entries' report records, so the Data API can
render a page for one viewer from it (:func:`read_page`) without reading anything else.
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clearlake.reports import gallery
from clearlake.reports.execute import ReportRecord, read_records, safe_key, write_atomic

PAGE_SIZE = 50
"""Entries per book page: a page stays ~50 rows however long the history."""
INDEX_ROWS = 20
"""Newest commits per task (and reports per template) on ``index.html``."""
BOOKS = "books"
STATE = "state.json"
Visible = Callable[[ReportRecord], bool]


def _everyone(_: ReportRecord) -> bool:
    return True


def task_book(task: str) -> str:
    return f"{BOOKS}/tasks/{safe_key(task)}"


def repo_book(task: str, repo: str) -> str:
    return f"{BOOKS}/repos/{safe_key(task)}/{safe_key(repo)}"


def template_book(template: str) -> str:
    return f"{BOOKS}/reports/{safe_key(template)}"


def page_file(book: str, number: int) -> str:
    """Relative path of a book's page ``number`` (1 = the oldest entries)."""
    return f"{book}/{number}.html"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True, default=str).encode())


@dataclass
class Page:
    """One book page: its entries (key → report records) in the order the book took them."""

    number: int
    entries: dict[str, list[ReportRecord]] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path, book: str, number: int) -> Page:
        data = _read_json(root / book / f"{number}.json") or {}
        entries = {
            str(key): [ReportRecord(**r) for r in records]
            for key, records in (data.get("entries") or {}).items()
        }
        return cls(number, entries)

    def write(self, root: Path, book: str) -> None:
        entries = {k: [dataclasses.asdict(r) for r in rs] for k, rs in self.entries.items()}
        _write_json(root / book / f"{self.number}.json", {"entries": entries})


@dataclass
class Book:
    """A paginated list of entries under ``root/<folder>``; pages loaded on demand."""

    root: Path
    folder: str
    title: str
    count: int = 0
    pages: dict[int, Page] = field(default_factory=dict)
    dirty: set[int] = field(default_factory=set)

    @classmethod
    def open(cls, root: Path, folder: str, title: str) -> Book:
        state = _read_json(root / folder / STATE) or {}
        title = title or str(state.get("title") or folder)
        return cls(root, folder, title, count=int(state.get("count") or 0))

    @property
    def last(self) -> int:
        return max(1, -(-self.count // PAGE_SIZE))

    def page(self, number: int) -> Page:
        if number not in self.pages:
            self.pages[number] = Page.read(self.root, self.folder, number)
        return self.pages[number]

    def locate(self, key: str) -> int | None:
        found = _read_json(self.root / self.folder / "entries" / f"{safe_key(key)}.json")
        return int(found["page"]) if isinstance(found, dict) and "page" in found else None

    def get(self, key: str) -> list[ReportRecord]:
        """``key``'s records (``key`` as given or as its folder name, :func:`safe_key`)."""
        number = self.locate(key)
        if number is None:
            return []
        entries = self.page(number).entries
        found = entries.get(key) or next(
            (rs for k, rs in entries.items() if safe_key(k) == safe_key(key)), []
        )
        return list(found)

    def put(self, key: str, records: list[ReportRecord]) -> int:
        """Set ``key``'s records (a new key goes to the last page); the page's number."""
        number = self.locate(key)
        if number is None:
            number = self.count // PAGE_SIZE + 1
            self.count += 1
            _write_json(
                self.root / self.folder / "entries" / f"{safe_key(key)}.json", {"page": number}
            )
        self.page(number).entries[key] = records
        self.dirty.add(number)
        return number

    def newest(self, limit: int) -> list[tuple[str, list[ReportRecord]]]:
        """The ``limit`` newest entries, newest first (reads at most two pages when
        ``limit`` ≤ ``PAGE_SIZE``)."""
        found: list[tuple[str, list[ReportRecord]]] = []
        number = self.last
        while number >= 1 and len(found) < limit:
            found += list(reversed(self.page(number).entries.items()))
            number -= 1
        return found[:limit]

    def flush(self, render: Callable[[Book, Page], bytes]) -> list[Path]:
        """Write the changed pages (JSON and HTML) and the state; the HTML paths written."""
        written = []
        for number in sorted(self.dirty):
            page = self.pages[number]
            page.write(self.root, self.folder)
            path = self.root / page_file(self.folder, number)
            write_atomic(path, render(self, page))
            written.append(path)
        if self.dirty:
            _write_json(self.root / self.folder / STATE, {"count": self.count, "title": self.title})
        self.dirty.clear()
        return written


# -- rendering ----------------------------------------------------------------------------


def _prefix(folder: str) -> str:
    return "../" * len(folder.split("/"))


def _nav(book: Book, number: int) -> str:
    links = [f"page {number} of {book.last} ({book.count} entries, newest first)"]
    if number < book.last:
        links.append(f"<a rel='next' href='{book.last}.html'>newest</a>")
        links.append(f"<a rel='prev' href='{number + 1}.html'>newer</a>")
    if number > 1:
        links.append(f"<a rel='next' href='{number - 1}.html'>older</a>")
        links.append("<a href='1.html'>oldest</a>")
    return f"<p class='pages'>{' · '.join(links)}</p>"


def _variants(records: Sequence[ReportRecord]) -> list[gallery.Variant]:
    return sorted((gallery.Variant.of(r) for r in records), key=lambda v: v.label)


def commit_rows(
    entries: Iterable[tuple[str, Sequence[ReportRecord]]], prefix: str, visible: Visible
) -> str:
    rows = []
    for commit_key, records in entries:
        for v in _variants([r for r in records if visible(r)]):
            rows.append(
                f'<tr><td><a href="{prefix}{quote(gallery.commit_page(commit_key))}">'
                f"{html.escape(v.commit)}</a></td><td>{html.escape(v.message)}</td>"
                f"<td>{html.escape(v.label)}</td><td>{gallery.verdict_badge(v.record)}</td>"
                f"<td>{html.escape(v.record.summary.get('baseline', ''))}</td>"
                f"<td>{gallery.report_links(prefix, v.record)}</td>"
                f"<td>{html.escape(v.when)}</td></tr>"
            )
    head = (
        "<tr><th>commit</th><th>message</th><th>report</th><th>gate</th>"
        "<th>baseline</th><th>links</th><th>committed / made</th></tr>"
    )
    return f"<table class='candidates'>{head}{''.join(rows)}</table>"


def report_rows(
    entries: Iterable[tuple[str, Sequence[ReportRecord]]], prefix: str, visible: Visible
) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.partition or '')}{gallery.variant_suffix(r)}</td>"
        f"<td>{gallery.verdict_badge(r)}</td><td>{gallery.report_links(prefix, r)}</td></tr>"
        for _, records in entries
        for r in records
        if visible(r)
    )
    return f"<table>{rows}</table>"


def render_page(book: Book, page: Page, visible: Visible = _everyone) -> bytes:
    prefix = _prefix(book.folder)
    entries = list(reversed(page.entries.items()))
    rows = (
        report_rows(entries, prefix, visible)
        if book.folder.startswith(f"{BOOKS}/reports/")
        else commit_rows(entries, prefix, visible)
    )
    body = (
        f"<p><a href='{prefix}index.html'>← all reports</a></p><h1>{html.escape(book.title)}</h1>"
        f"{_nav(book, page.number)}{rows}{_nav(book, page.number)}"
    )
    return gallery.page_html(f"{book.title} · page {page.number}", body)


def _book_link(book: Book, text: str) -> str:
    href = quote(page_file(book.folder, book.last))
    return f"<a class='book' href='{href}'>{html.escape(text)}</a>"


@dataclass(frozen=True)
class GalleryState:
    """What ``index.html`` is drawn from: each task's repositories and the templates of the
    other reports (kept in ``gallery.json`` beside the tasks' info), and the event cursor of
    the last update."""

    repos: dict[str, list[str]] = field(default_factory=dict)
    templates: list[str] = field(default_factory=list)
    cursor: int | None = None


STATE_FILE = "gallery_state.json"


def read_state(root: Path) -> GalleryState | None:
    """``None`` before the first build with books (the Data API then scans, once)."""
    data = _read_json(root / STATE_FILE)
    if not isinstance(data, dict):
        return None
    return GalleryState(
        repos={str(t): [str(r) for r in rs] for t, rs in (data.get("repos") or {}).items()},
        templates=[str(t) for t in data.get("templates") or []],
        cursor=data.get("cursor"),
    )


def write_state(root: Path, state: GalleryState) -> None:
    _write_json(root / STATE_FILE, dataclasses.asdict(state))


def render_index(
    root: Path,
    tasks: Mapping[str, gallery.GalleryTask],
    state: GalleryState,
    visible: Visible = _everyone,
    shown_tasks: Callable[[str], bool] = lambda _: True,
) -> bytes:
    """``index.html`` from the books' newest pages: work bounded by the number of tasks,
    repositories and templates, never by the history."""
    sections = []
    for task in sorted(set(tasks) | set(state.repos)):
        if not shown_tasks(task):
            continue
        info = tasks.get(task, gallery.GalleryTask())
        book = Book.open(root, task_book(task), f"Candidates of {task}")
        newest = [(k, [r for r in rs if visible(r)]) for k, rs in book.newest(INDEX_ROWS)]
        repos: dict[str, dict[str, list[gallery.Variant]]] = {}
        for commit_key, records in newest:
            variants = _variants(records)
            if variants:
                repos.setdefault(variants[0].repo, {})[commit_key] = variants
        section = gallery.task_section(task, info, dict(sorted(repos.items())))
        links = [_book_link(book, f"all {book.count} commits of {task}")] if book.count else []
        for repo in state.repos.get(task, []):
            repo_pages = Book.open(root, repo_book(task, repo), f"{repo} · {task}")
            links.append(_book_link(repo_pages, f"{repo} ({repo_pages.count})"))
        if links:
            section += f"<p class='books'>Every page: {' · '.join(links)}</p>"
        sections.append(section)
    for template in state.templates:
        book = Book.open(root, template_book(template), template)
        newest = [(k, [r for r in rs if visible(r)]) for k, rs in book.newest(INDEX_ROWS)]
        if not any(rs for _, rs in newest):
            continue
        sections.append(
            f"<h2>{html.escape(template)}</h2>{report_rows(newest, '', visible)}"
            f"<p class='books'>{_book_link(book, f'all {book.count} of {template}')}</p>"
        )
    body = "<h1>Clearlake reports</h1>" + (
        "".join(sections) or "<p><em>No candidate reports yet.</em></p>"
    )
    return gallery.page_html("Clearlake reports", body)


# -- updating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A report partition that changed: every record it has now (its report variants, or a
    pending/missing placeholder), replacing what the gallery had for it."""

    partition: str
    records: tuple[ReportRecord, ...]
    task: str | None = None
    """The task of a candidate partition; ``None`` for another report (``template`` set)."""
    template: str | None = None


@dataclass
class Update:
    written: list[Path] = field(default_factory=list)
    commit_pages: dict[str, Path] = field(default_factory=dict)


def _merge(
    old: list[ReportRecord], partition: str, new: Sequence[ReportRecord]
) -> list[ReportRecord]:
    kept = [r for r in old if r.partition != partition]
    real = [r for r in new if r.status not in (gallery.MISSING, gallery.PENDING)]
    placeholder = [r for r in new if r.status in (gallery.MISSING, gallery.PENDING)]
    if real or any(r.status not in (gallery.MISSING, gallery.PENDING) for r in kept):
        return sorted(
            [*kept, *real], key=lambda r: (r.template, r.partition or "", r.variant or "")
        )
    return [*kept, *placeholder[:1]] if placeholder else kept


def update(
    root: Path,
    changes: Sequence[Change],
    *,
    tasks: Mapping[str, gallery.GalleryTask],
    cursor: int | None = None,
) -> Update:
    """Apply ``changes``: their commit pages, the pages of the books holding them, the books'
    states and ``index.html``. Idempotent: a change applied twice leaves the same pages."""
    state = read_state(root) or GalleryState()
    repos = {t: list(rs) for t, rs in state.repos.items()}
    templates = list(state.templates)
    books: dict[str, Book] = {}

    def book(folder: str, title: str) -> Book:
        if folder not in books:
            books[folder] = Book.open(root, folder, title)
        return books[folder]

    done = Update()
    for change in changes:
        if change.task is None:
            template = change.template or ""
            book(template_book(template), template).put(change.partition, list(change.records))
            if template not in templates:
                templates.append(template)
            continue
        task = change.task
        variant = gallery.Variant.of(
            change.records[0]
            if change.records
            else ReportRecord("", change.partition, gallery.MISSING, "", "", "", "")
        )
        commit_key = variant.commit_key
        tasks_book = book(task_book(task), f"Candidates of {task}")
        records = _merge(tasks_book.get(commit_key), change.partition, change.records)
        tasks_book.put(commit_key, records)
        book(repo_book(task, variant.repo), f"{variant.repo} · {task}").put(commit_key, records)
        if variant.repo not in repos.setdefault(task, []):
            repos[task] = sorted([*repos[task], variant.repo])
        info = tasks.get(task, gallery.GalleryTask())
        if records:
            path = root / gallery.commit_page(commit_key)
            write_atomic(path, commit_view(task, info, commit_key, records))
            done.written.append(path)
            done.commit_pages[commit_key] = path
    for each in books.values():
        done.written += each.flush(lambda b, p: render_page(b, p))
    new_state = GalleryState(
        repos=repos, templates=templates, cursor=cursor if cursor is not None else state.cursor
    )
    index = root / "index.html"
    write_atomic(index, render_index(root, tasks, new_state))
    done.written.append(index)
    gallery.write_tasks(root, tasks)
    write_state(root, new_state)
    return done


def reset(root: Path) -> None:
    """Forget every book (a full rebuild starts from nothing)."""
    shutil.rmtree(root / BOOKS, ignore_errors=True)
    (root / STATE_FILE).unlink(missing_ok=True)


# -- reading one commit -------------------------------------------------------------------


def partition_records(root: Path, partition: str) -> list[ReportRecord]:
    """Every report record of one partition, its variants too: one listing of the root
    (the templates) and of each template's folder for that partition — not of the history."""
    found = []
    folder = safe_key(partition)
    try:
        templates = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    except OSError:
        return []
    for template in templates:
        base = template / folder
        if base.is_dir():
            found += [p for p in (base / "report.json", *base.glob("*/report.json")) if p.is_file()]
    records = []
    for path in sorted(found):
        try:
            records.append(ReportRecord.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
    return [r for r in records if r.partition == partition]


def commit_partitions(root: Path, tasks: Iterable[str], commit_key: str) -> set[str]:
    """The partitions a commit's gallery entry holds (parameter variants of the commit are
    partitions of their own), with ``commit_key`` itself: one small read per task."""
    found = {commit_key}
    for task in tasks:
        records = Book.open(root, task_book(task), "").get(commit_key)
        found |= {r.partition for r in records if r.partition}
    return found


def parse_page(relative: str) -> tuple[str, int] | None:
    """``(book folder, page number)`` of a book page's path, else ``None``."""
    folder, _, name = relative.rpartition("/")
    if not folder.startswith(f"{BOOKS}/") or not name.endswith(".html"):
        return None
    number = name.removesuffix(".html")
    return (folder, int(number)) if number.isdigit() and int(number) > 0 else None


def commit_view(
    task: str, info: gallery.GalleryTask, commit_key: str, records: Sequence[ReportRecord]
) -> bytes:
    """One commit's page from its records."""
    body = gallery.commit_body(task, info, commit_key, _variants(records))
    return gallery.page_html(commit_key, body)


# -- a full build -------------------------------------------------------------------------


def changes_of(
    records: Sequence[ReportRecord], tasks: Mapping[str, gallery.GalleryTask]
) -> list[Change]:
    """``records`` (and the tasks' candidates without any) as changes, oldest first, so
    a full build numbers the pages in commit order."""
    grouped: dict[tuple[str | None, str | None, str], list[ReportRecord]] = {}
    for record in records:
        key: tuple[str | None, str | None, str]
        if record.scope == "candidate":
            key = (record.task or "", None, record.partition or "")
        else:
            key = (None, record.template, record.partition or "")
        grouped.setdefault(key, []).append(record)
    for task, info in tasks.items():
        for candidate in info.candidates:
            grouped.setdefault(
                (task, None, candidate), [gallery.missing_record(task, candidate, info)]
            )

    def when(item: tuple[tuple[str | None, str | None, str], list[ReportRecord]]) -> str:
        (_, _, partition), found = item
        return min(gallery.Variant.of(r).when for r in found) + partition

    return [
        Change(partition, tuple(found), task=task, template=template)
        for (task, template, partition), found in sorted(grouped.items(), key=when)
    ]


def build_gallery(
    root: Path,
    *,
    tasks: Mapping[str, gallery.GalleryTask] | None = None,
    pending: Sequence[ReportRecord] = (),
    cursor: int | None = None,
) -> gallery.Gallery:
    """Rebuild the whole gallery from every record under ``root`` (one scan): the first
    build, ``clearlake reports gallery``. Later builds are :func:`update` calls.

    ``tasks`` adds what the records cannot know: candidates without any report, the
    leaderboard image and the task's type; a task with reports but no entry is shown too.
    ``pending``: verdicts whose report is still to come (:mod:`clearlake.reports.verdicts`).
    """
    tasks = dict(tasks or {})
    records = read_records(root)
    reset(root)
    done = update(root, changes_of([*records, *pending], tasks), tasks=tasks, cursor=cursor)
    return gallery.Gallery(
        index=root / "index.html",
        commit_pages=done.commit_pages,
        reports=sum(r.status != gallery.MISSING for r in records),
    )
