"""The Dagster wiring of the library: resources, IO managers, partitions, automation,
in-process runs, the code location, lineage queries and the run sweep.

The domain packages (``lake``, ``features``, ``evaluation``, ``monitoring``, ``reports``)
hold plain Python; this package connects them to Dagster, and the definitions (``assets/``)
and applications (``cli``, ``api``, ``demo``) sit above it.
"""
