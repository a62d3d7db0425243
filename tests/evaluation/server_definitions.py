"""The evaluation domain's definitions for a real dagster-webserver started by a test."""

import dagster as dg
from evaluation_env import domain_definitions

from clearlake.project.load import current_project
from clearlake.settings import load_settings


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return domain_definitions(current_project(settings), settings)
