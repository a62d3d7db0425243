"""Compare any two candidates of a task on identical rows: what changed, where, and why.

A is the baseline side, B the other; every delta is B − A. The deltas, intervals and
verdicts are the gate's own (:func:`clearlake.evaluation.scoring.compare_predictions`): when
A *is* B's gated baseline, the stored comparison is shown as gated; otherwise the pair is
compared now with A's cached seed spread (if its seeds were run), so a verdict never means
something else here than in the gate. Beside them: both commits, the parameter diff, the
files changed between the commits (``git diff --numstat``), what differs in provenance
(from Dagster's event log when one is passed in, else what the lake records), the
rows whose loss changed most (:mod:`.flips`) and the slices that regressed most
(:mod:`.slices`).

Candidates are named by partition key (``repo@1a2b3c4[~params]``, a pipeline's
``late-features@1a2b3c4+model@5d6e7f8``), full sha or unique sha prefix (at least 4 hex
digits, of any stage's commit); a prefix of two commits is an error naming both. For two
combinations of a pipeline the view says which stage(s) changed (``changed_stages``, from
the two keys) and the diff stat is the changed stages' own.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from clearlake.errors import ClearlakeError
from clearlake.evaluation import flips, gate, metrics, scoring, seeds
from clearlake.evaluation.candidates import (
    COMMITS_TABLE,
    CandidateKey,
    candidate_commit_info,
    candidate_parameters,
    changed_stages,
)
from clearlake.evaluation.git import FileChange, git_repository
from clearlake.evaluation.predictions import ROW_ID
from clearlake.evaluation.results import stored_path
from clearlake.evaluation.slices import SliceSearch, slices_between
from clearlake.evaluation.suites import candidate_columns, load_suite, row_id
from clearlake.lake.json_records import json_path, read_json
from clearlake.lake.store import LakeStore
from clearlake.project.load import Project
from clearlake.settings import Settings

SHA_PREFIX = re.compile(r"^[0-9a-f]{4,40}$")


class UnknownCandidateError(ClearlakeError):
    def __init__(self, name: str, tasks: Sequence[str]) -> None:
        self.name = name
        super().__init__(
            f"No evaluated candidate {name!r} in task(s) {', '.join(tasks) or '(none)'}: name it "
            "by key (repo@1a2b3c4), full sha or a unique sha prefix; `clearlake candidates` "
            "lists them."
        )


class AmbiguousCandidateError(ClearlakeError):
    def __init__(self, name: str, matches: Sequence[str]) -> None:
        self.name, self.matches = name, list(matches)
        super().__init__(
            f"Candidate {name!r} is ambiguous: it matches {' and '.join(matches[:2])}"
            + (f" (+{len(matches) - 2} more)" if len(matches) > 2 else "")
            + ": give more digits of the sha, or the key."
        )


@dataclass(frozen=True)
class ResultPaths:
    """The asset paths of a task's stored results (from ``clearlake.names``)."""

    predictions: Sequence[str]
    comparison: Sequence[str]


def evaluated(store: LakeStore, paths: ResultPaths) -> list[str]:
    """The candidate keys of a task with stored predictions (one LIST)."""
    return store.list_partitions("/".join(paths.predictions), prefix="key=")


def resolve_name(name: str, keys: Sequence[str], store: LakeStore) -> list[str]:
    """The keys ``name`` names among ``keys`` (several: ambiguous; none: unknown)."""
    if name in keys:
        return [name]
    prefix = name.lower()
    if not SHA_PREFIX.match(prefix):
        return []
    found = [
        k
        for k in keys
        if any(s.commit.startswith(prefix[:7]) for s in CandidateKey.parse(k).stages)
    ]
    if len(prefix) > 7:  # the lake records the full sha of a combination's model stage only
        found = [k for k in found if _full_sha(store, k).startswith(prefix)]
    commits = {str(CandidateKey.parse(k).without_parameters()) for k in found}
    if len(commits) == 1:  # one commit: its default (no parameters) when it has one
        default = commits.pop()
        return [default] if default in found else found
    return found


def _full_sha(store: LakeStore, key: str) -> str:
    record = read_json(store, json_path(store, COMMITS_TABLE, key))
    return str(record["sha"]) if record else ""


def resolve_pair(
    store: LakeStore, names: tuple[str, str], tasks: dict[str, ResultPaths]
) -> tuple[str, str, str]:
    """``(task, key_a, key_b)`` for two names, searched in ``tasks`` (name → result paths)."""
    known = {task: evaluated(store, paths) for task, paths in tasks.items()}
    chosen: list[tuple[str, str]] = []
    for name in names:
        matches = [(t, k) for t, keys in known.items() for k in resolve_name(name, keys, store)]
        if not matches:
            raise UnknownCandidateError(name, sorted(tasks))
        if len(matches) > 1:
            raise AmbiguousCandidateError(name, [f"{k} (task {t})" for t, k in matches])
        chosen.append(matches[0])
    (task_a, a), (task_b, b) = chosen
    if task_a != task_b:
        raise ClearlakeError(
            f"{a} is a candidate of task {task_a} and {b} of task {task_b}: compare two "
            "candidates of one task."
        )
    return task_a, a, b


@dataclass(frozen=True)
class Side:
    key: str
    sha: str
    subject: str
    message: str
    author: str
    committed_at: str
    parameters: dict[str, Any]
    gate: str
    """The stored gate headline ('' when never gated)."""
    stages: dict[str, str] = field(default_factory=dict)
    """A pipeline combination's commit per stage (``{repo: sha}`` in stage order): the key's
    7 digits, a changed stage's full sha where the event log names it (metadata ``stages``
    of the predictions); ``{}`` for a single repository."""


@dataclass(frozen=True)
class StageDiff:
    """A stage whose commit differs between A and B (``a`` None: not a stage of A)."""

    repo: str
    a: str | None
    b: str | None

    def text(self) -> str:
        return f"{self.repo} {(self.a or '(none)')[:7]}→{(self.b or '(none)')[:7]}"


@dataclass(frozen=True)
class Change:
    """One difference: of provenance (kind code / data / parameters / environment)."""

    kind: str
    where: str
    field: str
    a: str
    b: str


class Difference(Protocol):
    """One difference as an event log reports it (``orchestration.lineage.Difference``)."""

    @property
    def kind(self) -> str: ...
    @property
    def where(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def a(self) -> str: ...
    @property
    def b(self) -> str: ...


EventLog = Callable[[Sequence[str], str, str], Sequence[Difference]]
"""What differs in how two candidates' predictions were made, as an event log has it:
called with the predictions' asset path and the two candidate keys, raising a
:class:`ClearlakeError` for a candidate it does not hold. Passed in by whoever holds a
Dagster instance (``clearlake.orchestration.lineage.candidate_differences``): this package
stays below the Dagster wiring."""


@dataclass(frozen=True)
class CandidateComparison:
    task: str
    a: Side
    b: Side
    rows_compared: int
    rows_only_a: int
    rows_only_b: int
    deltas: pd.DataFrame
    """``scoring.COMPARISON_COLUMNS``: B − A per metric and subgroup."""
    deltas_source: str
    interval: str
    primary: str
    parameters: list[Change]
    files: list[FileChange] | None
    files_note: str
    provenance: list[Change]
    provenance_source: str
    flips: pd.DataFrame
    flip_counts: dict[str, int]
    loss: str
    slices: SliceSearch
    notes: list[str] = field(default_factory=list)
    changed_stages: list[StageDiff] = field(default_factory=list)
    """The pipeline stages whose commit differs from A to B (empty for single repositories)."""

    @property
    def stages_note(self) -> str:
        """``stage late-features 1a2b3c4→9f8e7d6 changed; late-arrivals 5d6e7f8 the same``
        for two pipeline combinations, else ''."""
        if not (self.a.stages or self.b.stages):
            return ""
        changed = {d.repo for d in self.changed_stages}
        if not changed:
            return "no stage changed (same commits)"
        word = "stage" if len(changed) == 1 else "stages"
        same = [f"{r} {c[:7]}" for r, c in self.b.stages.items() if r not in changed]
        text = f"{word} {', '.join(d.text() for d in self.changed_stages)} changed"
        return text + (f"; {', '.join(same)} the same" if same else "")

    @property
    def rows_note(self) -> str:
        if not (self.rows_only_a or self.rows_only_b):
            return f"{self.rows_compared} identical rows"
        return (
            f"ROWS DIFFER: compared on the {self.rows_compared} shared rows; "
            f"{self.rows_only_a} only in A, {self.rows_only_b} only in B"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "a": vars(self.a),
            "b": vars(self.b),
            "changed_stages": [vars(d) for d in self.changed_stages],
            "stages_note": self.stages_note,
            "rows": {
                "compared": self.rows_compared,
                "only_a": self.rows_only_a,
                "only_b": self.rows_only_b,
                "identical": not (self.rows_only_a or self.rows_only_b),
                "note": self.rows_note,
            },
            "primary_metric": self.primary,
            "deltas": records(self.deltas),
            "deltas_source": self.deltas_source,
            "interval": self.interval,
            "parameters": [vars(c) for c in self.parameters],
            "files": None if self.files is None else [vars(f) for f in self.files],
            "files_note": self.files_note,
            "provenance": [vars(c) for c in self.provenance],
            "provenance_source": self.provenance_source,
            "flips": {"loss": self.loss, **self.flip_counts, "rows_shown": records(self.flips)},
            "slices": self.slices.to_json(),
            "notes": self.notes,
        }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (NaN → null, NumPy scalars → Python)."""
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            v = v.item() if isinstance(v, np.generic) else v
            clean[str(k)] = None if isinstance(v, float) and not np.isfinite(v) else v
        out.append(clean)
    return out


def _side(
    store: LakeStore,
    project: Project,
    settings: Settings,
    task: str,
    key: str,
) -> Side:
    info = candidate_commit_info(key, store=store, project=project, settings=settings)
    outcome = gate.load_outcome(store, task, key)
    parsed = CandidateKey.parse(key)
    return Side(
        key=key,
        sha=info.sha,
        subject=info.subject,
        message=info.message,
        author=info.author,
        committed_at=info.committed_at.isoformat(),
        parameters=candidate_parameters(key, store=store),
        gate=outcome.headline() if outcome else "",
        stages={s.repo: s.commit for s in parsed.stages} if len(parsed.stages) > 1 else {},
    )


def stage_diffs(a: str, b: str) -> list[StageDiff]:
    """The stages whose commit differs from ``a`` to ``b``: :func:`changed_stages` of the two
    keys (short shas)."""
    key_a, key_b = CandidateKey.parse(a), CandidateKey.parse(b)
    if len(key_a.stages) < 2 and len(key_b.stages) < 2:
        return []
    return [StageDiff(c.repo, c.old, c.new) for c in changed_stages(key_b, key_a)]


def _with_full_shas(
    stages: list[StageDiff], provenance: list[Change], paths: ResultPaths, sides: tuple[Side, Side]
) -> tuple[list[StageDiff], Side, Side]:
    """The changed stages' full shas, as the event log's differences of the predictions name
    them (field ``stage <repo>``, from metadata ``stages``); the keys' 7 digits otherwise."""
    where = "/".join(paths.predictions)
    full = {
        c.field.removeprefix("stage "): (c.a, c.b)
        for c in provenance
        if c.where == where and c.field.startswith("stage ")
    }

    def pick(short: str | None, found: str) -> str | None:
        return found if short is not None and found.startswith(short) else short

    better = [
        StageDiff(d.repo, pick(d.a, full[d.repo][0]), pick(d.b, full[d.repo][1]))
        if d.repo in full
        else d
        for d in stages
    ]
    a, b = sides
    a_stages = {**a.stages, **{d.repo: d.a for d in better if d.a and d.repo in a.stages}}
    b_stages = {**b.stages, **{d.repo: d.b for d in better if d.b and d.repo in b.stages}}
    return (
        better,
        dataclasses.replace(a, stages=a_stages),
        dataclasses.replace(b, stages=b_stages),
    )


def _predictions(store: LakeStore, paths: ResultPaths, key: str) -> pd.DataFrame:
    return store.read_table(stored_path(store, paths.predictions, key)).to_pandas()


def compare_candidates(
    *,
    project: Project,
    settings: Settings,
    store: LakeStore,
    task_name: str,
    a: str,
    b: str,
    paths: ResultPaths,
    event_log: EventLog | None = None,
    flip_rows: int = 20,
    max_level: int = 2,
) -> CandidateComparison:
    """Everything the compare view shows of A (baseline side) against B."""
    task = project.task(task_name)
    side_a, side_b = (_side(store, project, settings, task_name, k) for k in (a, b))
    frame_a, frame_b = _predictions(store, paths, a), _predictions(store, paths, b)
    task_metrics = metrics.task_metrics(task, lambda ref: project.load_object(ref, what="metric"))
    joined = flips.join_sides(frame_a, frame_b)
    compared = len(joined)
    deltas, interval, source = _deltas(
        store, task_name, task, task_metrics, paths, (a, b), (frame_a, frame_b)
    )
    notes: list[str] = []
    features = _features(store, project, task_name, joined[ROW_ID], notes)
    table, counts = flips.flip_table(task, joined, features=features, limit=flip_rows)
    found = slices_between(task, joined, max_level=max_level)
    stages = stage_diffs(a, b)
    provenance, provenance_source = _provenance(event_log, paths, side_a, side_b, stages)
    stages, side_a, side_b = _with_full_shas(stages, provenance, paths, (side_a, side_b))
    files, files_note = _files(project, settings, side_a, side_b, stages)
    return CandidateComparison(
        task=task_name,
        a=side_a,
        b=side_b,
        rows_compared=compared,
        rows_only_a=len(frame_a) - compared,
        rows_only_b=len(frame_b) - compared,
        deltas=deltas,
        deltas_source=source,
        interval=interval,
        primary=task.primary,
        parameters=_parameter_changes(side_a.parameters, side_b.parameters),
        files=files,
        files_note=files_note,
        provenance=provenance,
        provenance_source=provenance_source,
        flips=table,
        flip_counts=counts,
        loss=flips.LOSS_NAMES[task.type],
        slices=found,
        notes=notes,
        changed_stages=stages,
    )


def _deltas(
    store: LakeStore,
    task_name: str,
    task: Any,
    task_metrics: list[metrics.Metric],
    paths: ResultPaths,
    keys: tuple[str, str],
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, str, str]:
    """The gate's comparison of B with A: stored when A is B's gated baseline, else now."""
    a, b = keys
    outcome = gate.load_outcome(store, task_name, b)
    stored = stored_path(store, paths.comparison, b)
    if outcome is not None and outcome.baseline == a and store.exists(stored):
        frame = store.read_table(stored).to_pandas()
        return frame, outcome.interval, f"the gate's stored comparison of {b} with {a}"
    spread_record = read_json(store, seeds.spread_path(store, task_name, a))
    spread = (
        pd.DataFrame(spread_record["spread"], columns=scoring.SPREAD_SCHEMA.names)
        if spread_record and spread_record.get("spread")
        else None
    )
    compared = scoring.compare_predictions(
        frames[1], frames[0], task, task_metrics, seed_spread=spread
    )
    seed = "with A's cached seed spread" if spread is not None else "test rows only (no seed runs)"
    return compared.frame, compared.interval, f"compared now, {seed}"


def _features(
    store: LakeStore, project: Project, task_name: str, rows: pd.Series, notes: list[str]
) -> pd.DataFrame | None:
    """The test suite's columns a candidate sees, by row id (None when the suite is gone)."""
    task = project.task(task_name)
    dataset = project.feature(task.dataset)
    try:
        suite = load_suite(
            store, task_name=task_name, task=task, dataset=dataset, suite_name=task.test_suite
        )
    except ClearlakeError as exc:
        notes.append(f"feature values not shown: {exc}")
        return None
    identity = row_id(task, dataset)
    columns = [c for c in candidate_columns(task, dataset, train=False) if c != identity]
    frame = suite.select([identity, *columns]).to_pandas()
    frame[identity] = frame[identity].astype(str)
    return frame.set_index(identity)


def _parameter_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    return [
        Change("parameters", "candidate", name, _text(a, name), _text(b, name))
        for name in sorted(set(a) | set(b))
        if a.get(name, _ABSENT) != b.get(name, _ABSENT)
    ]


_ABSENT = object()


def _text(values: dict[str, Any], name: str) -> str:
    return repr(values[name]) if name in values else "(default)"


def _files(
    project: Project, settings: Settings, a: Side, b: Side, stages: list[StageDiff]
) -> tuple[list[FileChange] | None, str]:
    if a.stages or b.stages:
        return _stage_files(project, settings, stages)
    repo_a, repo_b = CandidateKey.parse(a.key).repo, CandidateKey.parse(b.key).repo
    if repo_a != repo_b:
        return None, f"different repositories ({repo_a}, {repo_b}): no diff stat"
    if a.sha == b.sha:
        return [], "same commit"
    try:
        changes = git_repository(project, repo_a, settings).diff_stat(a.sha, b.sha)
    except ClearlakeError as exc:
        return None, f"diff stat unavailable: {exc}"
    added = sum(c.added or 0 for c in changes)
    deleted = sum(c.deleted or 0 for c in changes)
    return changes, f"{len(changes)} file(s) changed, +{added} -{deleted}"


def _stage_files(
    project: Project, settings: Settings, stages: list[StageDiff]
) -> tuple[list[FileChange] | None, str]:
    """The diff stat of each changed stage in its own repository (paths ``<repo>/<path>``)."""
    if not stages:
        return [], "same commits in every stage"
    found: list[FileChange] = []
    notes: list[str] = []
    for stage in stages:
        if stage.a is None or stage.b is None:
            notes.append(f"{stage.repo}: a stage of one side only, no diff stat")
            continue
        try:
            changes = git_repository(project, stage.repo, settings).diff_stat(stage.a, stage.b)
        except ClearlakeError as exc:
            notes.append(f"{stage.repo}: diff stat unavailable: {exc}")
            continue
        found += [dataclasses.replace(c, path=f"{stage.repo}/{c.path}") for c in changes]
        added = sum(c.added or 0 for c in changes)
        deleted = sum(c.deleted or 0 for c in changes)
        notes.append(f"{stage.repo}: {len(changes)} file(s) changed, +{added} -{deleted}")
    return found, "; ".join(notes)


def _provenance(
    event_log: EventLog | None,
    paths: ResultPaths,
    a: Side,
    b: Side,
    stages: list[StageDiff],
) -> tuple[list[Change], str]:
    """What differs in how the two predictions were made."""
    if event_log is None:
        found = [Change("code", "candidate", "commit", a.sha, b.sha)] if a.sha != b.sha else []
        found += [Change("code", "stage", d.repo, d.a or "(none)", d.b or "(none)") for d in stages]
        found += _parameter_changes(a.parameters, b.parameters)
        return found, (
            "the lake's records (commit, parameters) only: code, data and environment "
            "versions are in Dagster's event log (clearlake compare, the gallery's page)"
        )
    try:
        differences = event_log(paths.predictions, a.key, b.key)
    except ClearlakeError as exc:
        return [], f"not in this Dagster instance's event log ({exc})"
    return [
        Change(d.kind, d.where, d.field, d.a, d.b) for d in differences if d.kind != "result"
    ], "Dagster's event log (the predictions' materialisations and their inputs)"
