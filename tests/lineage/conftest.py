"""Fixtures of the lineage tests (the history itself lives in ``lineage_history``)."""

from lineage_history import _history_variables, history

__all__ = ["_history_variables", "history"]
