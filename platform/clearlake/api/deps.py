"""Request dependencies: the service configuration and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clearlake.api.audit import AuditRecord
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


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_principal(
    config: Annotated[ApiConfig, Depends(get_config)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    return config.tokens.authenticate(credentials.credentials) if credentials else None


def current_principal(
    request: Request,
    config: Annotated[ApiConfig, Depends(get_config)],
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        config.audit.write(
            AuditRecord(
                action=request.url.path,
                outcome="unauthenticated",
                status=401,
                client=client_of(request),
            )
        )
        raise UnauthorizedError(
            "Missing or unknown bearer token: send `Authorization: Bearer <token>` "
            "(get one with `clearlake api token issue --principal NAME --role ROLE`)."
        )
    return principal


ConfigDep = Annotated[ApiConfig, Depends(get_config)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
