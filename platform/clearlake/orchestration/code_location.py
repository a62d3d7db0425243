"""The code location the workspace declares, loaded as Dagster loads it.

The command line and the demo are clients of the code location, like ``dagster dev``:
they find its module in ``workspace.yaml`` and call its ``defs``. So they depend on the
workspace, not on the ``assets`` package (the library never imports the definitions).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import dagster as dg
import yaml

from clearlake.errors import ConfigurationError
from clearlake.settings import PROJECT_ROOT

WORKSPACE = PROJECT_ROOT / "workspace.yaml"


def location_module(workspace: Path = WORKSPACE) -> str:
    """The ``python_module`` of the workspace's single code location."""
    try:
        raw = yaml.safe_load(workspace.read_text())
        (entry,) = raw["load_from"]
        module = entry["python_module"]
        return str(module["module_name"] if isinstance(module, dict) else module)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{workspace} must declare one python_module code location ({exc})."
        ) from None


def load_definitions(workspace: Path = WORKSPACE) -> dg.Definitions:
    """The code location's Definitions (its ``defs``, called when it is a function), for runs
    in this process: report assets run through papermill, since dagstermill refuses a job
    that is not reconstructable (:mod:`clearlake.reports.engine`)."""
    from clearlake.reports.engine import papermill_in_process

    name = location_module(workspace)
    found = getattr(importlib.import_module(name), "defs", None)
    with papermill_in_process():
        loaded = found() if callable(found) else found
    if not isinstance(loaded, dg.Definitions):
        raise ConfigurationError(f"{name}.defs is not a dg.Definitions (nor returns one).")
    return loaded
