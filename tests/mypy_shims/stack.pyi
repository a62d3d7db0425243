# tests/stack/stack.py, which its neighbours import as "stack".
from tests.stack.stack import *  # noqa: F403
