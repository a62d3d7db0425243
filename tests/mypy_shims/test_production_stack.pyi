# tests/stack/test_production_stack.py, which benchmarks/stack_loop.py imports by bare name.
from tests.stack.test_production_stack import *  # noqa: F403
