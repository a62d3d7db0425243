"""Errors of the Data API: each carries the HTTP status its message is answered with.

A request the service refuses is always a 4xx whose body names what was wrong and what
to do; a 500 is a bug. Configuration files (policy, tokens) that do not validate raise
:class:`ConfigFileError` naming the file and the line, so the service refuses to start.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearlake.errors import ClearlakeError, ConfigurationError, UnknownTableError


class ApiError(ClearlakeError):
    """A refused request; ``status_code`` and ``code`` become the HTTP answer."""

    status_code = 400
    code = "bad_request"


class BadRequestError(ApiError):
    """Malformed or oversized input: dates, columns, filters, limits."""


class UnauthorizedError(ApiError):
    status_code = 401
    code = "unauthorized"


class ForbiddenError(ApiError):
    """The principal's roles do not grant what was asked: ``datasets`` and ``columns`` name
    it (kept apart for the audit log; ``refused`` is both, as the response body shows)."""

    status_code = 403
    code = "forbidden"

    def __init__(
        self, message: str, *, datasets: Sequence[str] = (), columns: Sequence[str] = ()
    ) -> None:
        self.datasets = list(datasets)
        self.columns = list(columns)
        super().__init__(message)

    @property
    def refused(self) -> list[str]:
        return self.datasets + self.columns


class NotFoundError(ApiError):
    status_code = 404
    code = "not_found"


class ServiceUnavailableError(ApiError):
    status_code = 503
    code = "unavailable"


def status_of(exc: ClearlakeError) -> int:
    """HTTP status of a refusal: an ApiError's own, 404 for an unknown table, else 400."""
    if isinstance(exc, ApiError):
        return exc.status_code
    return 404 if isinstance(exc, UnknownTableError) else 400


class ConfigFileError(ConfigurationError):
    """A policy or token file is invalid; the message names the file and the line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line else path
        super().__init__(
            f"{where}: {problem}. Fix the file (formats: platform/clearlake/api/README.md); "
            "the Data API does not start with an invalid file."
        )
