# tests/evaluation/pipeline_env.py, which its neighbours import as "pipeline_env".
from tests.evaluation.pipeline_env import *  # noqa: F403
