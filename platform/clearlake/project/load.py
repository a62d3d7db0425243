"""Loading a project: parse, validate each section, then check what spans sections.

A :class:`Project` is the validated configuration plus the folder it came from (SQL files,
toolbox modules and templates are relative to it). Every error is one
:class:`~clearlake.errors.ConfigurationError` naming the file, the key path and, where it
helps, what is available ("tasks.returns.target: 'returnd' is not a column of feature
table order_features (columns: …)").
"""

from __future__ import annotations

import copy as copy_module
import datetime as dt
import functools
import importlib
import posixpath
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml
from pydantic import ValidationError

from clearlake.errors import ConfigurationError
from clearlake.project.arrow_types import is_temporal
from clearlake.project.builtin_metrics import builtin_metric_problem
from clearlake.project.config import (
    FeatureConfig,
    MonitorConfig,
    ProjectConfig,
    ProjectInfo,
    ReportsConfig,
    RepositoryConfig,
    SourceConfig,
    TaskConfig,
    arrow_schema,
)
from clearlake.settings import Settings

CONFIG_FILE = "clearlake.yaml"


class ProjectError(ConfigurationError):
    """The project's configuration is invalid; ``path`` and ``key`` locate the problem."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{key}: " if key else ""
        super().__init__(f"Invalid Clearlake configuration {path}: {where}{problem}")


@dataclass(frozen=True, eq=False)
class Project:
    """A validated project: its configuration and the folder its relative paths start from."""

    path: Path
    config: ProjectConfig
    _objects: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str:
        return self.config.project.name

    def resolve(self, relative: str) -> Path:
        return (self.root / relative).resolve()

    @property
    def templates_dir(self) -> Path:
        return self.resolve(self.config.reports.templates)

    @property
    def api_policy(self) -> Path | None:
        policy = self.config.api.policy
        return self.resolve(policy) if policy else None

    # -- sections -----------------------------------------------------------------------

    def source(self, name: str) -> SourceConfig:
        return _get(self.config.sources, name, "lake source", self.path)

    def feature(self, name: str) -> FeatureConfig:
        return _get(self.config.features, name, "feature table", self.path)

    def task(self, name: str) -> TaskConfig:
        return _get(self.config.tasks, name, "task", self.path)

    def repository(self, name: str) -> RepositoryConfig:
        for repo in self.config.repositories:
            if repo.name == name:
                return repo
        known = ", ".join(r.name for r in self.config.repositories) or "(none)"
        raise ConfigurationError(
            f"Unknown repository {name!r}: {self.path} registers {known}. Add it under "
            "`repositories:`."
        )

    def task_of(self, repository: str) -> str:
        """The task a repository's commits are evaluated on: its own ``task``, else the
        pipeline whose model stage it is, else the first pipeline naming it as a stage,
        else the project's only task."""
        repo = self.repository(repository)
        if repo.task is not None:
            return repo.task
        tasks = self.pipelines_of(repository)
        for task in tasks:
            model = self.config.tasks[task].model_stage
            if model is not None and model.repository == repository:
                return task
        return tasks[0] if tasks else next(iter(self.config.tasks))

    def pipelines_of(self, repository: str) -> list[str]:
        """The tasks whose pipeline names ``repository`` as a stage (declaration order)."""
        return [
            name
            for name, task in self.config.tasks.items()
            if any(stage.repository == repository for stage in task.pipeline or ())
        ]

    def repositories_of(self, task: str) -> list[RepositoryConfig]:
        """The repositories whose commits make the task's candidates: its pipeline's stages
        in order, or the repositories registered to it."""
        pipeline = self.config.tasks[task].pipeline if task in self.config.tasks else None
        if pipeline:
            return [self.repository(stage.repository) for stage in pipeline]
        return [
            r
            for r in self.config.repositories
            if not self.pipelines_of(r.name) and self.task_of(r.name) == task
        ]

    def feature_schema(self, name: str) -> pa.Schema:
        return arrow_schema(self.feature(name).columns)

    def source_schema(self, name: str) -> pa.Schema:
        return arrow_schema(self.source(name).columns)

    def feature_inputs(self, name: str) -> list[str]:
        """The lake tables a feature table reads (declared, or named by its SQL)."""
        feature = self.feature(name)
        if feature.inputs:
            return list(feature.inputs)
        assert feature.sql is not None
        return sql_tables(self.resolve(feature.sql).read_text())

    def location(self, repository: RepositoryConfig, home: Path) -> str:
        """A repository's location with ``{home}`` and ``{project}`` filled in."""
        return repository.location.replace("{home}", str(home)).replace("{project}", str(self.root))

    # -- team code ----------------------------------------------------------------------

    def load_object(self, reference: str, *, what: str) -> Any:
        """``module:name`` from the project's python path (toolbox functions, metrics)."""
        if reference in self._objects:
            return self._objects[reference]
        module_name, _, attribute = reference.partition(":")
        _add_to_path([str(self.resolve(p)) for p in self.config.project.python_path])
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ConfigurationError(
                f"Cannot import {what} {reference!r} of {self.path}: {type(exc).__name__}: "
                f"{exc}. Put module {module_name!r} on the project's python_path "
                f"({', '.join(self.config.project.python_path)}) or install it."
            ) from None
        found = getattr(module, attribute, None)
        if not callable(found):
            raise ConfigurationError(
                f"{what} {reference!r} of {self.path}: module {module_name!r} has no callable "
                f"{attribute!r}."
            )
        self._objects[reference] = found
        return found


def current_project(settings: Settings) -> Project:
    """The project CLEARLAKE_CONFIG names (the default project otherwise)."""
    return load_project(settings.config_path)


def sample_database_builder(project: Project) -> Callable[..., dict[str, int]]:
    """The project's sample-database builder (``demo.sample_database``), or a clear error."""
    demo = project.config.demo
    if demo is None or demo.sample_database is None:
        raise ConfigurationError(
            f"Project {project.name} ({project.path}) declares no sample database "
            "(`demo.sample_database: module:function`): point CLEARLAKE_SOURCE_URL at your "
            "production database instead."
        )
    builder: Callable[..., dict[str, int]] = project.load_object(
        demo.sample_database, what="sample database builder"
    )
    return builder


def sample_database_advancer(project: Project) -> Callable[..., dict[str, list[dt.date]]]:
    """The project's sample-database advancer (``demo.advance_sample_database``)."""
    demo = project.config.demo
    if demo is None or demo.advance_sample_database is None:
        raise ConfigurationError(
            f"Project {project.name} ({project.path}) declares no way to advance its sample "
            "database (`demo.advance_sample_database: module:function`): add one, or insert "
            "the rows into your source yourself."
        )
    advancer: Callable[..., dict[str, list[dt.date]]] = project.load_object(
        demo.advance_sample_database, what="sample database advancer"
    )
    return advancer


def _get(section: dict[str, Any], name: str, what: str, path: Path) -> Any:
    try:
        return section[name]
    except KeyError:
        known = ", ".join(section) or "(none)"
        raise ConfigurationError(f"Unknown {what} {name!r}: {path} declares {known}.") from None


@functools.cache
def _sql_tables(sql: str) -> tuple[str, ...]:
    # get_table_names cannot bind parameters: a NULL stands in for each ($day…).
    try:
        return tuple(sorted(duckdb.get_table_names(re.sub(r"\$\w+", _null_of_same_width, sql))))
    except duckdb.Error as exc:
        raise ValueError(f"not valid DuckDB SQL: {sql_problem(str(exc))}") from None


def _null_of_same_width(parameter: re.Match[str]) -> str:
    """A NULL in place of ``$day``, as wide, so parser positions stay those of the file."""
    return "NULL".ljust(len(parameter.group()))


_SQL_LINE = re.compile(r"^LINE (\d+): (.*)$")


def sql_problem(message: str) -> str:
    """DuckDB's parser error as one line with its position (``line 3, column 12: syntax
    error at or near "form"``): its own message spreads the position over a quoted line and
    a caret line, which a one-line error would flatten into noise."""
    if "Expected a single statement" in message:
        return "the file holds more than one statement: keep one SELECT (no second ';')"
    lines = message.splitlines()
    head = lines[0].split(": ", 1)[-1] if lines else message
    for index, line in enumerate(lines):
        found = _SQL_LINE.match(line)
        if found and index + 1 < len(lines) and "^" in lines[index + 1]:
            prefix = len(line) - len(found.group(2))
            column = lines[index + 1].index("^") - prefix + 1
            return f"line {found.group(1)}, column {column}: {head}"
    return " ".join(message.split())


def sql_tables(sql: str) -> list[str]:
    """The tables a DuckDB query reads (its lineage)."""
    return list(_sql_tables(sql))


def _add_to_path(folders: list[str]) -> None:
    """Put the project's python_path first on ``sys.path`` (kept there: modules imported
    from it may import their siblings later)."""
    sys.path[:0] = [f for f in folders if f not in sys.path]


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def config_file(path: Path) -> Path:
    """A project folder or its ``clearlake.yaml``; a clear error when neither exists."""
    if path.is_dir():
        candidate = path / CONFIG_FILE
        if not candidate.is_file():
            raise ConfigurationError(
                f"{path} is a folder without {CONFIG_FILE}: point CLEARLAKE_CONFIG at a project's "
                f"{CONFIG_FILE} (the default: `[tool.clearlake] default-project`)."
            )
        return candidate.resolve()
    if not path.is_file():
        raise ConfigurationError(
            f"Clearlake configuration {path} does not exist: set CLEARLAKE_CONFIG to a project's "
            f"{CONFIG_FILE} (the default: `[tool.clearlake] default-project`)."
        )
    return path.resolve()


def anchored(raw: dict[str, Any], root: str | Path) -> dict[str, Any]:
    """A copy of a project's raw configuration whose relative paths (``python_path``, the
    features' SQL files, ``api.policy``, ``reports.templates``) start from ``root``: the
    project folder's configuration, for a file kept elsewhere (a mounted ConfigMap, a
    test's or a benchmark's variant). ``root`` may be a path of another machine (an image)."""
    folder = str(root)

    def at(path: str) -> str:
        return posixpath.normpath(posixpath.join(folder, path))

    copy = copy_module.deepcopy(raw)
    project = copy.setdefault("project", {})
    default_path = ProjectInfo.model_fields["python_path"].default
    project["python_path"] = [at(p) for p in project.get("python_path", default_path)]
    for feature in (copy.get("features") or {}).values():
        if "sql" in feature:
            feature["sql"] = at(feature["sql"])
    reports = copy.setdefault("reports", {})
    reports["templates"] = at(reports.get("templates", ReportsConfig().templates))
    if (copy.get("api") or {}).get("policy"):
        copy["api"]["policy"] = at(copy["api"]["policy"])
    return copy


def load_project(path: Path) -> Project:
    """Read and validate a project (cached until the file changes)."""
    file = config_file(path)
    return _load(file, file.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(file: Path, _mtime: int) -> Project:
    try:
        raw = yaml.load(file.read_text(), Loader=StrictLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        raise ProjectError(file, "", f"not valid YAML: {_yaml_problem(exc)}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProjectError(file, "", f"not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_project(raw, path=file)


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter where a silent choice would hide a typo: a key given
    twice in one mapping is an error (PyYAML keeps the last one), and so is a date that is
    not a calendar day (``2026-08-32`` raised a bare ValueError from deep inside PyYAML)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice (first on line "
                    f"{seen[key].start_mark.line + 1}): keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{node.value!r} is not a valid date ({exc}): write YYYY-MM-DD",
                node.start_mark,
            ) from None


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(str(exc.problem or exc).split())


def parse_project(raw: object, *, path: Path) -> Project:
    """Validate a parsed YAML document as the project at ``path``."""
    if not isinstance(raw, dict):
        raise ProjectError(path, "", "the file must be a mapping with a `project:` section")
    try:
        config = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ProjectError(path, "", validation_problems(exc)) from None
    project = Project(path=path, config=config)
    for key, problem in cross_checks(project):
        raise ProjectError(path, key, problem)
    return project


def validation_problems(exc: ValidationError) -> str:
    """pydantic's errors as ``key.path: problem``, one per key, without its internals: a
    union's branch names (``function-after[_ordered(), DailyPartitioning]``) are dropped
    from the path, and a literal alternative (``snapshot``) is not listed as a second
    problem when the value was a mapping meant for the other branch."""
    problems: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not _is_branch_name(p)]
        key = ".".join(loc) or "(top level)"
        if err["type"] == "literal_error" and not isinstance(err.get("input"), str):
            continue
        problems.setdefault(key, _message(err))
    if not problems:  # every error was a literal alternative: show them after all
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {_message(e)}" for e in exc.errors())
    return "; ".join(f"{key}: {message}" for key, message in problems.items())


def _is_branch_name(part: object) -> bool:
    return isinstance(part, str) and "[" in part and part.endswith("]")


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (remove it or check its spelling)"
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def _names(section: dict[str, Any]) -> str:
    return ", ".join(section) or "(none)"


def cross_checks(project: Project) -> Iterator[tuple[str, str]]:
    """``(key path, problem)`` for everything that spans sections."""
    config = project.config
    yield from _feature_checks(project)
    for name, task in config.tasks.items():
        yield from _task_checks(project, name, task)
    for name, task in config.tasks.items():
        if task.pipeline:
            yield from pipeline_checks(project, name, task)
    names = [r.name for r in config.repositories]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        yield "repositories", f"repository name {dup!r} is used twice"
    for i, repo in enumerate(config.repositories):
        if repo.task is None and len(config.tasks) != 1 and not project.pipelines_of(repo.name):
            yield (
                f"repositories[{i}].task",
                f"repository {repo.name!r} must name its task "
                f"(tasks: {', '.join(config.tasks) or '(none)'})",
            )
        elif repo.task is not None and repo.task not in config.tasks:
            yield (
                f"repositories[{i}].task",
                f"{repo.task!r} is not a declared task (tasks: {_names(config.tasks)})",
            )
    if config.api.policy and not project.resolve(config.api.policy).is_file():
        yield "api.policy", f"no policy file at {project.resolve(config.api.policy)}"
    for name, task in config.tasks.items():  # after the repositories: a monitor watches one
        yield from _monitor_checks(project, name, task)


def _feature_checks(project: Project) -> Iterator[tuple[str, str]]:
    config = project.config
    for name, feature in config.features.items():
        key = f"features.{name}"
        if name in config.sources:
            yield key, f"{name!r} is also a lake source: a feature table needs its own name"
        if feature.sql is not None:
            file = project.resolve(feature.sql)
            if not file.is_file():
                yield f"{key}.sql", f"no SQL file at {file}"
                continue
            try:
                inputs = project.feature_inputs(name)
            except ValueError as exc:
                yield f"{key}.sql", f"{file}: {exc}"
                continue
        else:
            inputs = list(feature.inputs)
        unknown = [t for t in inputs if t not in config.sources]
        if unknown:
            yield (
                f"{key}.inputs",
                f"reads {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not "
                f"a lake source (sources: {', '.join(config.sources) or '(none)'})",
            )
        elif not any(config.sources[t].daily for t in inputs) and feature.first_day is None:
            yield key, "reads only snapshot tables: declare its `first_day`"


def _task_checks(project: Project, name: str, task: TaskConfig) -> Iterator[tuple[str, str]]:
    key = f"tasks.{name}"
    features = project.config.features
    if task.dataset not in features:
        yield (
            f"{key}.dataset",
            f"{task.dataset!r} is not a feature table (features: {_names(features)})",
        )
        return
    dataset = features[task.dataset]
    columns = dataset.columns
    available = f"columns of {task.dataset}: {', '.join(columns)}"
    fields: list[tuple[str, str | None]] = [
        ("target", task.target),
        ("row_id", task.row_id),
        ("date_column", task.date_column),
        *((f"exclude_columns[{i}]", c) for i, c in enumerate(task.exclude_columns)),
        *((f"subgroups[{i}].column", s.column) for i, s in enumerate(task.subgroups)),
    ]
    for field_name, column in fields:
        if column is not None and column not in columns:
            yield (
                f"{key}.{field_name}",
                f"{column!r} is not a column of feature table {task.dataset} ({available})",
            )
            return
    target_type = columns[task.target].arrow_type
    if task.type == "regression" and not (
        pa.types.is_integer(target_type)
        or pa.types.is_floating(target_type)
        or pa.types.is_decimal(target_type)
    ):
        yield (
            f"{key}.target",
            f"a regression target must be numeric; {task.target} is {target_type}",
        )
    if (
        task.type == "binary"
        and task.positive_class is None
        and not (pa.types.is_boolean(target_type) or pa.types.is_integer(target_type))
    ):
        yield (
            f"{key}.positive_class",
            f"target {task.target} is {target_type}: name the value that is positive",
        )
    for i, subgroup in enumerate(task.subgroups):
        column_type = columns[subgroup.column].arrow_type
        if subgroup.derive and not is_temporal(column_type):
            yield (
                f"{key}.subgroups[{i}].derive",
                f"{subgroup.column} is {column_type}: `derive` needs a date or timestamp column",
            )
        if subgroup.derive == "hour" and pa.types.is_date(column_type):
            yield f"{key}.subgroups[{i}].derive", f"{subgroup.column} is a date: it has no hour"
        if subgroup.bins and not (
            pa.types.is_integer(column_type) or pa.types.is_floating(column_type)
        ):
            yield (
                f"{key}.subgroups[{i}].bins",
                f"{subgroup.column} is {column_type}: bins need numbers",
            )
    for i, metric in enumerate(task.metrics):
        if metric.function is None:
            problem = builtin_metric_problem(task, metric.name)
            if problem:
                yield f"{key}.metrics[{i}]", problem


def pipeline_checks(project: Project, name: str, task: TaskConfig) -> Iterator[tuple[str, str]]:
    """A task's ``pipeline:`` against the registered repositories, its dataset and itself:
    each problem names the stage (the first one found per stage)."""
    assert task.pipeline is not None
    if task.monitor is not None:
        yield (
            f"tasks.{name}.monitor",
            f"task {name} has a pipeline: monitoring a pipeline's combination is not supported "
            "yet (its model would be watched without its transform stages); remove `monitor:`",
        )
    config = project.config
    registered = {r.name: r for r in config.repositories}
    features = config.features
    dataset = features.get(task.dataset)
    row_id = task.row_id or (dataset.row_id if dataset else None)
    hidden = set(task.exclude_columns) | {task.target}
    available: list[str] | None = (
        [c for c in dataset.columns if c not in hidden] if dataset is not None else None
    )
    produced_by = f"the dataset {task.dataset}'s candidate columns"
    seen: set[str] = set()
    last = len(task.pipeline) - 1
    for i, stage in enumerate(task.pipeline):
        key = f"tasks.{name}.pipeline[{i}]"
        repo = stage.repository
        if repo not in registered:
            yield (
                f"{key}.repository",
                f"stage {repo!r} is not a registered repository (repositories: "
                f"{', '.join(registered) or '(none)'}): add it under `repositories:`",
            )
            return
        if repo in seen:
            yield (
                f"{key}.repository",
                f"stage {repo!r} appears twice in the pipeline (a cycle): name each repository "
                "once",
            )
            return
        seen.add(repo)
        owner = registered[repo].task
        if i < last and stage.output is None:
            yield (
                f"{key}.output",
                f"stage {repo!r} is not the last stage but declares no output.columns: a model "
                "stage must be last, a transform stage declares the frame it returns",
            )
            return
        if i == last and stage.output is not None:
            yield (
                f"{key}.output",
                f"stage {repo!r} is the last stage, the model (it returns predictions): remove "
                "its output, or add the model stage after it",
            )
            return
        if owner is not None and owner != name:
            yield (
                f"{key}.repository",
                f"stage {repo!r} is registered to task {owner!r}: a stage of task {name}'s "
                f"pipeline is registered to {name} or to no task (drop its `task:`)",
            )
            return
        missing = [c for c in stage.requires if available is not None and c not in available]
        if missing:
            yield (
                f"{key}.requires",
                f"stage {repo!r} requires {', '.join(missing)}, which {produced_by} lack "
                f"(they are: {', '.join(available or [])})",
            )
            return
        if stage.output is not None:
            columns = list(stage.output.columns)
            if row_id is not None and row_id not in columns:
                yield (
                    f"{key}.output.columns",
                    f"stage {repo!r}: the output lacks the task's row id column {row_id!r} "
                    "(the model's rows and the actuals are joined on it): declare it",
                )
                return
            if task.target in columns:
                yield (
                    f"{key}.output.columns",
                    f"stage {repo!r}: the output holds the target {task.target!r}, which the "
                    "platform joins back by row id for the model's training: drop it",
                )
                return
            available = columns
            produced_by = f"the output of stage {repo!r}"
    for i, registration in enumerate(config.repositories):
        if registration.task == name and registration.name not in seen:
            yield (
                f"repositories[{i}].task",
                f"repository {registration.name!r} is registered to task {name}, whose "
                "candidates are its pipeline's combinations: add it as a stage or register it "
                "to another task",
            )


def dataset_span(project: Project, dataset: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day a feature table can have, from the configuration alone
    (its own ``first_day``/``last_day``, else its daily sources'); ``None``: unknown / open."""
    config = project.config
    feature = config.features[dataset]
    try:
        inputs = project.feature_inputs(dataset)
    except (ValueError, OSError):
        inputs = []
    daily = [config.sources[t].daily for t in inputs if t in config.sources]
    firsts = [d.first_day for d in daily if d is not None]
    lasts = [d.last_day for d in daily if d is not None and d.last_day is not None]
    first = feature.first_day or (max(firsts) if firsts else None)
    last = feature.last_day or (min(lasts) if lasts else None)
    return first, last


def _monitor_checks(project: Project, name: str, task: TaskConfig) -> Iterator[tuple[str, str]]:
    """A task's ``monitor:`` against its task, dataset and repositories."""
    monitor: MonitorConfig | None = task.monitor
    if monitor is None or task.dataset not in project.config.features:
        return
    key = f"tasks.{name}.monitor"
    metrics = [m.name for m in task.metrics]
    for i, metric in enumerate(monitor.metrics or []):
        if metric not in metrics:
            yield f"{key}.metrics[{i}]", f"{metric!r} is not a metric of task {name} ({metrics})"
    labels = [s.label for s in task.subgroups]
    for i, label in enumerate(monitor.subgroups or []):
        if label not in labels:
            yield (
                f"{key}.subgroups[{i}]",
                f"{label!r} is not a subgroup of task {name} (subgroups: "
                f"{', '.join(labels) or '(none)'})",
            )
    columns = project.config.features[task.dataset].columns
    for i, column in enumerate(monitor.drift.columns):
        if column not in columns:
            yield (
                f"{key}.drift.columns[{i}]",
                f"{column!r} is not a column of feature table {task.dataset} "
                f"(columns: {', '.join(columns)})",
            )
    repositories = [r.name for r in project.repositories_of(name)]
    if monitor.watch == "champion":
        if not repositories and task.calibration.champion is None:
            yield (
                f"{key}.watch",
                f"'champion' needs a repository evaluated on task {name} (none is registered): "
                "register one under `repositories:` or watch `repo@sha`",
            )
    else:
        repo = re.split(r"[@:]", monitor.watch, maxsplit=1)[0]
        if repo not in repositories:
            yield (
                f"{key}.watch",
                f"repository {repo!r} is not evaluated on task {name} (its repositories: "
                f"{', '.join(repositories) or '(none)'})",
            )
    reference = monitor.reference
    if reference.suite is not None:
        if reference.suite not in task.suites:
            yield (
                f"{key}.reference.suite",
                f"{reference.suite!r} is not a suite of task {name} (suites: "
                f"{', '.join(task.suites)})",
            )
            return
        if task.suites[reference.suite].rolling:
            yield (
                f"{key}.reference.suite",
                f"{reference.suite!r} is a rolling suite: a reference is a fixed window, name "
                "a pinned suite or give `start` and `end`",
            )
            return
        start, end = task.suites[reference.suite].span()
    else:
        assert reference.start is not None and reference.end is not None
        start, end = reference.start, reference.end
    first, last = dataset_span(project, task.dataset)
    if (first is not None and start < first) or (last is not None and end > last):
        yield (
            f"{key}.reference",
            f"window {start}..{end} lies outside feature table {task.dataset} "
            f"({first or '…'}..{last or 'open-ended'}): choose days the dataset has",
        )
    if first is not None and last is not None and monitor.label_delay_days > (last - first).days:
        yield (
            f"{key}.label_delay_days",
            f"{monitor.label_delay_days} days is longer than feature table {task.dataset}'s "
            f"{(last - first).days + 1} days: no day would ever have mature labels",
        )
