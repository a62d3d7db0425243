from __future__ import annotations

from pathlib import Path

import pytest

from clearlake.errors import ConfigurationError
from clearlake.settings import ensure_dagster_home, load_settings


def test_local_defaults_live_under_home(tmp_path: Path) -> None:
    settings = load_settings({"CLEARLAKE_HOME": str(tmp_path)})
    assert settings.env == "local"
    assert settings.lake_url == (tmp_path / "lake").as_uri()
    assert settings.source_url == f"sqlite:///{tmp_path / 'production.sqlite'}"
    assert settings.dagster_home == tmp_path / "dagster"


def test_cluster_requires_lake() -> None:
    with pytest.raises(ConfigurationError, match="CLEARLAKE_ENV=cluster needs CLEARLAKE_LAKE_URL"):
        load_settings({"CLEARLAKE_ENV": "cluster"})
    settings = load_settings(
        {
            "CLEARLAKE_ENV": "cluster",
            "CLEARLAKE_LAKE_URL": "s3://lake/prod",
            "CLEARLAKE_SOURCE_URL": "postgresql://reader@db/prod",
        }
    )
    assert settings.lake_url == "s3://lake/prod"


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="CLEARLAKE_ENV='staging' is not an environment"):
        load_settings({"CLEARLAKE_ENV": "staging"})


def test_embedded_instance_gets_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(load_settings({"CLEARLAKE_HOME": str(tmp_path)}))
    assert home == tmp_path / "dagster"
    assert "telemetry" in (home / "dagster.yaml").read_text()


def test_cluster_steps_run_as_kubernetes_jobs_unless_the_stack_test_asks_for_processes() -> None:
    import dagster as dg
    from dagster_k8s import k8s_job_executor

    from clearlake.orchestration.environment import executor_for

    cluster = {"CLEARLAKE_ENV": "cluster", "CLEARLAKE_LAKE_URL": "s3://b/lake"}
    assert executor_for(load_settings(cluster)) is k8s_job_executor
    process = load_settings({**cluster, "CLEARLAKE_STEP_EXECUTOR": "process"})
    assert executor_for(process) is dg.multi_or_in_process_executor
    with pytest.raises(ConfigurationError, match="CLEARLAKE_STEP_EXECUTOR='pods'"):
        load_settings({**cluster, "CLEARLAKE_STEP_EXECUTOR": "pods"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLEARLAKE_LAKE_URL", "not a url", "CLEARLAKE_LAKE_URL='not a url' is not a lake"),
        ("CLEARLAKE_LAKE_URL", "lake", "is not a lake location"),  # relative: a typo's folder
        ("CLEARLAKE_LAKE_URL", "s3://", "is not a lake location"),  # no bucket
    ],
)
def test_invalid_settings_are_errors(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({variable: value})


def test_a_home_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("")
    with pytest.raises(ConfigurationError, match=r"CLEARLAKE_HOME=.*home is a file"):
        load_settings({"CLEARLAKE_HOME": str(tmp_path / "home")})


@pytest.mark.parametrize("url", ["s3://bucket/prefix", "file:///srv/lake", "/srv/lake"])
def test_lake_locations_that_are_accepted(url: str) -> None:
    assert load_settings({"CLEARLAKE_LAKE_URL": url}).lake_url == url


def test_every_report_link_is_built_from_the_public_url() -> None:
    assert load_settings({}).reports_url == "http://127.0.0.1:8000/reports"
    client = load_settings({"CLEARLAKE_API_URL": "http://api.internal:8000"})
    assert client.reports_url == "http://api.internal:8000/reports"  # people reach the API there
    public = load_settings(
        {
            "CLEARLAKE_API_URL": "http://api.internal:8000",
            "CLEARLAKE_PUBLIC_URL": "https://x.io/cl/",
        }
    )
    assert (public.public_url, public.reports_url) == ("https://x.io/cl", "https://x.io/cl/reports")
    with pytest.raises(
        ConfigurationError, match=r"CLEARLAKE_PUBLIC_URL='x\.io' is not a web address"
    ):
        load_settings({"CLEARLAKE_PUBLIC_URL": "x.io"})
