"""The evaluation domain's definitions for a real dagster-webserver started by a test."""

import dagster as dg
from evaluation_env import domain_definitions

from clearlake.evaluation.config import load_config
from clearlake.settings import load_settings


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    return domain_definitions(load_config(settings.config_path), settings)
