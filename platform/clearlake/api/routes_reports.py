"""The report gallery, served read-only from ``reports_root`` (a static HTML tree).

Whether a token is needed is the policy's ``reports`` setting. Paths are resolved and
must stay inside the gallery (``..``, hidden files and symlinks leading out are refused).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, RedirectResponse

from clearlake.api.audit import AuditRecord
from clearlake.api.config import ApiConfig
from clearlake.api.deps import ConfigDep, client_of, current_principal, optional_principal
from clearlake.api.errors import BadRequestError, NotFoundError
from clearlake.api.models import ErrorBody
from clearlake.api.tokens import Principal

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
    404: {"model": ErrorBody, "description": "No gallery yet, or no such page."},
}


def reports_reader(
    request: Request,
    config: ConfigDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal | None:
    if config.policy.rules.reports == "public":
        return principal
    return current_principal(request, config, principal)


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


def _serve(
    request: Request, config: ApiConfig, reader: Principal | None, path: str
) -> FileResponse:
    target = resolve(config.reports_root, path)
    config.audit.write(
        AuditRecord(
            action="report",
            outcome="granted",
            principal=reader.name if reader else None,
            roles=list(reader.roles) if reader else [],
            dataset=f"reports/{path}",
            client=client_of(request),
        )
    )
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media_type)


@router.get("/reports", include_in_schema=False)
def reports_redirect() -> RedirectResponse:
    return RedirectResponse("reports/")  # relative: works behind a path-prefix ingress


@router.get("/reports/", responses=REPORT_ERRORS, response_class=FileResponse)
def report_gallery(request: Request, config: ConfigDep, reader: ReaderDep) -> FileResponse:
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
) -> FileResponse:
    """A page (or asset) of the report gallery."""
    return _serve(request, config, reader, path)
