# tests/reports/regression_definitions.py, which its neighbours import as "regression_definitions".
from tests.reports.regression_definitions import *  # noqa: F403
