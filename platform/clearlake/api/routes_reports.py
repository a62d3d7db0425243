"""The report gallery, served read-only from ``reports_root`` (a static HTML tree).

With ``reports: authenticated`` (the default) a page is open only to a principal whose
roles read every dataset the page is about (:mod:`clearlake.api.report_access`), and the
index, commit and book pages are rendered per request and viewer from the reports they may
open: the index and the paginated book pages from the gallery's books
(:mod:`clearlake.reports.gallery_books`: one page of entries, whatever the history), a
commit's page from its own report records plus the verdict stored for it when its report is
still to come (:mod:`clearlake.reports.verdicts`), so it exists as soon as its gate outcome
is stored, before any gallery build. Before the first build the index scans the records. With
``reports: public`` the policy publishes the gallery as built: no token, no check. Paths
are resolved and must stay inside the gallery (``..``, hidden files and symlinks leading
out are refused).
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from clearlake.api.config import ApiConfig
from clearlake.api.deps import ConfigDep, current_principal, optional_principal
from clearlake.api.errors import BadRequestError, ForbiddenError, NotFoundError
from clearlake.api.models import ErrorBody
from clearlake.api.report_access import refused
from clearlake.api.request_audit import audit_of
from clearlake.api.tokens import Principal
from clearlake.errors import LakeUnavailableError
from clearlake.evaluation import gate
from clearlake.reports import gallery_books as books
from clearlake.reports.execute import ReportRecord, read_records
from clearlake.reports.gallery import GalleryTask, Variant, read_tasks, render_pages
from clearlake.reports.verdicts import pending_record, pending_verdicts

log = logging.getLogger("clearlake.api")
router = APIRouter(tags=["reports"])
PAGE_PATTERN = r"^([^./\\\x00][^/\\\x00]*(/[^./\\\x00][^/\\\x00]*)*/?)?$"
"""Slash-separated segments, none hidden (leading dot), no backslash or NUL."""
HTML: dict[str, object] = {
    "description": "A page (HTML), or an asset it links (CSS, images).",
    "content": {"text/html": {"schema": {"type": "string"}}, "*/*": {}},
}
REPORT_ERRORS: dict[int | str, dict[str, object]] = {
    200: HTML,
    400: {"model": ErrorBody, "description": "Path leaves the gallery."},
    401: {"model": ErrorBody, "description": "Token required by the policy."},
    403: {"model": ErrorBody, "description": "The page is about datasets not granted to you."},
    404: {"model": ErrorBody, "description": "No gallery yet, or no such page."},
}


NO_GALLERY = (
    "No report gallery has been built yet: materialise the reports assets first "
    "(the gallery is published under CLEARLAKE_HOME/reports)."
)


def reports_reader(
    request: Request,
    config: ConfigDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal | None:
    if config.policy.rules.reports == "public":
        return principal
    return current_principal(principal)


ReaderDep = Annotated[Principal | None, Depends(reports_reader)]


def resolve(root: FilePath, relative: str) -> FilePath:
    """The file a request path names inside the gallery (index.html for directories)."""
    parts = [p for p in relative.split("/") if p]
    if any(p in (".", "..") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        raise BadRequestError(f"Report path {relative!r} leaves the report gallery: refused.")
    if not root.is_dir():
        raise NotFoundError(NO_GALLERY)
    try:
        base = root.resolve()
        target = base.joinpath(*parts).resolve()
        if not target.is_relative_to(base):
            raise BadRequestError(f"Report path {relative!r} leaves the report gallery: refused.")
        if target.is_dir():
            target = target / "index.html"
        found = target.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise NotFoundError(f"No report page at {relative or 'index.html'!r} in the gallery.")
    return target


def listing_page(path: str) -> FilePath | None:
    """The listing a request path names (the index or a commit page), else ``None``."""
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None  # resolve() refuses it
    if parts and parts[-1] == "index.html":
        parts = parts[:-1]
    if not parts:
        return FilePath("index.html")
    if len(parts) == 2 and parts[0] == "candidates":
        return FilePath("candidates", parts[1], "index.html")
    if books.parse_page("/".join(parts)) is not None:
        return FilePath(*parts)
    return None


def _pending(config: ApiConfig, records: list[ReportRecord]) -> list[ReportRecord]:
    """Stored verdicts without a report; none while the lake cannot be read (the gallery
    of finished reports is still served)."""
    try:
        return pending_verdicts(config.store, config.reports.tasks, records)
    except (LakeUnavailableError, OSError) as exc:
        log.warning("report gallery without pending verdicts: %s", exc)
        return []


def _listing(config: ApiConfig, reader: Principal, relative: FilePath) -> Response:
    """The index, a commit page or a book page, rendered from the reports ``reader`` may
    open: from the gallery's books and the commit's own records (work bounded by one page,
    whatever the history); before the first gallery build, from a scan of the records."""
    root = config.reports_root

    def blocked(datasets: frozenset[str] | None) -> list[str]:
        return refused(datasets, lambda d: config.policy.may_read(reader.roles, d))

    def visible(record: ReportRecord) -> bool:
        return not blocked(config.reports.of_record(record))

    path = relative.as_posix()
    tasks = read_tasks(root)
    if relative.parts[0] == "candidates":
        return _commit(config, relative.parts[1], tasks, blocked, reader)
    book_page = books.parse_page(path)
    if book_page is not None:
        folder, number = book_page
        book = books.Book.open(root, folder, "")
        page = books.Page.read(root, folder, number)
        if not page.entries:
            raise NotFoundError(f"No report page at {path!r} in the gallery.")
        return Response(books.render_page(book, page, visible), media_type="text/html")
    state = books.read_state(root)
    own = {t: i for t, i in tasks.items() if not blocked(config.reports.tasks.get(t))}
    if state is not None:
        page_bytes = books.render_index(
            root,
            own,
            state,
            visible,
            shown_tasks=lambda t: not blocked(config.reports.tasks.get(t)),
        )
        return Response(page_bytes, media_type="text/html")
    records = read_records(root) if root.is_dir() else []  # never built: one scan
    records += _pending(config, records)
    if not records and not root.is_dir():
        raise NotFoundError(NO_GALLERY)
    pages = render_pages([r for r in records if visible(r)], own)
    return Response(pages["index.html"], media_type="text/html")


def _commit(
    config: ApiConfig,
    folder: str,
    tasks: dict[str, GalleryTask],
    blocked: Callable[[frozenset[str] | None], list[str]],
    reader: Principal,
) -> Response:
    """One commit's page from its own records: its partitions' report records and, for a
    partition without a report, the gate outcome stored for it ("report pending")."""
    root = config.reports_root
    known = sorted(set(tasks) | set(config.reports.tasks))
    records: list[ReportRecord] = []
    for partition in sorted(books.commit_partitions(root, known, folder)):
        found = books.partition_records(root, partition) if root.is_dir() else []
        records += found
        if any(r.scope == "candidate" for r in found):
            continue
        try:
            outcomes = [gate.load_outcome(config.store, task, partition) for task in known]
        except (LakeUnavailableError, OSError) as exc:
            log.warning("commit page without pending verdicts: %s", exc)
            outcomes = []
        records += [pending_record(o, stored_at=None) for o in outcomes if o is not None]
    on_page = [r for r in records if r.scope == "candidate"]
    relative = f"candidates/{folder}/index.html"
    if not on_page:
        raise NotFoundError(f"No report page at {relative!r} in the gallery.")
    shown = [r for r in on_page if not blocked(config.reports.of_record(r))]
    if not shown:
        missing = sorted({d for r in on_page for d in blocked(config.reports.of_record(r))})
        raise ForbiddenError(
            f"Report page {relative!r} is about datasets not granted to "
            f"{reader.name!r}: {', '.join(missing) or 'none known'}.",
            datasets=missing,
        )
    task = shown[0].task or ""
    commit_key = Variant.of(shown[0]).commit_key
    page = books.commit_view(task, tasks.get(task, GalleryTask()), commit_key, shown)
    return Response(page, media_type="text/html")


def _serve(request: Request, config: ApiConfig, reader: Principal | None, path: str) -> Response:
    record = audit_of(request)
    record.action, record.dataset = "report", f"reports/{path}"
    public = config.policy.rules.reports == "public"
    listing = listing_page(path)
    if not public and reader is not None and listing is not None:
        return _listing(config, reader, listing)
    target = resolve(config.reports_root, path)
    relative = target.relative_to(config.reports_root.resolve())
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if public or reader is None:
        return FileResponse(target, media_type=media_type)
    datasets = config.reports.of_file(config.reports_root, relative)
    missing = refused(datasets, lambda d: config.policy.may_read(reader.roles, d))
    if missing:
        about = "datasets nothing vouches for" if datasets is None else ", ".join(missing)
        raise ForbiddenError(
            f"Report page {path!r} is about {about}: not granted to {reader.name!r} (roles: "
            f"{', '.join(reader.roles)}). Ask a data steward for a role that reads them.",
            datasets=missing,
        )
    return FileResponse(target, media_type=media_type)


@router.get("/reports", include_in_schema=False)
def reports_redirect() -> RedirectResponse:
    return RedirectResponse("reports/")  # relative: works behind a path-prefix ingress


@router.get("/reports/", responses=REPORT_ERRORS, response_class=FileResponse)
def report_gallery(request: Request, config: ConfigDep, reader: ReaderDep) -> Response:
    """The report gallery's index page (HTML)."""
    return _serve(request, config, reader, "")


@router.get("/reports/{path:path}", responses=REPORT_ERRORS, response_class=FileResponse)
def report_page(
    request: Request,
    config: ConfigDep,
    reader: ReaderDep,
    path: Annotated[
        str,
        Path(
            pattern=PAGE_PATTERN,
            description="Page below the gallery (no hidden segments).",
            examples=["index.html"],
        ),
    ],
) -> Response:
    """A page (or asset) of the report gallery."""
    return _serve(request, config, reader, path)
