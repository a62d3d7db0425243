# tests/evaluation/test_scoring.py, which its neighbours import as "test_scoring".
from tests.evaluation.test_scoring import *  # noqa: F403
