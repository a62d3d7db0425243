# tests/lineage/lineage_history.py, which its neighbours import as "lineage_history".
from tests.lineage.lineage_history import *  # noqa: F403
from tests.lineage.lineage_history import _history_variables as _history_variables
