# tests/stack/processes.py, which its neighbours import as "processes".
from tests.stack.processes import *  # noqa: F403
