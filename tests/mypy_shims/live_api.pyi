# tests/api/live_api.py, which its neighbours import as "live_api".
from tests.api.live_api import *  # noqa: F403
