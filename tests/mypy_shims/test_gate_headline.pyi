# tests/evaluation/test_gate_headline.py, which its neighbours import as "test_gate_headline".
from tests.evaluation.test_gate_headline import *  # noqa: F403
