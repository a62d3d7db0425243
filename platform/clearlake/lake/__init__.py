"""The lake: date-partitioned Parquet copies of production that scientists read freely.

>>> from clearlake import lake
>>> lake.read("flights", "2013-01-01", "2013-01-07", columns=["dep_delay"])  # doctest: +SKIP
>>> lake.sql("select origin, avg(dep_delay) from flights group by 1")  # doctest: +SKIP
"""

from clearlake.lake.reader import available_tables, read, scan, sql

__all__ = ["available_tables", "read", "scan", "sql"]
