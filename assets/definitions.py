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
from dagster.components.definitions import LazyDefinitions

import assets
from clearlake.resources import executor_for, resources_for
from clearlake.settings import load_settings


def load_domain(name: str) -> dg.Definitions:
    """Every ``@dg.definitions`` function in the modules of one domain folder, merged.

    Found by walking the folder, so a new file registers itself. (``dg.load_defs`` does
    the same through Dagster's component machinery at ~0.1 s per domain on every load,
    and a run loads the definitions several times: the report benchmark measured 1.8 s.)
    """
    package = importlib.import_module(f"assets.{name}")
    found = []
    for info in sorted(
        pkgutil.walk_packages(package.__path__, f"{package.__name__}."), key=lambda m: m.name
    ):
        module = importlib.import_module(info.name)
        own = [
            value
            for value in list(vars(module).values())
            if isinstance(value, LazyDefinitions) and value.load_fn.__module__ == info.name
        ]
        found += [value() for value in own]
    return dg.Definitions.merge(*found)


def domain_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(assets.__path__) if m.ispkg)


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    with warnings.catch_warnings():
        # Known, deliberate Beta features (single-run backfills, dagstermill assets).
        warnings.simplefilter("ignore", dg.BetaWarning)
        domains = [load_domain(name) for name in domain_names()]
    return dg.Definitions.merge(
        *domains,
        dg.Definitions(resources=resources_for(settings), executor=executor_for(settings)),
    )
