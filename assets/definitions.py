"""The root of Clearlake's Dagster definitions.

Each domain folder (lake, features, evaluation, reports) registers its own objects with
``@dg.definitions``; they are found automatically. This module adds what cuts across
them: the resources of the environment chosen by ``clearlake.settings``.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import assets
from clearlake.resources import resources_for
from clearlake.settings import load_settings


def domain_definitions() -> list[dg.Definitions]:
    domains = sorted(m.name for m in pkgutil.iter_modules(assets.__path__) if m.ispkg)
    return [dg.load_defs(importlib.import_module(f"assets.{name}")) for name in domains]


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions.merge(
        *domain_definitions(), dg.Definitions(resources=resources_for(settings))
    )
