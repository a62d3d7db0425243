"""Deployment support: typed Helm values (the source of the chart's values.schema.json)
and the Dagster instance configuration the cluster deployment produces.

Nothing here talks to a cluster; it is pure data, validated the same way in CI and at
``helm install`` time. A tool package beside ``clearlake``: not in the wheel, not in the
image (.dockerignore), used by the tests and to generate ``values.schema.json``.
"""
