"""``GET /v1/compare?a=…&b=…``: two candidates of a task compared on identical rows.

The same bearer token as every data endpoint, and the same grant as the task's reports: the
deltas per subgroup and the flip table (rows with their feature values) are rows of the
task's dataset, so a principal needs every lake table that dataset is computed from. The
Data API has no Dagster instance: the provenance part is what the lake records (commits,
parameters); `clearlake compare` and the gallery's compare page add the event log's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from clearlake import names
from clearlake.api.access import require_task_grant, task_refusals
from clearlake.api.deps import ConfigDep, PrincipalDep
from clearlake.api.errors import NotFoundError, ServiceUnavailableError
from clearlake.api.models import ErrorBody
from clearlake.api.request_audit import audit_of
from clearlake.evaluation.compare import (
    ResultPaths,
    UnknownCandidateError,
    compare_candidates,
    resolve_pair,
)

router = APIRouter(tags=["reports"])
NAME = r"^[A-Za-z0-9@~+._-]{4,400}$"
"""A key, sha or prefix; ``+`` joins the stages of a pipeline's combination."""


def _paths(task: str) -> ResultPaths:
    return ResultPaths(names.predictions_key(task).path, names.comparison_key(task).path)


@router.get(
    "/v1/compare",
    responses={
        400: {"model": ErrorBody, "description": "A malformed or ambiguous candidate name."},
        401: {"model": ErrorBody, "description": "Token required."},
        403: {"model": ErrorBody, "description": "The task's dataset is not granted to you."},
        404: {"model": ErrorBody, "description": "No such task or candidate."},
    },
)
def compare(
    request: Request,
    config: ConfigDep,
    principal: PrincipalDep,
    a: Annotated[str, Query(pattern=NAME, description="Baseline side: key, sha or prefix.")],
    b: Annotated[str, Query(pattern=NAME, description="The other candidate.")],
    task: Annotated[str | None, Query(pattern=r"^[a-z_][a-z0-9_]*$")] = None,
    flip_rows: Annotated[int, Query(ge=0, le=500)] = 20,
) -> dict[str, Any]:
    """Metric and subgroup deltas (B − A) with intervals and verdicts, both commits (each
    stage's, and which stage changed, for a pipeline's combinations), the parameter diff,
    the files changed, the provenance the lake records, the rows whose error changed most
    and the slices that regressed most (JSON)."""
    record = audit_of(request)
    record.action, record.dataset = "compare", f"compare/{task or '*'}"
    if config.project is None or config.settings is None:
        raise ServiceUnavailableError("This service was started without a project to compare.")
    tasks = sorted(config.project.config.tasks)
    if task is not None and task not in tasks:
        raise NotFoundError(f"No task {task!r} in the project: see `tasks:` in clearlake.yaml.")
    if task is not None:
        require_task_grant(config, principal, task, f"Comparisons of task {task!r} are")
    readable = [task] if task else [t for t in tasks if not task_refusals(config, principal, t)]
    if not readable:  # never say which candidates a refused task has
        if tasks:
            first = tasks[0]
            require_task_grant(config, principal, first, f"Comparisons of task {first!r} are")
        raise NotFoundError("The project declares no task.")
    try:
        found, key_a, key_b = resolve_pair(config.store, (a, b), {t: _paths(t) for t in readable})
    except UnknownCandidateError as exc:
        raise NotFoundError(str(exc)) from None
    record.dataset = f"compare/{found}"
    result = compare_candidates(
        project=config.project,
        settings=config.settings,
        store=config.store,
        task_name=found,
        a=key_a,
        b=key_b,
        paths=_paths(found),
        flip_rows=flip_rows,
    )
    return result.to_json()
