"""A real Data API: `clearlake api serve` in a subprocess on a loopback port, over the
session's sample lake (Q1 2013), with one token per role and a known masking key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_api import LiveApi, issue_tokens, running_api, server_env

from clearlake.lake.store import LakeStore


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory, sample_lake: LakeStore) -> Iterator[LiveApi]:
    """The service over the Q1 2013 sample lake; tokens: sam (scientist), pat (partner),
    stew (steward). Its report gallery starts absent (``home/reports``)."""
    home = tmp_path_factory.mktemp("api-home")
    tokens_file = home / "secrets" / "tokens.yaml"
    tokens = issue_tokens(tokens_file)
    env = server_env(home, sample_lake, CLEARLAKE_API_TOKENS_FILE=str(tokens_file))
    with running_api(home, env, tokens) as api:
        yield api
