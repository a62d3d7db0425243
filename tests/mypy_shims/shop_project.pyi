# tests/project/shop_project.py, which its neighbours import as "shop_project".
from tests.project.shop_project import *  # noqa: F403
