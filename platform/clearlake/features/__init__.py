"""Feature tables: declared SQL or toolbox functions over the lake, one partition a day."""

from clearlake.features.inputs import FeatureInputs

__all__ = ["FeatureInputs"]
