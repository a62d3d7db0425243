"""Bearer tokens: who is calling, with which roles.

Only SHA-256 digests of tokens are stored (a file, mounted from a Kubernetes secret in
the cluster, and/or inline YAML in ``CLEARLAKE_API_TOKENS``); a leaked token file does
not leak usable tokens. Tokens are 256-bit random strings, so a plain digest is enough
(no password-style stretching needed). File format::

    tokens:
      - principal: alice
        roles: [scientist]
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from clearlake.api.errors import ConfigFileError
from clearlake.api.yaml_source import YamlSource
from clearlake.errors import ConfigurationError

TOKEN_PREFIX = "clk_"


@dataclass(frozen=True)
class Principal:
    name: str
    roles: tuple[str, ...]


class TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")


class TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: list[TokenEntry] = Field(default_factory=list)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenRegistry:
    """Token digests → principals; lookups never see a plaintext token stored anywhere."""

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self._by_digest = {e.sha256: Principal(e.principal, tuple(e.roles)) for e in entries}

    def __len__(self) -> int:
        return len(self._by_digest)

    def authenticate(self, token: str) -> Principal | None:
        return self._by_digest.get(hash_token(token))

    def by_digest(self, digest: str) -> Principal | None:
        """The principal of a token known by its digest (a browser session carries it, so
        revoking the token ends the sessions opened with it)."""
        return self._by_digest.get(digest)


def _parse(text: str, *, name: str, roles: set[str]) -> list[TokenEntry]:
    source = YamlSource(text, name=name)
    parsed = source.validate(TokenFile)
    for index, entry in enumerate(parsed.tokens):
        unknown = sorted(set(entry.roles) - roles)
        if unknown:
            raise source.error(
                ["tokens", index, "roles"],
                f"principal {entry.principal!r} has role(s) {unknown} that the policy does "
                f"not declare (roles: {sorted(roles)})",
            )
    return parsed.tokens


def load_tokens(*, file: Path | None, inline: str | None, roles: set[str]) -> TokenRegistry:
    """Tokens from the file (if it exists) and the inline YAML, checked against the roles."""
    entries: list[TokenEntry] = []
    if file is not None and file.exists():
        entries += _parse(file.read_text(encoding="utf-8"), name=str(file), roles=roles)
    if inline:
        entries += _parse(inline, name="CLEARLAKE_API_TOKENS", roles=roles)
    digests = [e.sha256 for e in entries]
    if len(set(digests)) != len(digests):
        raise ConfigFileError(
            str(file), None, "the same token digest appears twice: give every token one entry"
        )
    if not entries:
        raise ConfigurationError(
            f"The Data API has no tokens: no file at {file} and CLEARLAKE_API_TOKENS is empty. "
            "Issue one with `clearlake api token issue --principal NAME --role ROLE`."
        )
    return TokenRegistry(entries)


def issue_token(path: Path, *, principal: str, roles: list[str]) -> str:
    """Append a new token's digest to ``path`` (created 0600) and return the token."""
    token = new_token()
    existing = TokenFile()
    if path.exists():
        existing = YamlSource(path.read_text(encoding="utf-8"), name=str(path)).validate(TokenFile)
    entry = TokenEntry(principal=principal, roles=roles, sha256=hash_token(token))
    document = {"tokens": [e.model_dump() for e in [*existing.tokens, entry]]}
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Clearlake Data API tokens: SHA-256 digests only (tokens are not stored).\n")
        yaml.safe_dump(document, handle, sort_keys=False)
    os.replace(staging, path)
    return token
