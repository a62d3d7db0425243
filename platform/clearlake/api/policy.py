"""The access policy: which roles read which datasets, and what they see of each column.

Every column has a class (``public``, ``internal``, ``restricted``, … as the policy
declares); a role maps each class to an access: ``allow`` (values as stored), ``hash``
(keyed hash: joinable, not readable), ``mask`` (values hidden) or ``deny`` (column
refused). A class a role does not mention is denied, and a dataset a role does not list
is refused: forgetting something never opens access.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearlake.api.errors import ConfigFileError
from clearlake.api.yaml_source import YamlSource
from clearlake.lake.tables import LAKE_TABLES

Access = Literal["allow", "hash", "mask", "deny"]
ACCESS_RANK: dict[str, int] = {"deny": 0, "mask": 1, "hash": 2, "allow": 3}
"""More permissive is higher; a principal with several roles gets the highest grant."""

NAME = r"^[a-z][a-z0-9_-]{0,62}$"
DATASET = r"^(\*|[A-Za-z0-9_][A-Za-z0-9_-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)?)$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetRules(_Strict):
    description: str | None = Field(None, description="Shown in the dataset listing.")
    default_class: str | None = Field(None, description="Class of columns not listed.")
    columns: dict[str, str] = Field(default_factory=dict, description="column -> class")


class RoleRules(_Strict):
    description: str | None = None
    datasets: list[str] = Field(min_length=1, description="Lake table names, or '*'.")
    classes: dict[str, Access] = Field(description="class -> allow | hash | mask | deny")


class Limits(_Strict):
    max_days: int = Field(default=366, ge=1, le=100_000, description="Longest partition range.")
    max_rows: int = Field(
        default=10_000_000, ge=1, description="Largest row limit a request may ask."
    )
    max_filters: int = Field(default=16, ge=0, le=1000)


class PolicyFile(_Strict):
    """Schema of the policy file (see the README's 'Policy file')."""

    version: Literal[1]
    classes: list[str] = Field(min_length=1)
    default_class: str
    reports: Literal["public", "authenticated"] = "authenticated"
    limits: Limits = Field(default_factory=lambda: Limits())
    datasets: dict[str, DatasetRules] = Field(default_factory=dict)
    roles: dict[str, RoleRules] = Field(min_length=1)


@dataclass(frozen=True)
class ColumnGrant:
    name: str
    column_class: str
    access: Access


class AccessPolicy:
    """Decisions of one validated policy file."""

    def __init__(self, rules: PolicyFile, *, source: str = "<policy>") -> None:
        self.rules = rules
        self.source = source
        self.limits = rules.limits

    @property
    def roles(self) -> set[str]:
        return set(self.rules.roles)

    def may_read(self, roles: Iterable[str], dataset: str) -> bool:
        return any(self._role_reads(role, dataset) for role in roles)

    def description(self, dataset: str) -> str | None:
        rules = self.rules.datasets.get(dataset)
        return rules.description if rules else None

    def column_class(self, dataset: str, column: str) -> str:
        rules = self.rules.datasets.get(dataset)
        if rules is None:
            return self.rules.default_class
        return rules.columns.get(column, rules.default_class or self.rules.default_class)

    def grant(self, roles: Iterable[str], dataset: str, column: str) -> ColumnGrant:
        """What the principal's roles give of ``column`` (best grant among the roles)."""
        column_class = self.column_class(dataset, column)
        best: Access = "deny"
        for role in roles:
            if self._role_reads(role, dataset):
                access = self.rules.roles[role].classes.get(column_class, "deny")
                if ACCESS_RANK[access] > ACCESS_RANK[best]:
                    best = access
        return ColumnGrant(column, column_class, best)

    def _role_reads(self, role: str, dataset: str) -> bool:
        rules = self.rules.roles.get(role)
        return rules is not None and ("*" in rules.datasets or dataset in rules.datasets)


def load_policy(path: Path) -> AccessPolicy:
    """Read and validate a policy file; any problem raises ConfigFileError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(
            str(path),
            None,
            f"cannot read the policy file ({exc.strerror}); set "
            "CLEARLAKE_API_POLICY to an existing file",
        ) from None
    except UnicodeDecodeError:
        raise ConfigFileError(
            str(path), None, "not a text file (not UTF-8): a policy is a YAML file"
        ) from None
    return parse_policy(text, name=str(path))


def parse_policy(text: str, *, name: str = "<policy>") -> AccessPolicy:
    source = YamlSource(text, name=name)
    rules = source.validate(PolicyFile)
    _check_references(rules, source)
    return AccessPolicy(rules, source=name)


def _check_references(rules: PolicyFile, source: YamlSource) -> None:
    """Names that refer to something must refer to something that exists."""
    classes = set(rules.classes)
    for index, name in enumerate(rules.classes):
        if not re.match(NAME, name):
            raise source.error(["classes", index], f"class name {name!r} must match {NAME}")
    if len(classes) != len(rules.classes):
        raise source.error(["classes"], "class names must be unique")

    def known_class(location: list[str | int], value: str) -> None:
        if value not in classes:
            raise source.error(
                location, f"unknown class {value!r}: declared classes are {sorted(classes)}"
            )

    known_class(["default_class"], rules.default_class)
    for dataset, dataset_rules in rules.datasets.items():
        if dataset == "*" or not re.match(DATASET, dataset):
            raise source.error(["datasets", dataset], f"{dataset!r} is not a dataset name")
        if dataset_rules.default_class is not None:
            known_class(["datasets", dataset, "default_class"], dataset_rules.default_class)
        declared = LAKE_TABLES.get(dataset)
        for column, column_class in dataset_rules.columns.items():
            where: list[str | int] = ["datasets", dataset, "columns", column]
            known_class(where, column_class)
            if declared is not None and column not in declared.schema.names:
                raise source.error(
                    where,
                    f"dataset {dataset!r} has no column {column!r} (columns: "
                    f"{', '.join(declared.schema.names)})",
                )
    for role, role_rules in rules.roles.items():
        if not re.match(NAME, role):
            raise source.error(["roles", role], f"role name {role!r} must match {NAME}")
        for index, dataset in enumerate(role_rules.datasets):
            if not re.match(DATASET, dataset):
                raise source.error(
                    ["roles", role, "datasets", index], f"{dataset!r} is not a dataset name"
                )
        for column_class in role_rules.classes:
            known_class(["roles", role, "classes", column_class], column_class)
