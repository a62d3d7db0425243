"""The lake: production tables replicated as Parquet, and drop-zone ingests."""
