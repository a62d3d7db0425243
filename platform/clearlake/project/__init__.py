"""A team's project: the configuration that says what the platform works on.

>>> from clearlake.project import load_project
>>> project = load_project(Path("myproject"))  # doctest: +SKIP
>>> project.task("returns").target  # doctest: +SKIP
'returned'
"""

from clearlake.project.config import ProjectConfig, TaskConfig
from clearlake.project.load import Project, ProjectError, load_project

__all__ = ["Project", "ProjectConfig", "ProjectError", "TaskConfig", "load_project"]
