"""Submitting a commit for evaluation from outside (a CI job, a webhook): Dagster GraphQL.

``submit`` finds the code location that has the task's evaluation job, adds the
candidate's partition to the task's partitions and launches the run, tagged with the
commit sensor's run key so the sensor will not evaluate the same commit again when it
sees it. Job, partitions and sensor names come from the caller (``clearlake.names``).

A commit of a pipeline's stage is a combination of commits: the caller gives every stage's
full sha (``stages``, pipeline order); :func:`registered_with` finds the combinations
already registered that hold a stage commit (the commit sensor makes them: each stage
alone, then both), so ``submit --wait`` waits for them all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import CandidateKey, register_parameters
from clearlake.evaluation.gate import GateOutcome
from clearlake.evaluation.git import git_repository
from clearlake.evaluation.watch import stage_reference
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings

ACTIVE = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS"}

REPOSITORIES = """
query { repositoriesOrError { __typename
  ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
  ... on PythonError { message } } }
"""
RUNS = """
query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { __typename
  ... on Runs { results { runId status } } ... on PythonError { message } } }
"""
ADD_PARTITION = """
mutation($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name,
                      partitionKey: $key) { __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on UnauthorizedError { message } ... on PythonError { message } } }
"""
LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message } ... on UnauthorizedError { message }
  ... on InvalidSubsetError { message } ... on InvalidStepError { invalidStepKey }
  ... on RunConfigValidationInvalid { errors { message } }
  ... on PipelineNotFoundError { message } ... on RunConflict { message } } }
"""


class SubmitError(ClearlakeError):
    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        super().__init__(f"Submitting to Dagster at {url} failed: {problem}")


@dataclass(frozen=True)
class Submitted:
    key: str
    run_id: str
    new: bool
    """False when an active or successful run of this candidate already existed."""


class DagsterGraphQL:
    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __call__(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = httpx.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": dict(variables or {})},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise SubmitError(self.url, f"{exc} (is the Dagster webserver running?)") from None
        if response.status_code != 200:
            raise SubmitError(self.url, f"HTTP {response.status_code}: {response.text[:300]}")
        body = response.json()
        if body.get("errors"):
            raise SubmitError(self.url, "; ".join(e.get("message", "?") for e in body["errors"]))
        data: dict[str, Any] = body["data"]
        return data


def payload(data: dict[str, Any], field: str, url: str, ok: str) -> dict[str, Any]:
    value: dict[str, Any] = data[field]
    if value["__typename"] != ok:
        detail = value.get("message") or value.get("errors") or value
        raise SubmitError(url, f"{field} returned {value['__typename']}: {detail}")
    return value


def find_location(client: DagsterGraphQL, job: str) -> dict[str, str]:
    data = client(REPOSITORIES)
    nodes = payload(data, "repositoriesOrError", client.url, "RepositoryConnection")["nodes"]
    for node in nodes:
        if any(found["name"] == job for found in node["jobs"]):
            return {
                "repositoryLocationName": node["location"]["name"],
                "repositoryName": node["name"],
            }
    raise SubmitError(client.url, f"no code location defines the job {job!r}")


def check_sha(commit: str) -> None:
    if len(commit) < 7 or any(c not in "0123456789abcdef" for c in commit.lower()):
        raise ClearlakeError(f"{commit!r} is not a commit sha: give at least 7 hex digits.")


def submit(
    url: str,
    *,
    repo: str,
    commit: str,
    job: str,
    partitions: str,
    sensor: str,
    parameters: Mapping[str, Any] | None = None,
    store: LakeStore | None = None,
    force: bool = False,
    comparison: list[str] | None = None,
    stages: Mapping[str, str] | None = None,
) -> Submitted:
    """Register ``repo@commit`` (with ``parameters``) in ``partitions`` and launch ``job``
    (the evaluation job of the repository's task), tagged as ``sensor``'s run. For a
    pipeline's combination, ``stages`` gives every stage's full sha in pipeline order
    (``repo``/``commit`` being one of them): the key names them all.

    Unless ``force``, a candidate already evaluated is not launched again: the run that
    stored its gate outcome (in ``comparison``, the task's comparison asset path) is
    returned — a blocked candidate's run *failed* (its blocking check), and later runs of
    the same partition (a follow-up report) store no outcome, so neither "the newest
    run" nor "a successful run" is the one to answer from."""
    check_sha(commit)
    if stages is not None and stages.get(repo, "")[:7] != commit.lower()[:7]:
        raise ClearlakeError(f"Combination {dict(stages)} does not hold {repo}@{commit[:7]}.")
    key = str(
        CandidateKey.of_stages(stages, parameters)
        if stages is not None and len(stages) > 1
        else CandidateKey.of(repo, commit, parameters)
    )
    if parameters:
        if store is None:
            raise ClearlakeError("Submitting with parameters needs the lake (to store them).")
        register_parameters(store, key, parameters)
    client = DagsterGraphQL(url)
    selector = find_location(client, job)
    if not force and comparison is not None:
        stored = _stored_record(client, comparison, key)
        if stored is not None:
            return Submitted(key, stored[0], new=False)
    if not force:
        runs = client(RUNS, {"tags": [{"key": "dagster/partition", "value": key}]})
        results = payload(runs, "runsOrError", client.url, "Runs")["results"]
        active = [r for r in results if r["status"] in ACTIVE]
        if active:
            return Submitted(key, active[0]["runId"], new=False)
    added = client(ADD_PARTITION, {"selector": selector, "name": partitions, "key": key})
    kind = added["addDynamicPartition"]["__typename"]
    if kind not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
        payload(added, "addDynamicPartition", client.url, "AddDynamicPartitionSuccess")
    tags = {
        "dagster/partition": key,
        "dagster/run_key": key,
        "dagster/sensor_name": sensor,
        "clearlake/repo": repo,
        "clearlake/commit": commit,
        "clearlake/reason": "submitted",
    }
    if stages is not None and len(stages) > 1 and all(len(v) == 40 for v in stages.values()):
        tags["clearlake/stages"] = json.dumps(dict(stages))
    launched = client(
        LAUNCH,
        {
            "params": {
                "selector": {**selector, "jobName": job},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
            }
        },
    )
    run = payload(launched, "launchRun", client.url, "LaunchRunSuccess")["run"]
    return Submitted(key, run["runId"], new=True)


RUN_STATUS = """
query($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { status eventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } } } } }
  ... on RunNotFoundError { message } ... on PythonError { message } } }
"""
GATE_RECORD = """
query($path: [String!]!, $key: String!) { assetOrError(assetKey: {path: $path}) { __typename
  ... on Asset { assetMaterializations(partitions: [$key], limit: 1) { runId
    metadataEntries { label ... on JsonMetadataEntry { jsonString } } } }
  ... on AssetNotFoundError { message } } }
"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
PARTITION_KEYS = """
query($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { __typename
  ... on AssetNode { partitionKeys } ... on AssetNotFoundError { message } } }
"""


def with_stage(keys: Iterable[str], repo: str, sha: str) -> list[str]:
    """The candidate keys among ``keys`` that hold stage ``repo`` at ``sha`` (full or at
    least 7 digits), in their order."""
    short = sha.lower()[:7]
    found = []
    for key in keys:
        stage = CandidateKey.parse(key).stage(repo)
        if stage is not None and stage.commit == short:
            found.append(key)
    return found


def reference_combination(
    project: Project, settings: Settings, *, task: str, repo: str, sha: str
) -> dict[str, str]:
    """``{repo: full sha}`` in stage order: task ``task``'s pipeline with stage ``repo`` at
    ``sha`` and every other stage at its reference commit — the champion's pinned commit,
    or the head of its first watched branch (the commit sensor takes the head its previous
    tick saw; from outside the sensor, the head now)."""
    pipeline = project.task(task).pipeline
    if not pipeline or all(stage.repository != repo for stage in pipeline):
        raise ClearlakeError(f"Repository {repo} is not a stage of task {task}'s pipeline.")
    found: dict[str, str] = {}
    for stage in pipeline:
        name = stage.repository
        if name == repo:
            found[name] = sha
            continue
        git = git_repository(project, name, settings)
        git.refresh()
        branch = project.repository(name).branches[0]
        head = git.branch_head(branch)
        if head is None and stage.reference.policy != "champion":
            raise ClearlakeError(
                f"Stage {name} of task {task} has no branch {branch!r}: its reference commit "
                "(the branch head) is unknown; push the branch or pin a champion commit."
            )
        found[name] = stage_reference(stage, git, head=head or "")
    return found


def registered_with(url: str, *, comparison: list[str], repo: str, sha: str) -> list[str]:
    """The partitions of the task's comparison asset (its candidates) holding stage ``repo``
    at ``sha``, asked of the webserver (the sensor may run in another process)."""
    client = DagsterGraphQL(url)
    found = client(PARTITION_KEYS, {"path": comparison})["assetNodeOrError"]
    if found["__typename"] != "AssetNode":
        raise SubmitError(url, f"no asset {'/'.join(comparison)}: {found.get('message', '')}")
    return with_stage(found["partitionKeys"], repo, sha)


def _stored_record(
    client: DagsterGraphQL, comparison: list[str], key: str
) -> tuple[str, GateOutcome] | None:
    """The run id and gate outcome of candidate ``key``'s latest comparison, if any."""
    found = client(GATE_RECORD, {"path": comparison, "key": key})["assetOrError"]
    for record in found.get("assetMaterializations") or []:
        for entry in record["metadataEntries"]:
            if entry["label"] == "gate_record" and entry.get("jsonString"):
                return str(record["runId"]), GateOutcome.from_json(json.loads(entry["jsonString"]))
    return None


def _run_failure(run: dict[str, Any]) -> str:
    for event in (run.get("eventConnection") or {}).get("events", []):
        error = event.get("error")
        if event.get("__typename") == "ExecutionStepFailureEvent" and error:
            messages = [error.get("message", "")] + [c["message"] for c in error.get("causes", [])]
            return str(messages[-1]).strip().splitlines()[0] if messages[-1] else "failed"
    return "no step failure recorded"


def wait_for_outcome(
    url: str,
    *,
    run_id: str,
    key: str,
    comparison: list[str],
    timeout_seconds: float,
    poll_seconds: float = 2.0,
) -> GateOutcome:
    """The gate outcome the run ``run_id`` stored for candidate ``key`` (``comparison`` is
    the path of the task's comparison asset); a clear error when the run ended without one
    (it failed before comparing: crash, unknown commit…) or did not end in time."""
    client = DagsterGraphQL(url)
    deadline = time.monotonic() + timeout_seconds
    while True:
        data = client(RUN_STATUS, {"runId": run_id})
        run = payload(data, "runOrError", client.url, "Run")
        if run["status"] in FINISHED:
            break
        if time.monotonic() >= deadline:
            raise SubmitError(
                url,
                f"no gate outcome for {key} after {timeout_seconds:g} s (run {run_id} is "
                f"{run['status']}); raise --timeout or look at {client.url}/runs/{run_id}",
            )
        time.sleep(poll_seconds)
    stored = _stored_record(client, comparison, key)
    # This run's outcome; or, after a run that ended well without one (a follow-up report
    # run of a blocked candidate), the candidate's stored outcome. A run that failed
    # without storing one failed before comparing: an older outcome would not answer it.
    if stored is not None and (stored[0] == run_id or run["status"] == "SUCCESS"):
        return stored[1]
    raise SubmitError(
        url,
        f"run {run_id} of {key} ended {run['status']} without a gate outcome: "
        f"{_run_failure(run)} (see {client.url}/runs/{run_id})",
    )
