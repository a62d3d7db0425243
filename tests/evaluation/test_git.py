"""Git access on real repositories made in temporary folders."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from flights_example.demo_repos import (
    SAMPLE_COMMITS,
    SampleCommit,
    add_commit,
    create_sample_repository,
)

from clearlake.errors import ClearlakeError
from clearlake.evaluation.git import GitRepository, MissingCredentialsError
from clearlake.project.config import RepositoryConfig
from clearlake.settings import load_settings


def repository(location: str, tmp_path: Path) -> GitRepository:
    config = RepositoryConfig(
        name="flight-delays", location=location, entrypoint="delay_model:DelayModel"
    )
    return GitRepository(
        config, load_settings({"CLEARLAKE_HOME": str(tmp_path / "home")}), location=location
    )


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "repo"
    return path, create_sample_repository(path)


def test_sample_repository_is_deterministic(sample: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, shas = sample
    assert len(shas) == 3
    assert create_sample_repository(path) == shas  # idempotent
    assert create_sample_repository(tmp_path / "again") == shas  # same shas anywhere


def test_new_commits_since_cursor_and_first_look(
    sample: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, shas = sample
    git = repository(str(path), tmp_path)
    head = git.branch_head("main")
    assert head == shas[-1]
    assert git.new_commits(head, None, limit=20) == shas
    assert git.new_commits(head, None, limit=2) == shas[1:]
    assert git.new_commits(head, shas[0], limit=20) == shas[1:]
    assert git.new_commits(head, shas[-1], limit=20) == []
    assert git.new_commits(head, "f" * 40, limit=20) == shas  # unknown cursor: first look
    assert git.branch_head("nope") is None


def test_commit_info_and_exact_checkout(sample: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, shas = sample
    git = repository(str(path), tmp_path)
    info = git.commit_info(shas[1][:7])
    assert info.sha == shas[1] and info.parents == (shas[0],)
    assert info.subject.startswith("Gradient boosting")
    assert info.author == "Ada Scientist <ada@clearlake.example>"
    assert info.committed_at.isoformat() == "2024-05-02T10:00:00+00:00"
    tree = git.checkout(shas[0])
    assert tree == tmp_path / "home" / "cache" / "candidates" / "flight-delays" / shas[0]
    assert "median" in (tree / "delay_model.py").read_text()  # the naive model, not HEAD's
    assert git.checkout(shas[0]) == tree  # cached


def test_unknown_commit_and_location(sample: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _ = sample
    with pytest.raises(ClearlakeError, match="has no commit 'deadbee'"):
        repository(str(path), tmp_path).resolve("deadbee")
    with pytest.raises(ClearlakeError, match="is not a git repository"):
        repository(str(tmp_path / "missing"), tmp_path).refresh()


def test_remote_repository_is_mirrored_and_fetched(
    sample: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, shas = sample
    git = repository(path.as_uri(), tmp_path)
    assert git.remote
    git.refresh()
    assert git.branch_head("main") == shas[-1]
    newer = add_commit(path, SampleCommit("More", {"notes.txt": "x"}))
    assert git.branch_head("main") == shas[-1]  # the mirror is not the remote
    git.refresh()
    assert git.branch_head("main") == newer
    assert (git.checkout(newer) / "notes.txt").read_text() == "x"
    assert SAMPLE_COMMITS[0].message in git.commit_info(shas[0]).message


def test_remote_needing_missing_credentials_fails_in_one_line(tmp_path: Path) -> None:
    # A real HTTP remote that asks for a password, as a private repository host does.
    class AskForPassword(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), AskForPassword)
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/team/private.git"
    try:
        with pytest.raises(MissingCredentialsError) as error:
            repository(url, tmp_path).refresh()
    finally:
        server.shutdown()
    message = str(error.value)
    assert "\n" not in message
    assert f"'flight-delays' at {url} needs credentials" in message
    assert "Private repositories" in message
