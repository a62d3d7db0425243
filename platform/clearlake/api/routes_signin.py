"""Sign-in for people: ``/login`` exchanges a token for a session cookie, ``/logout`` ends it.

A page a browser opens without a session (the gallery, a commit or a report page) answers
with a redirect here instead of a JSON 401 (:func:`wants_sign_in`), and the sign-in leads
back to it; API clients (no ``text/html`` in ``Accept``) still get the 401. The form is
posted URL-encoded and parsed with the standard library (no multipart parser needed for
one field). Only a path on this service is followed after sign-in: never another host.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clearlake.api.config import ApiConfig
from clearlake.api.deps import ConfigDep, optional_principal
from clearlake.api.request_audit import audit_of
from clearlake.api.tokens import Principal

router = APIRouter(tags=["service"])
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:4em auto;max-width:28em;color:#212121}"
    "input{width:100%;padding:0.5em;margin:0.4em 0 1em;box-sizing:border-box}"
    "button{padding:0.5em 1.2em}.error{color:#c62828}code{background:#f5f5f5;padding:0 0.2em}"
)


def gallery_path(config: ApiConfig) -> str:
    return f"{config.prefix}/reports/"


def safe_next(config: ApiConfig, target: str | None) -> str:
    """Where to go after sign-in: a path on this service, else the gallery."""
    if (
        target
        and target.startswith(f"{config.prefix}/")
        and not target.startswith("//")
        and "\\" not in target
        and all(ord(c) > 31 for c in target)
    ):
        return target
    return gallery_path(config)


def wants_sign_in(request: Request) -> bool:
    """A person's browser asking for a page (not an API client asking for data)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def sign_in_redirect(request: Request, config: ApiConfig) -> RedirectResponse:
    here = f"{config.prefix}{request.url.path}"
    if request.url.query:
        here += f"?{request.url.query}"
    return RedirectResponse(f"{config.prefix}/login?next={quote(here, safe='')}", status_code=303)


def _page(body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'/>"
        "<meta name='viewport' content='width=device-width'/><title>Sign in · Clearlake</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _form(config: ApiConfig, target: str, error: str = "") -> str:
    problem = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    return (
        "<h1>Sign in to Clearlake</h1>"
        "<p>Paste your Data API token (<code>clk_…</code>; issued with <code>clearlake api "
        "token issue</code>). You see the reports your token's roles may read.</p>"
        f"{problem}<form method='post' action='{html.escape(config.prefix)}/login'>"
        "<label for='token'>Token</label>"
        "<input id='token' name='token' type='password' autocomplete='current-password' "
        "required autofocus/>"
        f"<input type='hidden' name='next' value='{html.escape(target)}'/>"
        "<button type='submit'>Sign in</button></form>"
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(
    config: ConfigDep,
    viewer: Annotated[Principal | None, Depends(optional_principal)],
    next: Annotated[str | None, Query()] = None,
) -> Response:
    target = safe_next(config, next)
    if viewer is not None:
        return _page(
            f"<h1>Signed in as {html.escape(viewer.name)}</h1>"
            f"<p>Roles: {html.escape(', '.join(viewer.roles))}.</p>"
            f"<p><a href='{html.escape(target)}'>Continue to the reports</a></p>"
            f"<form method='post' action='{html.escape(config.prefix)}/logout'>"
            "<button type='submit'>Sign out</button></form>"
        )
    return _page(_form(config, target))


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(request: Request, config: ConfigDep) -> Response:
    """Check the token; on success set the session cookie and go back to the page."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (fields.get("token") or [""])[0].strip()
    target = safe_next(config, fields["next"][0] if fields.get("next") else None)
    principal = config.tokens.authenticate(token) if token else None
    record = audit_of(request)
    record.action = "login"
    if principal is None:
        record.detail = "unknown token"
        return _page(
            _form(config, target, "Unknown token: check it, or ask for a new one."), status=401
        )
    record.principal, record.roles = principal.name, list(principal.roles)
    response = RedirectResponse(target, status_code=303)
    config.sessions.open(response, token)
    return response


@router.post("/logout", include_in_schema=False)
def logout(config: ConfigDep) -> Response:
    response = RedirectResponse(f"{config.prefix}/login", status_code=303)
    config.sessions.close(response)
    return response
