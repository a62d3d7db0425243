"""Report templates: notebooks filled per partition by Dagster, rendered, indexed.

Imports nothing on purpose: ``clearlake.reports.kernel`` runs inside notebook kernels,
where importing Dagster for nothing would cost seconds per report.
"""
