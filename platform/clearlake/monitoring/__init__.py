"""Watching a task's model after it ships: its newest days against a reference window.

Library only (no Dagster definitions): statistics, drift, decomposition, alert episodes,
storage and page rendering; the assets live in ``assets/monitoring``.
"""
