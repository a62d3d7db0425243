# tests/evaluation/evaluation_env.py, which its neighbours import as "evaluation_env".
from tests.evaluation.evaluation_env import *  # noqa: F403
