"""``clearlake api …``: run the Data API, issue tokens, check a policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

api_app = typer.Typer(
    help="Data API: self-serve lake data over HTTP, with access control and an audit log.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Bearer tokens of the Data API.", no_args_is_help=True)
api_app.add_typer(token_app, name="token")


@api_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the Data API (reads the lake and the report gallery, never production).

    Locally, the first start issues one demo token per policy role and prints them.
    """
    import uvicorn

    from clearlake.api.app import create_app
    from clearlake.api.config import ensure_demo_tokens, load_api_config, tokens_file
    from clearlake.settings import load_settings

    settings = load_settings()
    issued = ensure_demo_tokens(settings)
    if issued:
        typer.echo(f"Issued demo tokens (stored hashed in {tokens_file(settings)}; shown once):")
        for principal, token in issued.items():
            typer.echo(f"  {principal:<18} {token}")
        typer.echo("Use one: export CLEARLAKE_API_TOKEN=<token>")
    config = load_api_config(settings)
    typer.echo(
        f"Data API on http://{host}:{port} (docs: /docs), policy {settings.api_policy_path}, "
        f"audit log {config.audit.target}"
    )
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )


@token_app.command("issue")
def issue(
    principal: Annotated[str, typer.Option(help="Who the token identifies.")],
    role: Annotated[list[str], typer.Option(help="Role from the policy (repeatable).")],
    file: Annotated[
        Path | None, typer.Option(help="Token file (default: CLEARLAKE_API_TOKENS_FILE).")
    ] = None,
) -> None:
    """Issue a token: its digest is appended to the token file, the token is printed once."""
    from clearlake.api.config import tokens_file
    from clearlake.api.policy import load_policy
    from clearlake.api.tokens import issue_token
    from clearlake.errors import ConfigurationError
    from clearlake.settings import load_settings

    settings = load_settings()
    policy = load_policy(settings.api_policy_path)
    unknown = sorted(set(role) - policy.roles)
    if unknown:
        raise ConfigurationError(
            f"Role(s) {unknown} are not in the policy {settings.api_policy_path} "
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
) -> None:
    """Validate a policy file; problems are reported with their line."""
    from clearlake.api.policy import load_policy
    from clearlake.settings import load_settings

    target = path or load_settings().api_policy_path
    policy = load_policy(target)
    typer.echo(f"{target}: valid ({len(policy.roles)} roles: {', '.join(sorted(policy.roles))})")


def register(app: typer.Typer) -> None:
    app.add_typer(api_app, name="api")
