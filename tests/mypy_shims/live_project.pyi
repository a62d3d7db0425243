# tests/features/live_project.py, which its neighbours import as "live_project".
from tests.features.live_project import *  # noqa: F403
