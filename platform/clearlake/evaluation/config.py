"""The Clearlake configuration file (``assets/clearlake.yaml``, or ``CLEARLAKE_CONFIG``).

It declares what continuous evaluation works on: the evaluation suites (pinned date
windows of features), the task and its metrics, the registered algorithm repositories
and the resource profiles experiments may request. Typed models with ``extra="forbid"``
turn a typo into an error that names the field, instead of a silently ignored key.
Top-level sections other than these are allowed (other parts of Clearlake may add theirs).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clearlake.errors import ConfigurationError
from clearlake.evaluation.errors import UnknownRepositoryError
from clearlake.settings import Settings

NAME = r"^[a-z0-9][a-z0-9_.-]*$"
"""Repository and suite names become parts of partition keys and paths: no '/', '@', '~'."""
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuiteConfig(_Model):
    """A pinned window of feature rows: a regression dataset with a version."""

    start: dt.date
    end: dt.date
    role: Literal["train", "test", "slice"] = "slice"
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> SuiteConfig:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class BootstrapConfig(_Model):
    samples: int = Field(default=200, ge=50, le=5000)
    seed: int = 2013
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


class EvaluationConfig(_Model):
    """The task (regression of ``target``), its metrics and how verdicts are decided."""

    target: str = "arr_delay"
    train_suite: str = "train"
    test_suite: str = "holdout"
    metrics: list[Literal["mae", "rmse", "bias"]] = ["mae", "rmse"]
    primary_metric: Literal["mae", "rmse", "bias"] = "mae"
    subgroups: list[Literal["carrier", "origin", "month"]] = ["carrier", "origin", "month"]
    min_subgroup_rows: int = Field(default=100, ge=10)
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    min_relative_effect: float = Field(default=0.01, ge=0.0)
    """A delta smaller than this fraction of the baseline value is never a verdict."""
    candidate_timeout_seconds: float = Field(default=600, gt=0)
    candidate_threads: int = Field(default=1, ge=1)
    """Threads a candidate's numeric libraries may use (OMP/BLAS), unless the env sets them."""
    baseline_wait_seconds: float = Field(default=900, ge=0)


class BaselineConfig(_Model):
    """Which algorithm version a candidate is compared with."""

    policy: Literal["parent", "branch", "champion"] = "parent"
    branch: str | None = None
    commit: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> BaselineConfig:
        if self.policy == "branch" and not self.branch:
            raise ValueError("baseline policy 'branch' needs `branch: <name>`")
        if self.policy == "champion" and not self.commit:
            raise ValueError("baseline policy 'champion' needs `commit: <sha>`")
        return self


class RepositoryConfig(_Model):
    """An algorithm repository whose commits are evaluated automatically."""

    name: str = Field(pattern=NAME)
    location: str
    """A local path or a git URL; ``{home}`` is replaced by CLEARLAKE_HOME."""
    branches: list[str] = ["main"]
    entrypoint: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    """``module:Class`` inside the repository, implementing ``clearlake.evaluation.Algorithm``."""
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    initial_history: int = Field(default=20, ge=1)
    """How many of a branch's latest commits are evaluated when it is first seen."""
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Overrides ``evaluation.candidate_timeout_seconds`` for this repository."""

    def resolved_location(self, settings: Settings) -> str:
        return self.location.replace("{home}", str(settings.home))

    def is_remote(self, settings: Settings) -> bool:
        location = self.resolved_location(settings)
        return "://" in location or re.match(r"^[\w.-]+@[\w.-]+:", location) is not None


class Quantity(_Model):
    request: str
    limit: str

    @field_validator("request", "limit")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if not QUANTITY.match(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)")
        return value


class ResourceProfile(_Model):
    """CPU/memory requests and limits and GPU count an experiment may ask for by name."""

    description: str = ""
    cpu: Quantity
    memory: Quantity
    gpu: int = Field(default=0, ge=0)


class ClearlakeConfig(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    suites: dict[str, SuiteConfig]
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    repositories: list[RepositoryConfig] = []
    profiles: dict[str, ResourceProfile] = {}

    @model_validator(mode="after")
    def _consistent(self) -> ClearlakeConfig:
        for name in self.suites:
            if not re.match(NAME, name):
                raise ValueError(f"suite name {name!r} must match {NAME}")
        for role in ("train_suite", "test_suite"):
            suite = getattr(self.evaluation, role)
            if suite not in self.suites:
                raise ValueError(f"evaluation.{role} {suite!r} is not a declared suite")
        if self.evaluation.primary_metric not in self.evaluation.metrics:
            raise ValueError("evaluation.primary_metric must be one of evaluation.metrics")
        names = [r.name for r in self.repositories]
        if len(set(names)) != len(names):
            raise ValueError(f"repository names must be unique: {names}")
        return self

    def repository(self, name: str) -> RepositoryConfig:
        for repo in self.repositories:
            if repo.name == name:
                return repo
        raise UnknownRepositoryError(name, [r.name for r in self.repositories])

    @property
    def train_suite(self) -> SuiteConfig:
        return self.suites[self.evaluation.train_suite]

    @property
    def test_suite(self) -> SuiteConfig:
        return self.suites[self.evaluation.test_suite]

    def feature_window(self) -> tuple[dt.date, dt.date]:
        """The days of features every suite together needs."""
        return min(s.start for s in self.suites.values()), max(s.end for s in self.suites.values())


def parse_config(raw: object, *, source: str = "configuration") -> ClearlakeConfig:
    try:
        return ClearlakeConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid Clearlake configuration {source}: {problems}") from None


def load_config(path: Path) -> ClearlakeConfig:
    """Read and validate the configuration file; errors name the file and the field."""
    if not path.is_file():
        raise ConfigurationError(
            f"Clearlake configuration {path} does not exist: set CLEARLAKE_CONFIG to a file "
            "(assets/clearlake.yaml is the default)."
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"Clearlake configuration {path} is not valid YAML: {exc}"
        ) from None
    return parse_config(raw, source=str(path))
