"""One audit record per request, whatever answers it: a route, a refusal, request
validation (a ``../`` probe on ``/reports`` is a 400 before any route runs) or the router's
own 404.

This middleware opens the record (caller from the token, what was asked from the URL),
routes and exception handlers add what they learn (``request.state.audit``: dataset,
columns, refused datasets and columns, detail), and the record is written once the
response is out, with its real status. The data endpoint hands its record to the stream,
which writes it when the last row has left (rows actually sent). ``/health`` is not
audited: it carries no data and the orchestrator's probes poll it every few seconds.
"""

from __future__ import annotations

import time
from contextlib import suppress

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearlake.api.audit import AuditRecord, Outcome
from clearlake.api.config import ApiConfig
from clearlake.api.sessions import bearer_or_session

UNAUDITED = frozenset({"/health"})


def outcome_of(status: int) -> Outcome:
    if status < 400:
        return "granted"
    if status >= 500:
        return "failed"
    return {401: "unauthenticated", 403: "denied"}.get(status, "refused")  # type: ignore[return-value]


def opened(request: Request, config: ApiConfig) -> AuditRecord:
    """The record of a request as it arrives: who (if the token is known) and what."""
    query = request.query_params
    principal = bearer_or_session(request, config.tokens, config.sessions)
    limit = None
    with suppress(ValueError):
        limit = int(query["limit"]) if "limit" in query else None
    return AuditRecord(
        action=request.url.path,
        outcome="granted",
        principal=principal.name if principal else None,
        roles=list(principal.roles) if principal else [],
        columns=[c.strip() for v in query.getlist("columns") for c in v.split(",") if c.strip()],
        start=query.get("start"),
        end=query.get("end"),
        filters=query.getlist("filter"),
        limit=limit,
        format=query.get("format"),
        client=request.client.host if request.client else None,
    )


class AuditMiddleware:
    def __init__(self, app: ASGIApp, config: ApiConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNAUDITED:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        record = opened(request, self.config)
        request.state.audit = record
        request.state.audit_handed_off = False
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException as exc:
            status = 500
            record.detail = record.detail or f"{type(exc).__name__} (see the service log)"
            raise
        finally:
            if not request.state.audit_handed_off:
                params = scope.get("path_params") or {}
                if record.dataset is None and "dataset" in params:
                    record.dataset = str(params["dataset"])
                elif record.dataset is None and "path" in params:
                    record.dataset = f"reports/{params['path']}"
                record.status = status
                record.outcome = outcome_of(status)
                record.duration_s = round(time.perf_counter() - started, 4)
                self.config.audit.write(record)


def audit_of(request: Request) -> AuditRecord:
    """The record of this request (a detached one outside the middleware: unit tests)."""
    record = getattr(request.state, "audit", None)
    if record is None:
        record = AuditRecord(action=request.url.path, outcome="granted")
        request.state.audit = record
    assert isinstance(record, AuditRecord)
    return record


def hand_off(request: Request) -> AuditRecord:
    """The data stream writes this request's record itself, when the last row has left."""
    request.state.audit_handed_off = True
    return audit_of(request)
