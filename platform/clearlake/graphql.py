"""A running Dagster, spoken to through its GraphQL API (what a CI job or a laptop has).

Thin over ``dagster_graphql.DagsterGraphQLClient``; adds the calls it lacks (dynamic
partitions, run status) and turns connection problems into one clear error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from clearlake.errors import ClearlakeError

LOCATION = "clearlake"
REPOSITORY = "__repository__"

ADD_DYNAMIC_PARTITION = """
mutation AddPartition($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""


class DagsterApiError(ClearlakeError):
    """The Dagster webserver is unreachable or refused a request."""


class DagsterApi:
    """Clearlake's code location on the Dagster webserver at ``url``."""

    def __init__(self, url: str, *, timeout: int = 60) -> None:
        parsed = urlparse(url)
        if not parsed.hostname:
            raise DagsterApiError(f"Dagster URL {url!r} has no host: use http://host:port.")
        self.url = url
        self.client = DagsterGraphQLClient(
            parsed.hostname,
            port_number=parsed.port,
            use_https=parsed.scheme == "https",
            timeout=timeout,
        )

    def _execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.client._execute(query, variables)
        except DagsterGraphQLClientError as exc:
            raise DagsterApiError(
                f"Dagster at {self.url} did not answer ({exc}): start it (`clearlake ui`) or "
                "set CLEARLAKE_DAGSTER_URL to its address."
            ) from None
        return result

    def check_reachable(self) -> None:
        self._execute("query { version }")

    def add_dynamic_partition(self, partitions_def: str, key: str) -> None:
        """Register ``key`` (idempotent: an existing key is fine)."""
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        answer = self._execute(
            ADD_DYNAMIC_PARTITION, {"selector": selector, "name": partitions_def, "key": key}
        )["addDynamicPartition"]
        if answer["__typename"] not in (
            "AddDynamicPartitionSuccess",
            "DuplicateDynamicPartitionError",
        ):
            raise DagsterApiError(
                f"Dagster refused partition {key!r} of {partitions_def!r}: "
                f"{answer.get('message', answer['__typename'])}"
            )

    def launch_run(
        self, job: str, *, tags: dict[str, str], run_config: dict[str, Any] | None = None
    ) -> str:
        try:
            return self.client.submit_job_execution(
                job,
                repository_location_name=LOCATION,
                repository_name=REPOSITORY,
                run_config=run_config or {},
                tags=tags,
            )
        except DagsterGraphQLClientError as exc:
            raise DagsterApiError(f"Dagster at {self.url} refused to launch {job}: {exc}") from None

    def run_status(self, run_id: str) -> str:
        try:
            return str(self.client.get_run_status(run_id).value)
        except DagsterGraphQLClientError as exc:
            raise DagsterApiError(f"Cannot read the status of run {run_id}: {exc}") from None
