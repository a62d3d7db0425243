"""Candidates: algorithm versions (repository + commit [+ parameters]) as dynamic partitions.

A candidate's partition key is ``<repo>@<sha7>`` or ``<repo>@<sha7>~<paramhash8>``, in the
dynamic partitions of the repository's task (one set per task: a repository belongs to
one task, so a key names its task too). The
parameters of a key with a hash are kept in the lake at
``<lake>/evaluation/candidate_parameters/<key>.json`` (written by :func:`register_candidate`),
so any process that sees the key can recover them. The commit's message, author and time
are recorded at evaluation under ``<lake>/evaluation/candidate_commits/<key>.json`` so the
leaderboard and reports can show them without access to the repository.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from clearlake.errors import ClearlakeError
from clearlake.evaluation.git import CommitInfo, GitRepository, git_repository
from clearlake.lake.json_records import json_path, read_json, write_json
from clearlake.lake.store import LakeStore
from clearlake.project.config import RepositoryConfig
from clearlake.project.load import Project, current_project
from clearlake.settings import Settings, load_settings
from clearlake.versioning import json_version

KEY_PATTERN = re.compile(
    r"^(?P<repo>[a-z0-9][a-z0-9_.-]*)@(?P<commit>[0-9a-f]{7})(?:~(?P<params>[0-9a-f]{8}))?$"
)
PARAMETERS_TABLE = "evaluation/candidate_parameters"
COMMITS_TABLE = "evaluation/candidate_commits"


class InvalidCandidateKeyError(ClearlakeError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"{key!r} is not a candidate key: use <repo>@<sha7> or <repo>@<sha7>~<paramhash8> "
            "(for example my-model@1a2b3c4)."
        )


def parameter_hash(parameters: Mapping[str, Any]) -> str:
    """Eight hex digits identifying a parameter set (independent of key order)."""
    return json_version(dict(parameters))[:8]


@dataclass(frozen=True)
class CandidateKey:
    repo: str
    commit: str
    """Short sha (7 hex digits)."""
    param_hash: str | None = None

    @classmethod
    def parse(cls, key: str) -> CandidateKey:
        match = KEY_PATTERN.match(key)
        if match is None:
            raise InvalidCandidateKeyError(key)
        return cls(match["repo"], match["commit"], match["params"])

    @classmethod
    def of(cls, repo: str, sha: str, parameters: Mapping[str, Any] | None = None) -> CandidateKey:
        key = cls(repo, sha.lower()[:7], parameter_hash(parameters) if parameters else None)
        cls.parse(str(key))  # validates repo name and sha
        return key

    def __str__(self) -> str:
        return f"{self.repo}@{self.commit}" + (f"~{self.param_hash}" if self.param_hash else "")

    def without_parameters(self) -> CandidateKey:
        return dataclasses.replace(self, param_hash=None)


def register_candidate(
    instance: dg.DagsterInstance,
    repo: str,
    sha: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    partitions: str,
    store: LakeStore | None = None,
) -> str:
    """Add the candidate's partition to ``partitions`` (its task's dynamic partitions, named
    by ``clearlake.names.candidate_partitions_name``; idempotent) and return its key.

    With ``parameters``, the key carries their hash and the parameters are stored in the
    lake so that evaluation (in any process) passes them to the algorithm's constructor.
    """
    key = CandidateKey.of(repo, sha, parameters)
    if parameters:
        register_parameters(store or LakeStore(load_settings().lake_url), str(key), parameters)
    if not instance.has_dynamic_partition(partitions, str(key)):
        instance.add_dynamic_partitions(partitions, [str(key)])
    return str(key)


def register_parameters(store: LakeStore, key: str, parameters: Mapping[str, Any]) -> None:
    """Store the parameters of ``key`` in the lake (the key must carry their hash)."""
    parsed = CandidateKey.parse(key)
    if parsed.param_hash != parameter_hash(parameters):
        raise ClearlakeError(
            f"Candidate key {key} does not carry the hash of {dict(parameters)} "
            f"({parameter_hash(parameters)}): build it with CandidateKey.of(repo, sha, parameters)."
        )
    write_json(store, json_path(store, PARAMETERS_TABLE, key), dict(parameters))


def candidate_parameters(key: str | CandidateKey, *, store: LakeStore) -> dict[str, Any]:
    """The parameters of a candidate (``{}`` for a key without a parameter hash)."""
    parsed = key if isinstance(key, CandidateKey) else CandidateKey.parse(key)
    if parsed.param_hash is None:
        return {}
    found = read_json(store, json_path(store, PARAMETERS_TABLE, str(parsed)))
    if found is None:
        raise ClearlakeError(
            f"Candidate {parsed} has a parameter hash but no parameters file in the lake: "
            "register it with clearlake.evaluation.candidates.register_candidate(...)."
        )
    if parameter_hash(found) != parsed.param_hash:
        raise ClearlakeError(
            f"Parameters stored for candidate {parsed} do not hash to {parsed.param_hash}: the "
            "file was edited; register the candidate again."
        )
    return found


def save_commit_info(store: LakeStore, key: str, info: CommitInfo) -> None:
    record = dataclasses.asdict(info)
    record["committed_at"] = info.committed_at.isoformat()
    write_json(store, json_path(store, COMMITS_TABLE, key), record)


def recorded_commit_info(store: LakeStore, key: str) -> CommitInfo | None:
    """The commit record saved at evaluation (None when there is none): never asks git."""
    found = read_json(store, json_path(store, COMMITS_TABLE, key))
    if found is None:
        return None
    return CommitInfo(
        sha=found["sha"],
        message=found["message"],
        author=found["author"],
        committed_at=dt.datetime.fromisoformat(found["committed_at"]),
        parents=tuple(found["parents"]),
    )


def candidate_commit_info(
    key: str | CandidateKey,
    *,
    store: LakeStore | None = None,
    project: Project | None = None,
    settings: Settings | None = None,
) -> CommitInfo:
    """Message, author and time of a candidate's commit (recorded copy, else from git)."""
    parsed = key if isinstance(key, CandidateKey) else CandidateKey.parse(key)
    settings = settings or load_settings()
    store = store or LakeStore(settings.lake_url)
    found = recorded_commit_info(store, str(parsed))
    if found is not None:
        return found
    project = project or current_project(settings)
    return git_repository(project, parsed.repo, settings).commit_info(parsed.commit)


@dataclass(frozen=True)
class ResolvedCandidate:
    """Everything needed to run a candidate: its repository, full commit and parameters."""

    key: CandidateKey
    repository: RepositoryConfig
    git: GitRepository
    sha: str
    parameters: dict[str, Any]


def resolve_candidate(
    key: str, *, project: Project, settings: Settings, store: LakeStore
) -> ResolvedCandidate:
    parsed = CandidateKey.parse(key)
    repository = project.repository(parsed.repo)
    git = git_repository(project, parsed.repo, settings)
    git.refresh()
    return ResolvedCandidate(
        key=parsed,
        repository=repository,
        git=git,
        sha=git.resolve(parsed.commit),
        parameters=candidate_parameters(parsed, store=store),
    )
