"""Candidates: algorithm versions (repository + commit [+ parameters]) as dynamic partitions.

A candidate's partition key is ``<repo>@<sha7>`` or ``<repo>@<sha7>~<paramhash8>``, in the
dynamic partitions of the repository's task (one set per task: a repository belongs to
one task, so a key names its task too). A pipeline task's candidate is a combination of
its stages' commits, in pipeline order joined by ``+`` with the model stage last
(``feat@1a2b3c4+model@5d6e7f8[~<paramhash8>]``): :class:`CandidateKey` owns the format, and
``repo``/``commit`` are the model stage's, so the key still names its task. The
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
from collections.abc import Mapping, Sequence
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

_STAGE = r"[a-z0-9][a-z0-9_.-]*@[0-9a-f]{7}"
KEY_PATTERN = re.compile(rf"^(?P<stages>{_STAGE}(?:\+{_STAGE})*)(?:~(?P<params>[0-9a-f]{{8}}))?$")
PARAMETERS_TABLE = "evaluation/candidate_parameters"
COMMITS_TABLE = "evaluation/candidate_commits"


class InvalidCandidateKeyError(ClearlakeError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"{key!r} is not a candidate key: use <repo>@<sha7> or <repo>@<sha7>~<paramhash8> "
            "(for example my-model@1a2b3c4), or for a pipeline the stages in order joined by "
            "'+' (my-features@1a2b3c4+my-model@5d6e7f8)."
        )


def parameter_hash(parameters: Mapping[str, Any]) -> str:
    """Eight hex digits identifying a parameter set (independent of key order)."""
    return json_version(dict(parameters))[:8]


@dataclass(frozen=True)
class StageCommit:
    """One stage of a candidate: a repository at a commit (7 hex digits in a key)."""

    repo: str
    commit: str

    def __str__(self) -> str:
        return f"{self.repo}@{self.commit}"


@dataclass(frozen=True)
class StageChange:
    """A stage whose commit differs between two candidates (``None``: absent from one)."""

    repo: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class CandidateKey:
    """A candidate's partition key: its stages' commits in pipeline order (one stage for a
    single repository) and the model stage's parameter hash."""

    stages: tuple[StageCommit, ...]
    param_hash: str | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            raise ClearlakeError("A candidate key names at least one stage (repo@sha7).")

    @property
    def repo(self) -> str:
        """The model stage's repository (the last stage): it names the task."""
        return self.stages[-1].repo

    @property
    def commit(self) -> str:
        """The model stage's short sha (7 hex digits)."""
        return self.stages[-1].commit

    @property
    def is_pipeline(self) -> bool:
        return len(self.stages) > 1

    @classmethod
    def parse(cls, key: str) -> CandidateKey:
        match = KEY_PATTERN.match(key)
        if match is None:
            raise InvalidCandidateKeyError(key)
        stages = tuple(StageCommit(*part.split("@", 1)) for part in match["stages"].split("+"))
        return cls(stages, match["params"])

    @classmethod
    def of(cls, repo: str, sha: str, parameters: Mapping[str, Any] | None = None) -> CandidateKey:
        """A single repository's key (``sha`` may be the full sha)."""
        return cls.of_stages([(repo, sha)], parameters)

    @classmethod
    def of_stages(
        cls,
        stages: Sequence[tuple[str, str]] | Mapping[str, str],
        parameters: Mapping[str, Any] | None = None,
    ) -> CandidateKey:
        """A combination's key from ``(repo, sha)`` pairs (or ``{repo: sha}``) in pipeline
        order; the shas may be full."""
        pairs = list(stages.items()) if isinstance(stages, Mapping) else list(stages)
        key = cls(
            tuple(StageCommit(repo, sha.lower()[:7]) for repo, sha in pairs),
            parameter_hash(parameters) if parameters else None,
        )
        cls.parse(str(key))  # validates repo names and shas
        return key

    def __str__(self) -> str:
        stages = "+".join(str(stage) for stage in self.stages)
        return stages + (f"~{self.param_hash}" if self.param_hash else "")

    def without_parameters(self) -> CandidateKey:
        return dataclasses.replace(self, param_hash=None)

    def stage(self, repo: str) -> StageCommit | None:
        return next((s for s in self.stages if s.repo == repo), None)

    def with_stage(self, repo: str, sha: str) -> CandidateKey:
        """The same combination with ``repo`` at ``sha`` (a stage of this key)."""
        if self.stage(repo) is None:
            raise ClearlakeError(f"Candidate {self} has no stage {repo!r}.")
        return dataclasses.replace(
            self,
            stages=tuple(
                StageCommit(s.repo, sha.lower()[:7]) if s.repo == repo else s for s in self.stages
            ),
        )


def changed_stages(
    candidate: CandidateKey | str, baseline: CandidateKey | str
) -> list[StageChange]:
    """The stages whose commit differs from ``baseline`` to ``candidate`` (candidate order,
    then stages only the baseline has): attribution is derived from the two keys alone."""
    new = candidate if isinstance(candidate, CandidateKey) else CandidateKey.parse(candidate)
    old = baseline if isinstance(baseline, CandidateKey) else CandidateKey.parse(baseline)
    before = {s.repo: s.commit for s in old.stages}
    after = {s.repo: s.commit for s in new.stages}
    changes = [
        StageChange(s.repo, before.get(s.repo), s.commit)
        for s in new.stages
        if before.get(s.repo) != s.commit
    ]
    changes += [StageChange(s.repo, s.commit, None) for s in old.stages if s.repo not in after]
    return changes


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
