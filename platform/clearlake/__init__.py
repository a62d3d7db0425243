"""Clearlake: continuous evaluation for data-science teams, on Dagster.

The library (engineering-owned toolbox). Dagster definitions live in the top-level
``assets`` package; nothing here builds a ``Definitions`` object.
"""

__version__ = "0.1.0"
