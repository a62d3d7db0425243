"""The root of Clearlake's Dagster definitions.

Each domain folder (lake, features, evaluation, reports) registers its own objects: every
module of a domain that has something to register defines one ``@dg.definitions``
function named ``defs``. The folders are walked automatically, so a new file registers
itself. This module adds what cuts across them: the resources and executor of the
environment chosen by ``clearlake.settings``.

Why not ``dg.load_from_defs_folder``: it builds Dagster's component tree on every load
(~0.1 s per domain), and a run loads the definitions several times — the report benchmark
measured 1.8 s of overhead. Calling each module's ``defs`` is the same convention,
through public API only.
"""

import importlib
import pkgutil
import warnings

import dagster as dg

import assets
from clearlake.orchestration.environment import executor_for, resources_for
from clearlake.settings import load_settings

DEFS = "defs"
"""The name of the ``@dg.definitions`` function a domain module registers its objects with."""


def load_domain(name: str) -> dg.Definitions:
    """Every domain module's ``defs()``, merged."""
    package = importlib.import_module(f"assets.{name}")
    found = []
    for info in sorted(
        pkgutil.walk_packages(package.__path__, f"{package.__name__}."), key=lambda m: m.name
    ):
        registered = getattr(importlib.import_module(info.name), DEFS, None)
        if registered is None:
            continue
        loaded = registered()
        if not isinstance(loaded, dg.Definitions):
            raise TypeError(
                f"{info.name}.{DEFS} must be a @dg.definitions function returning "
                f"dg.Definitions, not {type(loaded).__name__}"
            )
        found.append(loaded)
    return dg.Definitions.merge(*found)


def domain_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(assets.__path__) if m.ispkg)


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    with warnings.catch_warnings():
        # Known, deliberate Beta features (single-run backfills).
        warnings.simplefilter("ignore", dg.BetaWarning)
        domains = [load_domain(name) for name in domain_names()]
    return dg.Definitions.merge(
        *domains,
        dg.Definitions(resources=resources_for(settings), executor=executor_for(settings)),
    )
