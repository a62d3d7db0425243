"""The Dagster family is installed at one release: a partial upgrade fails here, not in a run."""

from importlib.metadata import version

CORE = ["dagster", "dagster-webserver", "dagster-pipes", "dagster-shared", "dagster-graphql"]
INTEGRATIONS = ["dagster-k8s", "dagstermill", "dagster-postgres", "dagster-aws"]


def test_core_and_integrations_share_one_release() -> None:
    cores = {name: version(name) for name in CORE}
    assert len(set(cores.values())) == 1, f"Dagster core packages differ: {cores}"
    major, minor, patch = cores["dagster"].split(".")[:3]
    for name in INTEGRATIONS:
        # Integrations are numbered 0.(minor + 16).patch alongside core 1.minor.patch.
        expected = f"0.{int(minor) + 16}.{patch}"
        assert version(name) == expected, f"{name} {version(name)} is not {expected} ({cores})"
    assert major == "1"
