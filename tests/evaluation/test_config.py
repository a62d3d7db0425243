from pathlib import Path

import pytest
import yaml

from clearlake.errors import ConfigurationError
from clearlake.evaluation.config import load_config, parse_config
from clearlake.evaluation.errors import UnknownRepositoryError
from clearlake.settings import PROJECT_ROOT, load_settings

DEFAULT = PROJECT_ROOT / "assets" / "clearlake.yaml"


def minimal(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "suites": {
            "train": {"start": "2013-01-01", "end": "2013-01-31", "role": "train"},
            "holdout": {"start": "2013-02-01", "end": "2013-02-28", "role": "test"},
        }
    }
    raw.update(overrides)
    return raw


def test_shipped_configuration_is_valid_and_complete() -> None:
    config = load_config(DEFAULT)
    assert config.train_suite.role == "train" and config.test_suite.role == "test"
    assert config.feature_window()[0].isoformat() == "2013-01-01"
    assert set(config.profiles) == {"small", "medium", "large", "gpu"}
    assert config.profiles["gpu"].gpu == 1 and config.profiles["small"].gpu == 0
    assert config.profiles["large"].memory.limit.endswith("Gi")
    repo = config.repository("flight-delays")
    assert repo.entrypoint == "delay_model:DelayModel"
    assert repo.baseline.policy == "parent"


def test_home_placeholder_resolves_to_clearlake_home(tmp_path: Path) -> None:
    settings = load_settings({"CLEARLAKE_HOME": str(tmp_path)})
    repo = load_config(DEFAULT).repository("flight-delays")
    assert repo.resolved_location(settings) == f"{tmp_path}/repos/flight-delays"
    assert not repo.is_remote(settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"evaluation": {"train_suite": "nope"}},
            "evaluation.train_suite 'nope' is not a declared",
        ),
        ({"evaluation": {"metrics": ["mae"], "primary_metric": "rmse"}}, "primary_metric"),
        ({"evaluation": {"metrics": ["accuracy"]}}, "evaluation.metrics.0"),
        ({"evaluation": {"bootstrap": {"sampels": 10}}}, "bootstrap.sampels: Extra inputs"),
        (
            {"repositories": [{"name": "Bad/Name", "location": "/x", "entrypoint": "m:C"}]},
            "repositories.0.name",
        ),
        (
            {"repositories": [{"name": "r", "location": "/x", "entrypoint": "no-colon"}]},
            "repositories.0.entrypoint",
        ),
        (
            {
                "repositories": [
                    {
                        "name": "r",
                        "location": "/x",
                        "entrypoint": "m:C",
                        "baseline": {"policy": "branch"},
                    }
                ]
            },
            "needs `branch: <name>`",
        ),
        (
            {
                "profiles": {
                    "tiny": {
                        "cpu": {"request": "half", "limit": "1"},
                        "memory": {"request": "1Gi", "limit": "1Gi"},
                    }
                }
            },
            "not a Kubernetes quantity",
        ),
    ],
)
def test_invalid_configuration_names_the_field(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_config(minimal(**overrides))


def test_suite_window_must_be_ordered() -> None:
    raw = minimal()
    suites = raw["suites"]
    assert isinstance(suites, dict)
    suites["train"]["end"] = "2012-12-01"
    with pytest.raises(ConfigurationError, match=r"suites.train: .*after end"):
        parse_config(raw)


def test_unknown_repository_error_lists_the_registered_ones() -> None:
    config = load_config(DEFAULT)
    with pytest.raises(UnknownRepositoryError, match="Registered: flight-delays"):
        config.repository("other")


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist: set CLEARLAKE_CONFIG"):
        load_config(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("suites: [unclosed")
    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        load_config(broken)
    other_sections = tmp_path / "other.yaml"
    other_sections.write_text(yaml.safe_dump({**minimal(), "reports": {"anything": 1}}))
    assert "reports" in (load_config(other_sections).model_extra or {})
