"""The lake: date-partitioned Parquet copies of production that scientists read freely.

>>> from clearlake import lake
>>> lake.read("orders", "2024-03-01", "2024-03-07", columns=["amount"])  # doctest: +SKIP
>>> lake.sql("select region, avg(amount) from orders group by 1")  # doctest: +SKIP
"""

from clearlake.lake.reader import available_tables, read, scan, sql

__all__ = ["available_tables", "read", "scan", "sql"]
