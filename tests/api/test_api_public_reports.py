"""A policy with ``reports: public`` opens the gallery without a token, and only the gallery."""

from __future__ import annotations

from pathlib import Path

import httpx
from live_api import EXAMPLE_POLICY, MASK_KEY, app_in_thread

from clearlake.api.app import create_app
from clearlake.api.config import load_api_config
from clearlake.api.tokens import issue_token
from clearlake.lake.store import LakeStore
from clearlake.settings import load_settings


def test_public_gallery_needs_no_token_but_data_still_does(
    tmp_path: Path, sample_lake: LakeStore
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        EXAMPLE_POLICY.read_text().replace("reports: authenticated", "reports: public")
    )
    token = issue_token(tmp_path / "tokens.yaml", principal="ada", roles=["steward"])
    settings = load_settings(
        {
            "CLEARLAKE_HOME": str(tmp_path / "home"),
            "CLEARLAKE_LAKE_URL": sample_lake.url,
            "CLEARLAKE_API_POLICY": str(policy),
            "CLEARLAKE_API_TOKENS_FILE": str(tmp_path / "tokens.yaml"),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    settings.reports_root.mkdir(parents=True)
    (settings.reports_root / "index.html").write_text("<h1>Gallery</h1>")
    with app_in_thread(create_app(load_api_config(settings))) as url:
        assert httpx.get(f"{url}/reports/").text == "<h1>Gallery</h1>"
        assert httpx.get(f"{url}/v1/datasets").status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/v1/datasets", headers=headers).status_code == 200
    records = (settings.home / "api" / "audit.jsonl").read_text()
    assert '"action": "report", "outcome": "granted", "principal": null' in records
