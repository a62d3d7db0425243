"""The one place that decides the environment.

Nothing else in Clearlake reads deployment variables: every module asks
:func:`load_settings` (or receives a :class:`Settings`). Two environments exist:

``local`` (default)
    Embedded defaults: everything under ``CLEARLAKE_HOME`` (default ``./.clearlake``):
    SQLite Dagster storage, the lake on the local filesystem and a sample production
    database (SQLite) built by the default project's `demo.sample_database`.
``cluster``
    dagster-postgres storage (from the Helm chart's instance config), the lake on S3,
    the real production database as source. Lake and source URLs are required.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

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
    "api_policy": "CLEARLAKE_API_POLICY",
    "api_tokens_file": "CLEARLAKE_API_TOKENS_FILE",
    "api_tokens": "CLEARLAKE_API_TOKENS",
    "api_mask_key": "CLEARLAKE_API_MASK_KEY",
    "api_audit_log": "CLEARLAKE_API_AUDIT_LOG",
    "api_url": "CLEARLAKE_API_URL",
    "api_token": "CLEARLAKE_API_TOKEN",
    "public_url": "CLEARLAKE_PUBLIC_URL",
    "step_executor": "CLEARLAKE_STEP_EXECUTOR",
    "drops_url": "CLEARLAKE_DROPS_URL",
    "experiment_capacity": "CLEARLAKE_EXPERIMENT_CAPACITY",
}

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The source checkout (``platform/clearlake`` lives two levels below it)."""


def _default_project() -> Path:
    """The project used when CLEARLAKE_CONFIG names none: ``[tool.clearlake]
    default-project`` of the checkout's pyproject.toml (the packaging names the example;
    the library names no project)."""
    try:
        with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
            declared = tomllib.load(file)["tool"]["clearlake"]["default-project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return PROJECT_ROOT
    return PROJECT_ROOT / str(declared)


DEFAULT_PROJECT = _default_project()


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
    # Data API (server side): policy, hashed tokens (file and/or inline YAML), masking key,
    # audit log (a path, or "-" for stdout). None = local default under ``home/api``; the
    # policy's default is the project's ``api.policy`` (clearlake.api.config.policy_path).
    api_policy_path: Path | None = None
    api_tokens_file: Path | None = None
    api_tokens: str | None = None
    api_mask_key: str | None = None
    api_audit_log: str | None = None
    # Data API (client side): where the service runs and the caller's bearer token.
    api_url: str = "http://127.0.0.1:8000"
    api_token: str | None = None
    # The one public address people open (the Data API as they reach it: a host, or an
    # ingress with a path prefix). Every link to a report, a commit page or the gallery is
    # built from it; default: the local Data API.
    public_url: str = "http://127.0.0.1:8000"
    # Where a cluster run's steps execute: "kubernetes" (a Job per step, k8s_job_executor) or
    # "process" (a subprocess per step, for the production-shaped stack test without a cluster).
    step_executor: Literal["kubernetes", "process"] = "kubernetes"
    # The drop zone's root: a local folder (default ``home/drops``) or ``s3://bucket/prefix``
    # (a prefix per dataset below it), where the cluster's pods and partners can reach it.
    drops_url: str | None = None
    # What the cluster can hold (JSON the chart writes: node groups' allocatable resources and
    # the experiments quota); experiments are checked against it before launch.
    experiment_capacity: str | None = None

    @property
    def reports_url(self) -> str:
        """Public base URL of ``reports_root`` (the Data API serves it under ``/reports``)."""
        return f"{self.public_url.rstrip('/')}/reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def sample_db_path(self) -> Path:
        return self.home / "production.sqlite"

    @property
    def drop_root(self) -> str:
        return self.drops_url or str(self.home / "drops")

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
    if env == "cluster" and not lake_url:
        # The source URL is a secret only the code location needs (resources read it
        # through dg.EnvVar); a scientist's laptop targeting the cluster never has it.
        raise ConfigurationError(
            f"CLEARLAKE_ENV=cluster needs {ENV_VARS['lake_url']} (s3://bucket/prefix; the Helm "
            "chart sets it in the ConfigMap)."
        )
    if home.exists() and not home.is_dir():
        raise ConfigurationError(
            f"{ENV_VARS['home']}={home} is a file, not a folder: point it at a folder "
            "(it is created when missing)."
        )
    if lake_url:
        _check_lake_url(lake_url)
    drops_url = env_map.get(ENV_VARS["drops_url"]) or None
    if drops_url:
        _check_drops_url(drops_url, lake_url or "")
    config = env_map.get(ENV_VARS["config"], str(DEFAULT_PROJECT / "clearlake.yaml"))
    step_executor = env_map.get(ENV_VARS["step_executor"], "kubernetes")
    if step_executor not in ("kubernetes", "process"):
        raise ConfigurationError(
            f"{ENV_VARS['step_executor']}={step_executor!r}: use 'kubernetes' or 'process'."
        )
    return Settings(
        env=env,  # type: ignore[arg-type]
        home=home,
        lake_url=lake_url or (home / "lake").as_uri(),
        source_url=source_url or f"sqlite:///{home / 'production.sqlite'}",
        config_path=Path(config),
        dagster_url=env_map.get(ENV_VARS["dagster_url"], "http://127.0.0.1:3000"),
        platform_commit=env_map.get(ENV_VARS["platform_commit"]),
        api_policy_path=Path(env_map[ENV_VARS["api_policy"]])
        if env_map.get(ENV_VARS["api_policy"])
        else None,
        api_tokens_file=Path(
            env_map.get(ENV_VARS["api_tokens_file"], str(home / "api" / "tokens.yaml"))
        ),
        api_tokens=env_map.get(ENV_VARS["api_tokens"]) or None,
        api_mask_key=env_map.get(ENV_VARS["api_mask_key"]) or None,
        api_audit_log=env_map.get(ENV_VARS["api_audit_log"]) or None,
        api_url=env_map.get(ENV_VARS["api_url"], "http://127.0.0.1:8000"),
        api_token=env_map.get(ENV_VARS["api_token"]) or None,
        step_executor=step_executor,  # type: ignore[arg-type]
        public_url=_public_url(env_map),
        drops_url=drops_url,
        experiment_capacity=env_map.get(ENV_VARS["experiment_capacity"]) or None,
    )


def _public_url(env_map: dict[str, str]) -> str:
    """CLEARLAKE_PUBLIC_URL (checked), else where the Data API's clients reach it."""
    url = env_map.get(ENV_VARS["public_url"]) or env_map.get(
        ENV_VARS["api_url"], "http://127.0.0.1:8000"
    )
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(
            f"{ENV_VARS['public_url']}={url!r} is not a web address: use the URL people open "
            "the Data API at, e.g. https://clearlake.example.com or http://127.0.0.1:8000."
        )
    return url.rstrip("/")


def _check_lake_url(url: str) -> None:
    """A lake is a folder (an absolute path or ``file://``) or ``s3://bucket[/prefix]``;
    anything else would silently become a relative folder named after the typo."""
    parsed = urlparse(url)
    if parsed.scheme == "s3" and parsed.netloc:
        return
    if parsed.scheme == "file" or (parsed.scheme == "" and Path(url).is_absolute()):
        return
    raise ConfigurationError(
        f"{ENV_VARS['lake_url']}={url!r} is not a lake location: use s3://bucket/prefix, "
        "file:///absolute/folder or an absolute folder path."
    )


def _check_drops_url(url: str, lake_url: str) -> None:
    """Dropped files must not sit inside the lake's own ``drops/<name>`` tables, whose
    readers would take a dropped Parquet file for a partition."""
    name = ENV_VARS["drops_url"]
    parsed = urlparse(url)
    if not (parsed.scheme == "s3" and parsed.netloc) and not Path(url).is_absolute():
        raise ConfigurationError(
            f"{name}={url!r} is not a drop location: use s3://bucket/prefix or an absolute folder."
        )
    tables = f"{lake_url.rstrip('/')}/drops"
    if lake_url and (url.rstrip("/") == tables or url.startswith(tables + "/")):
        raise ConfigurationError(
            f"{name}={url!r} is inside the lake's drop tables ({tables}): put drops beside "
            "the lake (e.g. s3://bucket/drops for a lake at s3://bucket/lake)."
        )


LOCAL_INSTANCE_YAML = """\
# Embedded Dagster instance of a local Clearlake (SQLite storage in this folder).
# Written once by Clearlake; edit freely. The cluster's instance comes from the Helm chart.
telemetry:
  enabled: false
# Runs stuck STARTING fail after 3 minutes; runs whose process was killed are marked failed
# by Clearlake's own sweep (clearlake.orchestration.run_sweep) at CLI and `clearlake ui` start.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 60
"""


def ensure_dagster_home(settings: Settings) -> Path:
    """Point Dagster at the project-local instance when nobody chose one."""
    # Child processes (report kernels, candidates, run workers) must see the same home as
    # this one, whatever their working directory: the default is relative to the cwd.
    os.environ.setdefault(ENV_VARS["home"], str(settings.home))
    if "DAGSTER_HOME" not in os.environ:
        os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if settings.env == "local" and not config.exists():
        config.write_text(LOCAL_INSTANCE_YAML)
    return home
