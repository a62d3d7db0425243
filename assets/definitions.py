"""The root of Clearlake's Dagster definitions.

Each domain folder (lake, features, evaluation, reports) registers its own objects with
``@dg.definitions``; the folders are found and loaded automatically. This module adds
what cuts across them: the resources and executor of the environment chosen by
``clearlake.settings``.
"""

import importlib
import pkgutil
import warnings

import dagster as dg

import assets
from clearlake.resources import executor_for, resources_for
from clearlake.settings import load_settings


def load_domain(name: str) -> dg.Definitions:
    """Autoload one domain folder.

    ``load_defs`` attaches a component tree to what it returns and Dagster refuses to
    merge two of them, so the domain's objects are re-wrapped without it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = dg.load_defs(importlib.import_module(f"assets.{name}"))
    return dg.Definitions(
        assets=loaded.assets,
        asset_checks=loaded.asset_checks,
        jobs=loaded.jobs,
        sensors=loaded.sensors,
        schedules=loaded.schedules,
        resources=loaded.resources,
    )


def domain_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(assets.__path__) if m.ispkg)


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions.merge(
        *(load_domain(name) for name in domain_names()),
        dg.Definitions(resources=resources_for(settings), executor=executor_for(settings)),
    )
