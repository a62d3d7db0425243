"""Request dependencies: the service configuration and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clearlake.api.config import ApiConfig
from clearlake.api.errors import UnauthorizedError
from clearlake.api.tokens import Principal

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A Clearlake token: `Authorization: Bearer clk_…` "
    "(issued with `clearlake api token issue`).",
)


def get_config(request: Request) -> ApiConfig:
    config: ApiConfig = request.app.state.config
    return config


def optional_principal(
    request: Request,
    config: Annotated[ApiConfig, Depends(get_config)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    """A bearer token (API clients), else the browser's session cookie (``/login``)."""
    if credentials:
        return config.tokens.authenticate(credentials.credentials)
    return config.sessions.principal(request, config.tokens)


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise UnauthorizedError(
            "Missing or unknown bearer token: send `Authorization: Bearer <token>`, or sign in "
            "at /login in a browser (get a token with `clearlake api token issue --principal "
            "NAME --role ROLE`)."
        )
    return principal


ConfigDep = Annotated[ApiConfig, Depends(get_config)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
