"""Notifiers against a real local HTTP server that plays GitHub, GitLab and a webhook:
statuses, one comment updated in place, retries with backoff, failures logged only."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from clearlake.evaluation.gate import BLOCKED, PASSED, GateOutcome, Reason
from clearlake.evaluation.notify import marker, notify_all
from clearlake.project.config import RepositoryConfig

SHA = "a" * 40


@dataclass
class Recorded:
    calls: list[tuple[str, str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    failures_left: int = 0
    """The next requests answered 503 (the retries must get through)."""
    token: str = "secret-token"


def handler(state: Recorded) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.calls.append((method, self.path, body, headers))
            if state.failures_left > 0:
                state.failures_left -= 1
                return self._reply(503, {"message": "try later"})
            auth = headers.get("authorization", "") + headers.get("private-token", "")
            if "/hook" not in self.path and state.token not in auth:
                return self._reply(401, {"message": "Bad credentials"})
            path = self.path
            if path.startswith("/gh/repos/acme/model/commits/") and path.endswith("/comments"):
                if method == "GET":
                    return self._reply(
                        200, [{"id": i, "body": b} for i, b in state.comments.items()]
                    )
                new = len(state.comments) + 1
                state.comments[new] = body["body"]
                return self._reply(201, {"id": new})
            if path.startswith("/gh/repos/acme/model/comments/") and method == "PATCH":
                state.comments[int(path.rsplit("/", 1)[1])] = body["body"]
                return self._reply(200, {})
            if "/discussions" in path:
                if method == "GET":
                    return self._reply(
                        200,
                        [
                            {"id": f"d{i}", "notes": [{"id": i, "body": b}]}
                            for i, b in state.notes.items()
                        ],
                    )
                if method == "PUT":
                    state.notes[int(path.rsplit("/", 1)[1])] = body["body"]
                    return self._reply(200, {})
                new = len(state.notes) + 1
                state.notes[new] = body["body"]
                return self._reply(201, {"id": f"d{new}"})
            return self._reply(201, {})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Recorded]]:
    state = Recorded()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


class Log:
    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []

    def info(self, msg: str) -> None:
        self.infos.append(msg)

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


def outcome(status: str = BLOCKED) -> GateOutcome:
    reasons = [Reason("mae", "carrier=UA", 2.5, 1.1, 3.9, 585, 0.24)] if status == BLOCKED else []
    return GateOutcome(
        status=status,
        candidate="model@aaaaaaa",
        task="arrival_delay",
        baseline="model@bbbbbbb",
        baseline_note="compared with model@bbbbbbb",
        reasons=reasons,
        min_effects={"mae": "0.01x the baseline"},
    )


def repository(url: str, **notify: float) -> RepositoryConfig:
    return RepositoryConfig.model_validate(
        {
            "name": "model",
            "location": "/nowhere",
            "entrypoint": "m:C",
            "notifiers": [
                {"kind": "github", "repository": "acme/model", "api_url": f"{url}/gh"},
                {"kind": "gitlab", "project": "acme/model", "api_url": f"{url}/gl"},
                {"kind": "webhook", "url": f"{url}/hook"},
            ],
            "notify": {"retries": 3, "backoff_seconds": 0.01, **notify},
        }
    )


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    monkeypatch.setenv("GITLAB_TOKEN", "secret-token")


def test_status_comment_and_webhook_payloads(server: tuple[str, Recorded], tokens: None) -> None:
    url, state = server
    log = Log()
    problems = notify_all(
        repository(url), outcome(), sha=SHA, target_url="http://reports/x", log=log
    )
    assert problems == [] and log.warnings == []
    by_path = {(m, p): body for m, p, body, _ in state.calls}
    github = by_path[("POST", f"/gh/repos/acme/model/statuses/{SHA}")]
    assert github["state"] == "failure" and github["context"] == "clearlake/arrival_delay"
    assert github["description"].startswith(
        "false alarms not calibrated · blocked vs model@bbbbbbb: mae for carrier=UA +2.5"
    )
    assert github["target_url"] == "http://reports/x"
    gitlab = by_path[("POST", f"/gl/projects/acme%2Fmodel/statuses/{SHA}")]
    assert gitlab["state"] == "failed" and gitlab["name"] == "clearlake/arrival_delay"
    hook = by_path[("POST", "/hook")]
    assert hook["text"].startswith("Clearlake arrival_delay model@aaaaaaa: blocked")
    assert hook["clearlake"]["status"] == "blocked" and hook["clearlake"]["commit"] == SHA
    assert hook["clearlake"]["reasons"][0]["subgroup"] == "carrier=UA"
    headers = next(h for m, p, _, h in state.calls if p.startswith("/gh/"))
    assert headers["authorization"] == "Bearer secret-token"
    assert len(state.comments) == 1 and len(state.notes) == 1
    assert marker(outcome()) in state.comments[1] and "minimum effects" in state.comments[1]


SEED_WARNING = "seed ignored: model's fit takes no seed and reproduced exactly under another"


def test_every_text_carries_the_seed_warning_and_the_false_alarm_rate(
    server: tuple[str, Recorded], tokens: None
) -> None:
    """Status description, comment and webhook text each say it, however long the rest."""
    url, state = server
    long_reason = Reason("mae", "carrier=" + "X" * 200, 2.5, 1.1, 3.9, 585, 0.24)
    ignored = dataclasses.replace(
        outcome(),
        reasons=[long_reason],
        seed_warning=SEED_WARNING + "; any training randomness it fixes itself is not in it",
        false_alarm_rate=0.04,
        calibration="2/50 A/A trials of model@ccccccc blocked, 2026-12-01",
    )
    assert notify_all(repository(url), ignored, sha=SHA, target_url="", log=Log()) == []
    by_path = {(m, p): body for m, p, body, _ in state.calls}
    github = by_path[("POST", f"/gh/repos/acme/model/statuses/{SHA}")]["description"]
    gitlab = by_path[("POST", f"/gl/projects/acme%2Fmodel/statuses/{SHA}")]["description"]
    assert len(github) == 140 and github.endswith("…")
    for description in (github, gitlab):
        assert description.startswith("seed ignored, false alarms 4% · blocked vs model@bbbbbbb")
    for text in (state.comments[1], state.notes[1], by_path[("POST", "/hook")]["text"]):
        assert SEED_WARNING in text
        assert "false-alarm rate 4% (2/50 A/A trials of model@ccccccc blocked, 2026-12-01)" in text
    hook = by_path[("POST", "/hook")]["clearlake"]
    assert hook["false_alarm_rate"] == 0.04 and hook["seed_warning"].startswith(SEED_WARNING)


def test_an_uncalibrated_task_says_so(server: tuple[str, Recorded], tokens: None) -> None:
    url, state = server
    notify_all(repository(url), outcome(PASSED), sha=SHA, target_url="", log=Log())
    hook = next(body for m, p, body, _ in state.calls if p == "/hook")
    assert hook["text"].endswith(
        "passed vs model@bbbbbbb: no significant regression; false-alarm rate not "
        "calibrated (clearlake gate calibrate arrival_delay)"
    )
    assert "seed ignored" not in hook["text"] and "seed ignored" not in state.comments[1]


def test_one_comment_updated_in_place(server: tuple[str, Recorded], tokens: None) -> None:
    url, state = server
    notify_all(repository(url), outcome(), sha=SHA, target_url="", log=Log())
    notify_all(repository(url), outcome(PASSED), sha=SHA, target_url="", log=Log())
    assert list(state.comments) == [1] and list(state.notes) == [1]
    assert "passed vs model@bbbbbbb" in state.comments[1]
    assert "passed vs model@bbbbbbb" in state.notes[1]
    methods = [(m, p) for m, p, _, _ in state.calls]
    assert ("PATCH", "/gh/repos/acme/model/comments/1") in methods
    assert (
        "PUT",
        f"/gl/projects/acme%2Fmodel/repository/commits/{SHA}/discussions/d1/notes/1",
    ) in (methods)
    statuses = [b["state"] for m, p, b, _ in state.calls if p.endswith(f"/statuses/{SHA}")]
    assert statuses == ["failure", "failed", "success", "success"]


def test_server_errors_are_retried_with_backoff(server: tuple[str, Recorded], tokens: None) -> None:
    url, state = server
    state.failures_left = 2
    waits: list[float] = []
    log = Log()
    problems = notify_all(
        repository(url), outcome(), sha=SHA, target_url="", log=log, sleep=waits.append
    )
    assert problems == []
    first = [p for _, p, _, _ in state.calls[:3]]
    assert first == [f"/gh/repos/acme/model/statuses/{SHA}"] * 3  # 503, 503, then 201
    assert waits[:2] == [0.01, 0.02]


def test_bad_token_is_one_clear_line_and_not_retried(
    server: tuple[str, Recorded], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    log = Log()
    problems = notify_all(repository(url), outcome(), sha=SHA, target_url="", log=log)
    assert len(problems) == 2 and log.warnings == problems
    assert problems[0].startswith("Notifier github of repository model: POST")
    assert "HTTP 401" in problems[0] and "check the token" in problems[0]
    assert problems[1] == (
        "Notifier gitlab of repository model: environment variable GITLAB_TOKEN is not set "
        "(it holds the secret)"
    )
    assert sum(p.startswith("/gh/") for _, p, _, _ in state.calls) == 1  # no retry on 401
    assert [p for _, p, _, _ in state.calls if p == "/hook"] == ["/hook"]  # others still run


def test_unreachable_endpoint_is_logged_after_retries(tokens: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = RepositoryConfig.model_validate(
        {
            "name": "model",
            "location": "/nowhere",
            "entrypoint": "m:C",
            "notifiers": [{"kind": "webhook", "url": f"http://127.0.0.1:{port}/hook"}],
            "notify": {"retries": 2, "backoff_seconds": 0.01},
        }
    )
    waits: list[float] = []
    log = Log()
    problems = notify_all(repo, outcome(), sha=SHA, target_url="", log=log, sleep=waits.append)
    assert len(problems) == 1 and waits == [0.01, 0.02]
    assert problems[0].startswith("Notifier webhook of repository model: POST http://127.0.0.1")
    assert "unreachable" in problems[0] and "after 3 attempt(s); check the endpoint" in problems[0]


def test_misconfigured_notifier_names_the_problem() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="exactly one of `url` or `url_env`"):
        RepositoryConfig.model_validate(
            {
                "name": "model",
                "location": "/x",
                "entrypoint": "m:C",
                "notifiers": [{"kind": "webhook"}],
            }
        )
    with pytest.raises(
        ValidationError, match="'slack' found using 'kind' does not match any of the expected tags"
    ):
        RepositoryConfig.model_validate(
            {
                "name": "model",
                "location": "/x",
                "entrypoint": "m:C",
                "notifiers": [{"kind": "slack", "url": "http://x"}],
            }
        )
