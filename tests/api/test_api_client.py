"""`clearlake.api.Client` against the live service, and the CLI's local defaults."""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from live_api import LiveApi, running_api, server_env
from typer.testing import CliRunner

from clearlake.api import ApiClientError, Client
from clearlake.api.tokens import load_tokens
from clearlake.cli.api import api_app
from clearlake.errors import ConfigurationError
from clearlake.lake import read
from clearlake.lake.store import LakeStore


@pytest.fixture
def steward(live_api: LiveApi) -> Client:
    return Client(live_api.url, live_api.tokens["stew"])


def test_read_matches_the_lake_reader(steward: Client, sample_lake: LakeStore) -> None:
    columns = ["carrier", "dep_delay", "flight_date"]
    filters = [("origin", "==", "EWR"), ("flight_date", ">=", dt.date(2013, 2, 2))]
    frame = steward.read(
        "flights", "2013-02-01", dt.date(2013, 2, 5), columns=columns, filters=filters
    )
    expected = read(
        "flights", "2013-02-01", "2013-02-05", columns=columns, filters=filters, store=sample_lake
    )
    assert isinstance(frame, pd.DataFrame) and len(frame) > 1000
    pd.testing.assert_frame_equal(frame, expected)
    table = steward.read("weather", "2013-01-01", "2013-01-01", as_arrow=True, limit=10)
    assert isinstance(table, pa.Table) and table.num_rows == 10


def test_scan_streams_record_batches(steward: Client) -> None:
    reader = steward.scan("flights", "2013-01-01", "2013-01-31", columns=["carrier"])
    assert reader.schema.names == ["carrier"]
    batches = list(reader)
    assert len(batches) > 1 and sum(b.num_rows for b in batches) == 27004


def test_catalog_frames_and_download(steward: Client, tmp_path: Path) -> None:
    datasets = steward.datasets()
    assert set(datasets["name"]) == {"airlines", "airports", "flights", "planes", "weather"}
    flights = datasets.set_index("name").loc["flights"]
    assert (flights["first"], flights["last"], flights["partitions"]) == (
        "2013-01-01",
        "2013-03-31",
        90,
    )
    schema = steward.schema("planes")
    assert list(schema.columns) == ["name", "type", "nullable", "column_class", "access"]
    path = steward.download("flights", tmp_path / "jan.parquet", "2013-01-01", "2013-01-31")
    assert pq.read_metadata(path).num_rows == 27004


def test_refusals_raise_with_the_server_message(live_api: LiveApi) -> None:
    partner = Client(live_api.url, live_api.tokens["pat"])
    with pytest.raises(ApiClientError, match=r"403: Column\(s\) 'tailnum'") as caught:
        partner.read("flights", columns=["tailnum"])
    assert caught.value.refused == ["tailnum"]
    with pytest.raises(ApiClientError, match=r"403: Dataset 'planes' is not granted"):
        partner.schema("planes")
    with pytest.raises(ApiClientError, match=r"400: .*Malformed filter 'origin:like:J'"):
        partner.read("flights", filters=["origin:like:J"])
    with pytest.raises(ApiClientError, match="401: Missing or unknown bearer token"):
        Client(live_api.url, "clk_wrong").datasets()


def test_client_reads_url_and_token_from_settings(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARLAKE_API_URL", live_api.url)
    monkeypatch.delenv("CLEARLAKE_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="CLEARLAKE_API_TOKEN"):
        Client()
    monkeypatch.setenv("CLEARLAKE_API_TOKEN", live_api.tokens["sam"])
    with Client() as api:
        assert api.health()["status"] == "ok"
        hashed = api.read("planes", columns=["tailnum"], limit=3)["tailnum"]
        assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in hashed)


def test_serve_issues_demo_tokens_and_a_mask_key_locally(
    tmp_path: Path, sample_lake: LakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    env = server_env(home, sample_lake)
    del env["CLEARLAKE_API_MASK_KEY"]
    with running_api(home, env, {}) as api:
        printed = api.log_path.read_text()
        tokens = dict(re.findall(r"(demo-\w+)\s+(clk_\S+)", printed))
        assert set(tokens) == {"demo-partner", "demo-scientist", "demo-steward"}
        frame = Client(api.url, tokens["demo-scientist"]).read("planes", limit=2)
        assert frame["tailnum"].str.fullmatch(r"[0-9a-f]{16}").all()
    key = home / "api" / "mask.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text()) == 64
    assert not any(token in (home / "api" / "tokens.yaml").read_text() for token in tokens.values())

    for name, value in env.items():
        if name.startswith("CLEARLAKE_"):
            monkeypatch.setenv(name, value)
    runner = CliRunner()
    done = runner.invoke(api_app, ["token", "issue", "--principal", "ada", "--role", "partner"])
    assert done.exit_code == 0, done.output
    token = done.stdout.strip()
    registry = load_tokens(
        file=home / "api" / "tokens.yaml", inline=None, roles={"partner", "scientist", "steward"}
    )
    principal = registry.authenticate(token)
    assert principal is not None and principal.roles == ("partner",)
    refused = runner.invoke(api_app, ["token", "issue", "--principal", "x", "--role", "admin"])
    assert "Role(s) ['admin'] are not in the policy" in str(refused.exception)
