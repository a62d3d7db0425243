"""``clearlake api …``: run the Data API, issue tokens, check a policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clearlake.settings import ENV_VARS

api_app = typer.Typer(
    help="Data API: self-serve lake data over HTTP, with access control and an audit log.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Bearer tokens of the Data API.", no_args_is_help=True)
api_app.add_typer(token_app, name="token")


@api_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the Data API (reads the lake and the report gallery, never production).

    Locally, the first start issues one demo token per policy role and prints them.
    """
    import uvicorn

    from clearlake.api.app import create_app
    from clearlake.api.config import (
        ensure_demo_tokens,
        load_api_config,
        load_api_policy,
        policy_path,
        tokens_file,
    )
    from clearlake.settings import load_settings

    settings = load_settings()
    load_api_policy(settings)  # an invalid policy is the first thing to hear about
    _check_port_free(host, port)  # before tokens are issued: they are shown only once
    issued = ensure_demo_tokens(settings)
    if issued:
        typer.echo(f"Issued demo tokens (stored hashed in {tokens_file(settings)}; shown once):")
        for principal, token in issued.items():
            typer.echo(f"  {principal:<18} {token}")
        typer.echo("Use one: export CLEARLAKE_API_TOKEN=<token>")
    config = load_api_config(settings)
    policy = policy_path(settings)
    if policy is None:
        typer.secho(
            f"warning: no access policy: {ENV_VARS['api_policy']} is not set and the project "
            f"{settings.config_path} declares no `api.policy`, so every dataset, column and "
            "report page is refused. Name a policy file in either place.",
            fg=typer.colors.YELLOW,
            err=True,
        )
    typer.echo(
        f"Data API on http://{host}:{port} (docs: /docs), policy {policy or 'none (deny all)'}, "
        f"audit log {config.audit.target}"
    )
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )


def _check_port_free(host: str, port: int) -> None:
    """Refuse a taken port with one line (uvicorn would fail only after start-up)."""
    import errno
    import socket

    from clearlake.errors import ConfigurationError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except socket.gaierror as exc:
        raise ConfigurationError(f"--host {host!r} is not an address here ({exc}).") from None
    except OSError as exc:
        taken = exc.errno == errno.EADDRINUSE
        reason = "is already in use" if taken else f"cannot be used ({exc.strerror})"
        raise ConfigurationError(
            f"Port {port} on {host} {reason}: stop the service holding it or choose another "
            "with --port."
        ) from None


@token_app.command("issue")
def issue(
    principal: Annotated[str, typer.Option(help="Who the token identifies.")],
    role: Annotated[list[str], typer.Option(help="Role from the policy (repeatable).")],
    file: Annotated[
        Path | None, typer.Option(help="Token file (default: CLEARLAKE_API_TOKENS_FILE).")
    ] = None,
) -> None:
    """Issue a token: its digest is appended to the token file, the token is printed once."""
    from clearlake.api.config import load_api_policy, tokens_file
    from clearlake.api.tokens import issue_token
    from clearlake.errors import ConfigurationError
    from clearlake.settings import load_settings

    settings = load_settings()
    policy = load_api_policy(settings)
    unknown = sorted(set(role) - policy.roles)
    if unknown:
        raise ConfigurationError(
            f"Role(s) {unknown} are not in the policy {policy.source} "
            f"(roles: {sorted(policy.roles)})."
        )
    path = file or tokens_file(settings)
    token = issue_token(path, principal=principal, roles=role)
    typer.echo(token)
    typer.echo(f"(digest appended to {path}; restart the Data API to load it)", err=True)


@api_app.command("check-policy")
def check_policy(
    path: Annotated[
        Path | None, typer.Argument(help="Policy file (default: CLEARLAKE_API_POLICY).")
    ] = None,
    data: Annotated[
        bool,
        typer.Option(
            help="Also measure on the lake whether hashed or masked columns are inferable "
            "from the clear columns of their dataset."
        ),
    ] = True,
) -> None:
    """Validate a policy file (problems are reported with their line), then warn about
    hashed or masked columns that clear columns of the same dataset give away."""
    from clearlake.api.config import policy_path
    from clearlake.api.policy import load_policy
    from clearlake.errors import ConfigurationError
    from clearlake.settings import load_settings

    settings = load_settings()
    target = path or policy_path(settings)
    if target is None:
        raise ConfigurationError(
            f"No policy to check: {ENV_VARS['api_policy']} is not set and the project "
            f"{settings.config_path} declares no `api.policy`; name a file."
        )
    policy = load_policy(target)
    typer.echo(f"{target}: valid ({len(policy.roles)} roles: {', '.join(sorted(policy.roles))})")
    if not data:
        return
    from clearlake.api.inference import SAMPLE_DAYS, policy_findings
    from clearlake.lake.store import LakeStore

    findings = policy_findings(policy, LakeStore(settings.lake_url))
    for finding in findings:
        typer.secho(f"warning: {finding}", fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{len(findings)} protected column(s) inferable from clear columns "
        f"(measured on the lake's newest {SAMPLE_DAYS} days)."
    )
