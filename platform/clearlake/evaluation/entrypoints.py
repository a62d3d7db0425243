"""Does a registered repository's ``entrypoint`` exist at its branch head, and honour the
algorithm contract (a pipeline's transform stage: ``transform``)? Asked by ``clearlake config
check`` so that a typo in ``module:Class`` is one line there, not a failure of every commit
evaluated afterwards.

The class is imported in a child process, from the head's tree (the same extraction the
runner uses), so a repository's imports never run inside the CLI's own process.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from clearlake.errors import ClearlakeError
from clearlake.evaluation.git import git_repository
from clearlake.project.load import Project
from clearlake.settings import Settings

IMPORT_TIMEOUT = 120.0

_PROBE = """
import importlib, inspect, sys
module_name, _, class_name = sys.argv[1].partition(":")
sys.path.insert(0, sys.argv[2])
try:
    module = importlib.import_module(module_name)
except Exception as exc:
    print(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}")
    raise SystemExit(1)
cls = getattr(module, class_name, None)
if cls is None:
    print(f"module {module_name!r} has no {class_name!r}")
    raise SystemExit(1)
methods = sys.argv[3].split(",")
missing = [m for m in methods if not callable(getattr(cls, m, None))]
if not inspect.isclass(cls) or missing:
    stage = methods == ["transform"]
    kind = "a transform stage" if stage else "an algorithm"
    shape = ("transform(frame) (and optionally fit(train[, seed]))" if stage
             else "fit(train[, seed]) and predict(frame)")
    print(f"{class_name} is not {kind} class: it lacks {', '.join(missing) or 'a class'}"
          f" ({shape})")
    raise SystemExit(1)
"""


@dataclass(frozen=True)
class EntrypointCheck:
    repository: str
    entrypoint: str
    commit: str | None
    problem: str | None
    """None: importable and shaped like the contract."""
    reachable: bool = True
    """False: the repository could not be read (a warning, not a configuration error)."""


def required_methods(project: Project, name: str) -> list[str]:
    """``transform`` for a repository that is only ever a transform stage of pipelines;
    ``fit`` and ``predict`` for a model (a registered repository or a pipeline's last
    stage)."""
    stages = [
        (i, len(task.pipeline))
        for task in project.config.tasks.values()
        if task.pipeline
        for i, stage in enumerate(task.pipeline)
        if stage.repository == name
    ]
    if stages and all(i < length - 1 for i, length in stages):
        return ["transform"]
    return ["fit", "predict"]


def check_entrypoint(project: Project, name: str, settings: Settings) -> EntrypointCheck:
    """Import ``name``'s entrypoint from the head of its first watched branch."""
    config = project.repository(name)
    repo = git_repository(project, name, settings)
    try:
        repo.refresh()
        branch = config.branches[0]
        head = repo.branch_head(branch)
        if head is None:
            return EntrypointCheck(
                name, config.entrypoint, None, f"branch {branch!r} does not exist", False
            )
        tree = repo.checkout(head)
    except ClearlakeError as exc:
        return EntrypointCheck(name, config.entrypoint, None, str(exc), reachable=False)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _PROBE,
                config.entrypoint,
                str(tree),
                ",".join(required_methods(project, name)),
            ],
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT,
            cwd=tree,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return EntrypointCheck(
            name, config.entrypoint, head, f"importing it took over {IMPORT_TIMEOUT:.0f} s"
        )
    if done.returncode == 0:
        return EntrypointCheck(name, config.entrypoint, head, None)
    lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or ["failed"]
    return EntrypointCheck(name, config.entrypoint, head, " ".join(lines[-1].split()))
