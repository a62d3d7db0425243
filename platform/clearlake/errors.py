"""One base exception for the project; subclasses carry the object at fault."""

from __future__ import annotations

import datetime as dt


class ClearlakeError(Exception):
    """Base of every error Clearlake raises on purpose; its message says what to do."""


class ConfigurationError(ClearlakeError):
    """A setting, configuration file or environment variable is wrong or missing."""


class UnknownTableError(ClearlakeError):
    def __init__(self, table: str, known: list[str]) -> None:
        self.table = table
        self.known = known
        super().__init__(
            f"Unknown lake table {table!r}. Known tables: {', '.join(sorted(known)) or '(none)'}."
        )


class InvalidDateError(ClearlakeError):
    def __init__(self, value: object, what: str = "date") -> None:
        self.value = value
        super().__init__(
            f"Malformed {what} {value!r}: use ISO format YYYY-MM-DD (for example 2024-01-31)."
        )


class SourceUnavailableError(ClearlakeError):
    """The production database cannot be reached or read."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(
            f"Cannot read the source database at {url}: {reason}. Check that it is running "
            "and that CLEARLAKE_SOURCE_URL points at it (run `clearlake sample-db build` "
            "for the embedded sample database)."
        )


class PartitionNotFoundError(ClearlakeError):
    def __init__(self, table: str, partition: str) -> None:
        self.table = table
        self.partition = partition
        super().__init__(
            f"Lake table {table!r} has no partition {partition!r}: materialise it first "
            f"(clearlake lake replicate {table} --start {partition})."
        )


class EmptyTableError(ClearlakeError):
    """A lake table that has never been written: no partition, nothing to read."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(
            f"Lake table {table!r} has no partitions yet: replicate it first "
            f"(clearlake lake replicate {table})."
        )


class SchemaDriftError(ClearlakeError):
    """The data does not match a table's declared schema."""

    def __init__(self, table: str, partition: str | None, problems: list[str]) -> None:
        self.table = table
        self.partition = partition
        self.problems = problems
        where = f"{table}[{partition}]" if partition else table
        super().__init__(f"Schema drift in {where}: " + "; ".join(problems))


class DropZoneError(ClearlakeError):
    """A drop zone or a dropped file is unusable."""


class PartitionRangeError(ClearlakeError):
    """Days asked of a table outside its declared partitions."""

    def __init__(
        self, table: str, first: dt.date, last: dt.date, valid: tuple[dt.date, dt.date | None]
    ) -> None:
        self.table, self.first, self.last, self.valid = table, first, last, valid
        upto = valid[1].isoformat() if valid[1] else "its newest day"
        super().__init__(
            f"{table} has daily partitions from {valid[0]} to {upto}: {first}..{last} is "
            f"outside them; choose days within {valid[0]}..{upto}."
        )


class DayNotInSourceError(ClearlakeError):
    """A day asked of a daily table that its source has not reached yet."""

    def __init__(self, table: str, day: dt.date, newest: dt.date | None) -> None:
        self.table, self.day, self.newest = table, day, newest
        has = f"its newest day is {newest}" if newest else "it has no rows yet"
        upto = f" or replicate up to {newest}" if newest else ""
        super().__init__(
            f"{table}: the source has not reached {day} ({has}); nothing was written: "
            f"wait for the day{upto}."
        )


class LakeUnavailableError(ClearlakeError):
    """The lake's object store cannot be reached, or refuses the request."""

    def __init__(self, url: str, reason: str, fix: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Cannot use the lake at {url} on S3: {reason}. {fix}")


class LakeRecordError(ClearlakeError):
    """A JSON record in the lake (:mod:`clearlake.lake.json_records`) cannot be read."""

    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        super().__init__(
            f"{uri}: {reason}; Clearlake did not write it so: delete it and re-run the step "
            "that writes it."
        )
