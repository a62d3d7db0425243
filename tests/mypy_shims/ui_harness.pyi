# tests/ui/ui_harness.py, which its neighbours import as "ui_harness".
from tests.ui.ui_harness import *  # noqa: F403
