"""Materialise-on-commit: what one tick of the commit sensor decides, as a plain function.

A pipeline task's candidates are combinations of its stages' commits (:func:`plan_pipeline`).

The cursor is JSON: ``{"<repo>:<branch>": "<last seen sha>"}``. A tick lists the commits
since the last seen sha on every watched branch (oldest first, at most ``max_per_tick``
per branch so a big push is spread over ticks), registers a partition per commit (and
per missing baseline) and asks for their evaluation. The cursor only moves past commits
whose requests were emitted, and run keys are the partition keys, so a restart neither
skips a commit nor evaluates one twice. Each tick fetches every mirror first, a few at a
time and each within its own budget (:mod:`clearlake.evaluation.fetching`): a hanging or
broken remote is skipped with a note naming its repository.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from clearlake.errors import ClearlakeError
from clearlake.evaluation.baseline import baseline_commit
from clearlake.evaluation.candidates import CandidateKey
from clearlake.evaluation.fetching import Refreshed, refresh_mirrors
from clearlake.evaluation.git import GitRepository, git_repository
from clearlake.project.config import StageConfig
from clearlake.project.load import Project
from clearlake.settings import Settings

MAX_PER_TICK = 25


@dataclass(frozen=True)
class Request:
    key: str
    repo: str
    """The model stage's repository (the only one for a single-repository task)."""
    commit: str
    """The model stage's full sha."""
    branch: str
    reason: str
    task: str
    stages: dict[str, str] = field(default_factory=dict)
    """A pipeline combination's full shas, ``{repo: sha}`` in stage order (run tag
    ``clearlake/stages``); empty for a single repository."""
    changed: tuple[str, ...] = ()
    """The stages whose new commit this combination evaluates."""


@dataclass
class TickPlan:
    requests: list[Request] = field(default_factory=list)
    cursor: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Human-readable notes on repositories or branches that could not be read."""

    @property
    def new_keys(self) -> list[str]:
        return [r.key for r in self.requests]

    def cursor_json(self) -> str:
        return json.dumps(self.cursor, sort_keys=True)


def parse_cursor(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    loaded = json.loads(raw)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def plan_tick(
    project: Project,
    settings: Settings,
    cursor: dict[str, str],
    *,
    is_known: Callable[[str, str], bool],
    max_per_tick: int = MAX_PER_TICK,
) -> TickPlan:
    """New commits to evaluate (each with its repository's task) and the cursor after them;
    ``is_known(task, key)``: is the candidate registered in the task's partitions?"""
    plan = TickPlan(cursor=dict(cursor))
    planned: set[str] = set()

    def request(key: str, repo: str, sha: str, branch: str, reason: str) -> None:
        if key not in planned:
            planned.add(key)
            plan.requests.append(Request(key, repo, sha, branch, reason, project.task_of(repo)))

    # Every mirror fetched once per tick, a few at a time, each within its own time budget:
    # a slow or broken remote is a note for its repository and never holds up the others.
    refreshed = refresh_mirrors(
        [git_repository(project, r.name, settings) for r in project.config.repositories]
    )
    for task_name, task_config in project.config.tasks.items():
        if task_config.pipeline:
            plan_pipeline(project, settings, task_name, plan, is_known=is_known,
                          max_per_tick=max_per_tick, refreshed=refreshed)  # fmt: skip
    staged = {s.repository for t in project.config.tasks.values() for s in t.pipeline or ()}
    for repository in project.config.repositories:
        if repository.name in staged:
            continue
        task = project.task_of(repository.name)
        git = git_repository(project, repository.name, settings)
        if (note := refreshed.note(repository.name)) is not None:
            plan.skipped.append(note)
            continue
        for branch in repository.branches:
            state = f"{repository.name}:{branch}"
            head = git.branch_head(branch)
            if head is None:
                plan.skipped.append(f"{repository.name}: branch {branch!r} does not exist")
                continue
            last = cursor.get(state)
            limit = repository.initial_history if last is None else max_per_tick
            commits = git.new_commits(head, last, limit=limit)[:max_per_tick]
            policy = repository.baseline
            for sha in commits:
                base = baseline_commit(
                    git, sha, policy=policy.policy, branch=policy.branch, champion=policy.commit
                )
                if base is not None:
                    base_key = str(CandidateKey.of(repository.name, base))
                    if not is_known(task, base_key):
                        request(base_key, repository.name, base, branch, f"baseline of {sha[:7]}")
                request(
                    str(CandidateKey.of(repository.name, sha)),
                    repository.name,
                    sha,
                    branch,
                    f"new commit on {branch}",
                )
            if commits:
                plan.cursor[state] = commits[-1]
    return plan


def stage_reference(
    stage: StageConfig, git: GitRepository, *, head: str, last_seen: str | None = None
) -> str:
    """The commit a pipeline stage's peers are combined with: the pinned champion, else the
    head of its first watched branch as the sensor last saw it (``last_seen``), or ``head``
    (the branch head now) on a first look or when that commit is gone."""
    if stage.reference.policy == "champion":
        assert stage.reference.commit is not None  # the configuration requires it
        return git.resolve(stage.reference.commit)
    return last_seen if last_seen is not None and git.is_commit(last_seen) else head


def plan_pipeline(
    project: Project,
    settings: Settings,
    task: str,
    plan: TickPlan,
    *,
    is_known: Callable[[str, str], bool],
    max_per_tick: int = MAX_PER_TICK,
    refreshed: Refreshed | None = None,
) -> None:
    """A pipeline task's combinations for this tick, appended to ``plan``.

    Each new commit of a stage (its first watched branch) is evaluated with the other
    stages at their reference commits (``branch``: the head the previous tick saw — the
    current head on a first look — so commits landing in two stages at once are first
    evaluated each alone; ``champion``: the pinned commit), after its baseline combination
    (that stage at the commit's first parent) when that was never registered. When several
    stages moved, the combination of their newest commits comes last. Keys are run keys:
    no combination is evaluated twice.
    A stage that cannot be read or whose reference commit is gone is skipped with a
    one-line note naming the stage; the other stages' candidates go on.
    """
    pipeline = project.task(task).pipeline
    assert pipeline is not None
    reference: dict[str, str] = {}
    fresh: dict[str, list[str]] = {}
    gits = {}
    for stage in pipeline:
        name = stage.repository
        repository = project.repository(name)
        git = gits[name] = git_repository(project, name, settings)
        branch = repository.branches[0]
        try:
            if refreshed is None:
                git.refresh()
            elif (note := refreshed.note(name)) is not None:
                raise ClearlakeError(note.removeprefix(f"{name}: "))
            head = git.branch_head(branch)
            if head is None:
                raise ClearlakeError(f"branch {branch!r} does not exist")
            last = plan.cursor.get(f"{name}:{branch}")
            limit = repository.initial_history if last is None else max_per_tick
            fresh[name] = git.new_commits(head, last, limit=limit)[:max_per_tick]
            reference[name] = stage_reference(stage, git, head=head, last_seen=last)
        except ClearlakeError as exc:
            plan.skipped.append(f"task {task}: stage {name}: {' '.join(str(exc).split())}")
            return
    model = pipeline[-1].repository
    planned = set(plan.new_keys)
    first_new = len(plan.requests)

    def request(shas: dict[str, str], reason: str, changed: tuple[str, ...]) -> None:
        key = str(CandidateKey.of_stages(list(shas.items())))
        if key in planned:
            return
        planned.add(key)
        branch = project.repository(changed[-1] if changed else model).branches[0]
        plan.requests.append(
            Request(key, model, shas[model], branch, reason, task, dict(shas), changed)
        )

    def combination(moved: dict[str, str]) -> dict[str, str]:
        return {s.repository: moved.get(s.repository, reference[s.repository]) for s in pipeline}

    for stage in pipeline:
        name = stage.repository
        for sha in fresh[name]:
            parents = gits[name].commit_info(sha).parents
            if parents:
                base = combination({name: parents[0]})
                if not is_known(task, str(CandidateKey.of_stages(list(base.items())))):
                    request(base, f"baseline of stage {name} {sha[:7]}", (name,))
            request(combination({name: sha}), f"new commit in stage {name}", (name,))
    moved = [s.repository for s in pipeline if fresh[s.repository]]
    if len(moved) > 1:
        newest = {name: fresh[name][-1] for name in moved}
        request(combination(newest), f"new commits in stages {', '.join(moved)}", tuple(moved))

    def baseline_in_tick(shas: dict[str, str], mine: dict[str, Request]) -> Request | None:
        """The combination's baseline by the rule (stages last to first, that stage at its
        parent, the first registered) when it is one of this tick's requests."""
        for stage in reversed(pipeline):
            parents = gits[stage.repository].commit_info(shas[stage.repository]).parents
            if not parents:
                continue
            key = str(CandidateKey.of_stages(list({**shas, stage.repository: parents[0]}.items())))
            if key in mine:
                return mine[key]
            if is_known(task, key):
                return None
        return None

    # Baselines first: a first look at two stages' histories requests the features' commit
    # with the model's head before the model's parent combination, which is its baseline.
    mine = {r.key: r for r in plan.requests[first_new:]}
    ordered: list[Request] = []

    def place(item: Request, seen: frozenset[str]) -> None:
        if item in ordered or item.key in seen:
            return
        base = baseline_in_tick(item.stages, mine)
        if base is not None:
            place(base, seen | {item.key})
        ordered.append(item)

    for item in plan.requests[first_new:]:
        place(item, frozenset())
    plan.requests[first_new:] = ordered
    for stage in pipeline:
        name = stage.repository
        if fresh[name]:
            branch = project.repository(name).branches[0]
            plan.cursor[f"{name}:{branch}"] = fresh[name][-1]
