"""The Data API application: routes, error handling, OpenAPI description.

Every refusal is answered as ``{"error": kind, "detail": message}`` with a 4xx status;
request validation problems (a query parameter of the wrong type or shape) become 400s
naming the parameter. An unexpected exception is a 500 whose body says nothing
internal (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import clearlake
from clearlake.api import (
    routes_catalog,
    routes_compare,
    routes_data,
    routes_monitoring,
    routes_reports,
    routes_signin,
)
from clearlake.api.config import ApiConfig
from clearlake.api.errors import (
    ApiError,
    ForbiddenError,
    ServiceUnavailableError,
    UnauthorizedError,
    status_of,
)
from clearlake.api.filters import SYNTAX
from clearlake.api.models import ErrorBody, Health
from clearlake.api.request_audit import AuditMiddleware, audit_of
from clearlake.errors import ClearlakeError

log = logging.getLogger("clearlake.api")

DESCRIPTION = """\
Self-serve access to the Clearlake lake: fresh, complete data without exports, and
without blanket access. Every request except `/health` needs a bearer token
(`Authorization: Bearer clk_…`) or, in a browser, a session opened at `/login` with the
same token; what a token may read is decided by the access policy
(datasets per role, and per column class: clear, hashed, masked or refused). Every data
access is audited.

Data comes as an Arrow IPC stream (default), Parquet, CSV or JSON lines, streamed.
"""


def _error(
    status: int,
    code: str,
    detail: str,
    refused: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, detail=detail, refused=refused)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=all_headers)


def _describe_validation(exc: RequestValidationError) -> str:
    """One sentence per problem, naming the parameter and, where it helps, the fix."""
    problems = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ())[1:]]
        name = location[0] if location else "request"
        value = error.get("input")
        if error.get("type") == "string_pattern_mismatch" and name in PATTERN_HINTS:
            problems.append(PATTERN_HINTS[name].format(value=value))
        else:
            problems.append(f"parameter {'.'.join(location) or name!r}: {error.get('msg')}")
    return "Invalid request: " + "; ".join(problems) + "."


PATTERN_HINTS = {
    "filter": "Malformed filter {value!r}: " + SYNTAX,
    "start": "Malformed start date {value!r}: use ISO format YYYY-MM-DD",
    "end": "Malformed end date {value!r}: use ISO format YYYY-MM-DD",
    "dataset": "{value!r} is not a dataset name: use a name from GET /v1/datasets",
    "path": "Report path {value!r} leaves the report gallery or names a hidden file: refused",
}


SWAGGER_ASSETS = Path(str(files("swagger_ui") / "static"))
"""Swagger UI's files as the ``swagger-ui-py`` package ships them: ``/docs`` loads nothing
from a CDN, so it works offline and behind a strict egress policy."""


def create_app(config: ApiConfig) -> FastAPI:
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Clearlake Data API",
        version=clearlake.__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "datasets", "description": "What the lake holds and what you may see."},
            {"name": "data", "description": "Rows, streamed."},
            {"name": "reports", "description": "The report gallery (static HTML)."},
            {"name": "monitoring", "description": "Each task's watch on its shipped model."},
            {"name": "service", "description": "Liveness."},
        ],
    )
    app.state.config = config

    app.add_middleware(AuditMiddleware, config=config)

    @app.exception_handler(ApiError)
    def api_error(request: Request, exc: ApiError) -> Response:
        record = audit_of(request)
        record.detail = str(exc)
        if isinstance(exc, UnauthorizedError) and routes_signin.wants_sign_in(request):
            return routes_signin.sign_in_redirect(request, config)
        refused = None
        if isinstance(exc, ForbiddenError):
            refused = exc.refused
            record.refused_datasets, record.refused_columns = exc.datasets, exc.columns
        return _error(exc.status_code, exc.code, str(exc), refused)

    @app.exception_handler(ClearlakeError)
    def clearlake_error(request: Request, exc: ClearlakeError) -> JSONResponse:
        status = status_of(exc)
        audit_of(request).detail = str(exc)
        return _error(status, "not_found" if status == 404 else "bad_request", str(exc))

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _describe_validation(exc)
        audit_of(request).detail = detail
        return _error(400, "bad_request", detail)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        audit_of(request).detail = str(exc.detail)
        return _error(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unhandled error on %s", request.url.path)
        return _error(500, "internal", "Internal error; it has been logged.")

    @app.get("/livez", tags=["service"])
    def livez() -> dict[str, str]:
        """Liveness: the process serves requests (touches no lake, so S3 outages pass)."""
        return {"status": "alive"}

    @app.get(
        "/health",
        response_model=Health,
        tags=["service"],
        responses={503: {"model": ErrorBody, "description": "The lake cannot be read."}},
    )
    def health() -> Health:
        """Liveness and lake reachability (no token needed)."""
        try:
            tables = config.store.list_tables()
        except OSError as exc:
            log.error("Health check: the lake at %s cannot be read: %s", config.store.url, exc)
            raise ServiceUnavailableError("The lake cannot be read; see the service log.") from None
        return Health(status="ok", version=clearlake.__version__, tables=len(tables))

    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the packaged files (see SWAGGER_ASSETS)."""
        return get_swagger_ui_html(
            openapi_url=f"{config.prefix}/openapi.json",
            title=f"{app.title} · docs",
            swagger_js_url=f"{config.prefix}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{config.prefix}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{config.prefix}/docs-assets/favicon-32x32.png",
        )

    app.include_router(routes_signin.router)
    app.include_router(routes_catalog.router)
    app.include_router(routes_data.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_monitoring.router)
    app.include_router(routes_compare.router)
    _document_validation_as_400(app)
    return app


def _document_validation_as_400(app: FastAPI) -> None:
    """FastAPI documents request validation as 422; this service answers 400 (ErrorBody)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            for operations in spec["paths"].values():
                for operation in operations.values():
                    operation["responses"].pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                spec.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
