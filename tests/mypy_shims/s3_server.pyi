# tests/stack/s3_server.py, which its neighbours import as "s3_server".
from tests.stack.s3_server import *  # noqa: F403
