"""Compatibility for callers written before feature tables were declared: prefer
``assets.features.feature_tables.feature_asset(project, name)``. Registers nothing."""

import dagster as dg

from assets.features.feature_tables import feature_asset
from clearlake.project.load import current_project
from clearlake.settings import load_settings


def flight_features_asset() -> dg.AssetsDefinition:
    return feature_asset(current_project(load_settings()), "flight_features")
