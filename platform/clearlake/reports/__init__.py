"""The notebook engine: report templates filled per lake day, per candidate or once.

Read in this order: :mod:`~clearlake.reports.templates` (what a template declares: scope
and parameters), :mod:`~clearlake.reports.execute` (papermill, stable paths, records),
:mod:`~clearlake.reports.render` (notebook files and HTML pages),
:mod:`~clearlake.reports.gallery` (the index). Templates call the toolbox
(:mod:`~clearlake.reports.notebook`, :mod:`~clearlake.reports.candidate`,
:mod:`~clearlake.reports.lake_health`); :mod:`~clearlake.reports.pending` decides which
blocked candidates still need a report. The Dagster assets are made in ``assets/reports``.
"""
