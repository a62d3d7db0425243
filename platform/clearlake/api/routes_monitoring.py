"""``GET /v1/monitors/{task}``: a task's monitor — its watched model, alert episodes, status.

The same bearer token as every data endpoint, and the same grant as the task's reports: a
monitor's per-subgroup metrics are rows of the task's dataset, so a principal needs every
lake table that dataset is computed from.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from clearlake.api.access import require_task_grant
from clearlake.api.deps import ConfigDep, PrincipalDep
from clearlake.api.errors import NotFoundError
from clearlake.api.models import ErrorBody
from clearlake.api.request_audit import audit_of
from clearlake.monitoring import storage

router = APIRouter(tags=["monitoring"])


@router.get(
    "/v1/monitors/{task}",
    responses={
        400: {"model": ErrorBody, "description": "Not a task name."},
        401: {"model": ErrorBody, "description": "Token required."},
        403: {"model": ErrorBody, "description": "The task's dataset is not granted to you."},
        404: {"model": ErrorBody, "description": "No such task, or no monitor status yet."},
    },
)
def monitor_status(
    request: Request,
    config: ConfigDep,
    principal: PrincipalDep,
    task: Annotated[str, Path(pattern=r"^[a-z_][a-z0-9_]*$")],
) -> dict[str, Any]:
    """The task's alert state (every episode, open or resolved, and what was delivered)
    and its last status (windows against the reference, per-day scores, drift)."""
    record = audit_of(request)
    record.action, record.dataset = "monitor", f"monitor/{task}"
    if config.reports.tasks.get(task) is None:
        raise NotFoundError(f"No task {task!r} in the project: see `tasks:` in clearlake.yaml.")
    require_task_grant(config, principal, task, f"The monitor of task {task!r} is")
    status = storage.load_status(config.store, task)
    if status is None:
        raise NotFoundError(
            f"Task {task!r} has no monitor status yet: declare `monitor:` for it and let "
            f"monitor/{task}/status materialise."
        )
    state = storage.load_state(config.store, task)
    return {"task": task, "alerts": state.to_json(), "status": status}
