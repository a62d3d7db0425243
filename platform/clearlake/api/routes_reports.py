"""The report gallery, served read-only from ``reports_root`` (a static HTML tree).

With ``reports: authenticated`` (the default) a page is open only to a principal whose
roles read every dataset the page is about (:mod:`clearlake.api.report_access`), and the
index and commit pages are rendered per viewer from the reports they may open. With
``reports: public`` the policy publishes the gallery as built: no token, no check. Paths
are resolved and must stay inside the gallery (``..``, hidden files and symlinks leading
out are refused).
"""

from __future__ import annotations

import mimetypes
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
from clearlake.reports.execute import read_records
from clearlake.reports.gallery import Variant, commit_page, read_tasks, render_pages

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
        raise NotFoundError(
            "No report gallery has been built yet: materialise the reports assets first "
            "(the gallery is published under CLEARLAKE_HOME/reports)."
        )
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


def _is_listing(relative: FilePath) -> bool:
    parts = relative.parts
    return parts == ("index.html",) or (
        len(parts) == 3 and parts[0] == "candidates" and parts[2] == "index.html"
    )


def _listing(config: ApiConfig, reader: Principal, relative: FilePath) -> Response:
    """The index or a commit page, rendered from the reports ``reader`` may open."""
    root = config.reports_root

    def blocked(datasets: frozenset[str] | None) -> list[str]:
        return refused(datasets, lambda d: config.policy.may_read(reader.roles, d))

    records = read_records(root)
    tasks = read_tasks(root)
    shown = [r for r in records if not blocked(config.reports.of_record(r))]
    own = {t: i for t, i in tasks.items() if not blocked(config.reports.tasks.get(t))}
    pages = render_pages(shown, own)
    if relative.as_posix() in pages:
        return Response(pages[relative.as_posix()], media_type="text/html")
    on_page = [
        r
        for r in records
        if r.scope == "candidate" and commit_page(Variant.of(r).commit_key) == relative.as_posix()
    ]
    missing = sorted({d for r in on_page for d in blocked(config.reports.of_record(r))})
    raise ForbiddenError(
        f"Report page {relative.as_posix()!r} is about datasets not granted to "
        f"{reader.name!r}: {', '.join(missing) or 'none known'}.",
        datasets=missing,
    )


def _serve(request: Request, config: ApiConfig, reader: Principal | None, path: str) -> Response:
    record = audit_of(request)
    record.action, record.dataset = "report", f"reports/{path}"
    target = resolve(config.reports_root, path)
    relative = target.relative_to(config.reports_root.resolve())
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if config.policy.rules.reports == "public" or reader is None:
        return FileResponse(target, media_type=media_type)
    if _is_listing(relative):
        return _listing(config, reader, relative)
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
