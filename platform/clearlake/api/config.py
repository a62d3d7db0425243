"""Everything the Data API needs, assembled from :class:`Settings` once at start-up.

Loading validates the policy and the tokens: a service with an invalid policy does not
start. The policy is ``CLEARLAKE_API_POLICY`` or else the project's ``api.policy``; a project
without one gets a policy that grants nothing (and ``serve`` says so). Local defaults make
``clearlake api serve`` work on a laptop: a masking key generated once under
``CLEARLAKE_HOME/api`` and (see :func:`ensure_demo_tokens`) one demo token per role. In
the cluster the key and the tokens come from Kubernetes secrets and nothing is generated.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from clearlake.api.audit import AuditLog
from clearlake.api.policy import AccessPolicy, Limits, PolicyFile, load_policy
from clearlake.api.report_access import ReportSubjects
from clearlake.api.sessions import Sessions
from clearlake.api.tokens import TokenRegistry, issue_token, load_tokens
from clearlake.errors import ConfigurationError
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project, current_project
from clearlake.settings import ENV_VARS, Settings

MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class ApiConfig:
    store: LakeStore
    policy: AccessPolicy
    tokens: TokenRegistry
    mask_key: bytes
    audit: AuditLog
    reports_root: Path
    reports: ReportSubjects
    sessions: Sessions
    public_url: str = "http://127.0.0.1:8000"
    """Where people open the service (CLEARLAKE_PUBLIC_URL): its path prefixes every link
    the service itself builds (sign-in redirects, the cookie's path)."""
    project: Project | None = None
    """The project (what ``/v1/compare`` needs: tasks, metrics, repositories)."""
    settings: Settings | None = None

    @property
    def prefix(self) -> str:
        """The public URL's path ('' at a host's root, '/clearlake' behind an ingress)."""
        return urlparse(self.public_url).path.rstrip("/")


DENY_ALL = AccessPolicy(
    PolicyFile.model_construct(
        version=1,
        classes=["restricted"],
        default_class="restricted",
        reports="authenticated",
        limits=Limits(),
        datasets={},
        roles={},
    ),
    source="<no policy: every request is refused>",
)
"""The platform's default when neither CLEARLAKE_API_POLICY nor the project names a policy:
no role, so no dataset, column or report page is granted to anyone."""


def policy_path(settings: Settings, project: Project | None = None) -> Path | None:
    """CLEARLAKE_API_POLICY, else the project's ``api.policy``; ``None``: no policy at all."""
    if settings.api_policy_path is not None:
        return settings.api_policy_path
    return (project or current_project(settings)).api_policy


def load_api_policy(settings: Settings, project: Project | None = None) -> AccessPolicy:
    path = policy_path(settings, project)
    return DENY_ALL if path is None else load_policy(path)


def api_home(settings: Settings) -> Path:
    return settings.home / "api"


def tokens_file(settings: Settings) -> Path:
    return settings.api_tokens_file or api_home(settings) / "tokens.yaml"


def audit_target(settings: Settings) -> str:
    if settings.api_audit_log:
        return settings.api_audit_log
    return "-" if settings.env == "cluster" else str(api_home(settings) / "audit.jsonl")


def mask_key(settings: Settings) -> bytes:
    """The deployment's hashing key; generated once locally, required in the cluster."""
    if settings.api_mask_key:
        if len(settings.api_mask_key) < MIN_KEY_LENGTH:
            raise ConfigurationError(
                f"{ENV_VARS['api_mask_key']} is shorter than {MIN_KEY_LENGTH} characters: "
                "use a random secret (for example `openssl rand -hex 32`)."
            )
        return settings.api_mask_key.encode("utf-8")
    if settings.env == "cluster":
        raise ConfigurationError(
            f"{ENV_VARS['api_mask_key']} is not set: the Data API needs a masking key in the "
            "cluster (the Helm chart reads it from the secret data_api.mask_key_secret)."
        )
    path = api_home(settings) / "mask.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def ensure_demo_tokens(settings: Settings) -> dict[str, str]:
    """Locally, with no tokens configured: issue ``demo-<role>`` tokens, one per role.

    Returns ``{principal: token}`` for the tokens just issued (empty when tokens exist);
    only digests are stored, so these are shown once.
    """
    path = tokens_file(settings)
    if settings.env == "cluster" or path.exists() or settings.api_tokens:
        return {}
    policy = load_api_policy(settings)
    return {
        f"demo-{role}": issue_token(path, principal=f"demo-{role}", roles=[role])
        for role in sorted(policy.roles)
    }


def load_api_config(settings: Settings) -> ApiConfig:
    project = current_project(settings)
    policy = load_api_policy(settings, project)
    tokens = (
        TokenRegistry([])  # no role to hold: every token is refused, and `serve` says why
        if policy is DENY_ALL
        else load_tokens(file=tokens_file(settings), inline=settings.api_tokens, roles=policy.roles)
    )
    key = mask_key(settings)
    public = urlparse(settings.public_url)
    return ApiConfig(
        store=LakeStore(settings.lake_url),
        policy=policy,
        tokens=tokens,
        mask_key=key,
        public_url=settings.public_url,
        sessions=Sessions(key, secure=public.scheme == "https", path=public.path or "/"),
        audit=AuditLog(audit_target(settings)),
        reports_root=settings.reports_root,
        reports=ReportSubjects.of(project),
        project=project,
        settings=settings,
    )
