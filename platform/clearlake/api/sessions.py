"""Browser sessions: a person signs in once with a token and gets a signed cookie.

A browser cannot send ``Authorization: Bearer``, so ``/login`` exchanges a token for a
cookie that names the token by its **digest** (never the token itself), signed with
itsdangerous (HMAC-SHA1 over the payload and time, the serializer Flask's sessions use).
Each request looks the digest up in the token registry again: a revoked token ends every
session opened with it, and the viewer's roles are always the token's current ones. The
cookie is HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site POSTs) and
Secure when the public URL is https. It is signed with the deployment's masking key under
its own salt, so a deployment has no second secret to keep.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from clearlake.api.tokens import Principal, TokenRegistry, hash_token

COOKIE = "clearlake_session"
SALT = "clearlake.api.session"
MAX_AGE_SECONDS = 12 * 3600
"""A working day: long enough to browse, short enough that a forgotten browser closes."""


@dataclass(frozen=True)
class Sessions:
    """Signs and reads session cookies for one deployment."""

    secret: bytes
    secure: bool = False
    path: str = "/"

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=SALT)

    def open(self, response: Response, token: str) -> None:
        value = self._serializer.dumps({"sha256": hash_token(token)})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def close(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path=self.path, httponly=True, samesite="lax", secure=self.secure
        )

    def principal(self, request: Request, tokens: TokenRegistry) -> Principal | None:
        """The viewer a valid, unexpired cookie names (``None``: no or a bad cookie)."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            payload = self._serializer.loads(value, max_age=MAX_AGE_SECONDS)
        except BadSignature:  # also SignatureExpired
            return None
        digest = payload.get("sha256") if isinstance(payload, dict) else None
        return tokens.by_digest(digest) if isinstance(digest, str) else None


def bearer_or_session(
    request: Request, tokens: TokenRegistry, sessions: Sessions
) -> Principal | None:
    """Who calls: a bearer token (API clients) first, else a browser session."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return tokens.authenticate(token.strip())
    return sessions.principal(request, tokens)
