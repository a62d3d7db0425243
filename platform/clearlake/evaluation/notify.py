"""Posting a gate outcome where teams look: commit statuses, one comment, a webhook.

Per repository (``notifiers:`` in the project file), after the comparison's check:

* ``github``: ``POST /repos/{o}/{r}/statuses/{sha}`` (context ``clearlake/<task>``) and one
  commit comment carrying a hidden marker, found with ``GET …/commits/{sha}/comments`` and
  updated with ``PATCH …/comments/{id}`` on the next run of the same commit;
* ``gitlab``: ``POST /projects/{id}/statuses/{sha}`` and one commit discussion note, found
  with ``GET …/repository/commits/{sha}/discussions`` and updated with ``PUT …/notes/{id}``;
* ``webhook``: ``POST`` of ``{"text": headline, "clearlake": outcome}`` (Slack reads ``text``).

Secrets come from environment variables named in the configuration. A connection error,
HTTP 429 or 5xx is retried with exponential backoff; any failure is logged as one line
naming the repository, the notifier and what to fix, and never fails (nor repeats) the
evaluation: the outcome is already stored when notifiers run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from clearlake.errors import ClearlakeError
from clearlake.evaluation.gate import BLOCKED, GateOutcome
from clearlake.project.config import (
    GitHubNotifier,
    GitLabNotifier,
    NotifyConfig,
    RepositoryConfig,
    WebhookNotifier,
)


class Log(Protocol):
    def info(self, msg: str) -> Any: ...

    def warning(self, msg: str) -> Any: ...


class NotifyError(ClearlakeError):
    def __init__(self, repository: str, notifier: str, problem: str) -> None:
        self.repository, self.notifier = repository, notifier
        super().__init__(f"Notifier {notifier} of repository {repository}: {problem}")


def marker(outcome: GateOutcome) -> str:
    """The hidden line that identifies our comment on a commit (one per task)."""
    return f"<!-- clearlake:{outcome.task} -->"


def comment_body(outcome: GateOutcome, target_url: str) -> str:
    lines = [marker(outcome), f"**Clearlake gate ({outcome.task}): {outcome.headline()}**", ""]
    lines += [f"- {line}" for line in outcome.details()[1:]]
    if target_url:
        lines += ["", f"Report: {target_url}"]
    return "\n".join(lines)


class Sender:
    """HTTP with retries: connection errors, 429 and 5xx are retried with backoff."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        repository: str,
        notifier: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config, self.repository, self.notifier, self.sleep = (
            config,
            repository,
            notifier,
            sleep,
        )
        self.client = httpx.Client(timeout=config.timeout_seconds)

    def __call__(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        wait = self.config.backoff_seconds
        problem = ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                self.sleep(wait)
                wait *= 2
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                problem = f"{method} {url} unreachable ({exc or type(exc).__name__})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"{method} {url} answered HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                hint = (
                    " — check the token (bad or without the right scope)"
                    if response.status_code in (401, 403)
                    else ""
                )
                raise NotifyError(
                    self.repository,
                    self.notifier,
                    f"{method} {url} answered HTTP {response.status_code}: "
                    f"{response.text[:200]}{hint}",
                )
            return response
        raise NotifyError(
            self.repository,
            self.notifier,
            f"{problem} after {self.config.retries + 1} attempt(s); check the endpoint",
        )


def _secret(repository: str, notifier: str, name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise NotifyError(
            repository, notifier, f"environment variable {name} is not set (it holds the secret)"
        )
    return value


def _github(send: Sender, config: GitHubNotifier, outcome: GateOutcome, sha: str, url: str) -> None:
    token = _secret(send.repository, "github", config.token_env)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    base = f"{config.api_url.rstrip('/')}/repos/{config.repository}"
    state = {BLOCKED: "failure"}.get(outcome.status, "success")
    status = {
        "state": state,
        "description": outcome.status_line(140),
        "context": f"clearlake/{outcome.task}",
    }
    if url.startswith("http"):
        status["target_url"] = url
    send("POST", f"{base}/statuses/{sha}", json=status, headers=headers)
    body = comment_body(outcome, url)
    existing = send("GET", f"{base}/commits/{sha}/comments", headers=headers).json()
    ours = [c for c in existing if marker(outcome) in str(c.get("body", ""))]
    if ours:
        send("PATCH", f"{base}/comments/{ours[0]['id']}", json={"body": body}, headers=headers)
    else:
        send("POST", f"{base}/commits/{sha}/comments", json={"body": body}, headers=headers)


def _gitlab(send: Sender, config: GitLabNotifier, outcome: GateOutcome, sha: str, url: str) -> None:
    token = _secret(send.repository, "gitlab", config.token_env)
    headers = {"PRIVATE-TOKEN": token}
    base = f"{config.api_url.rstrip('/')}/projects/{quote(config.project, safe='')}"
    status = {
        "state": "failed" if outcome.status == BLOCKED else "success",
        "name": f"clearlake/{outcome.task}",
        "description": outcome.status_line(255),
    }
    if url.startswith("http"):
        status["target_url"] = url
    send("POST", f"{base}/statuses/{sha}", json=status, headers=headers)
    body = comment_body(outcome, url)
    discussions = f"{base}/repository/commits/{sha}/discussions"
    for discussion in send("GET", discussions, headers=headers).json():
        for note in discussion.get("notes", []):
            if marker(outcome) in str(note.get("body", "")):
                send(
                    "PUT",
                    f"{discussions}/{discussion['id']}/notes/{note['id']}",
                    json={"body": body},
                    headers=headers,
                )
                return
    send("POST", discussions, json={"body": body}, headers=headers)


def _webhook(
    send: Sender, config: WebhookNotifier, outcome: GateOutcome, sha: str, url: str
) -> None:
    target = config.url or _secret(send.repository, "webhook", str(config.url_env))
    text = f"Clearlake {outcome.task} {outcome.candidate}: {outcome.headline()}"
    payload = {
        "text": text + (f" — {url}" if url else ""),
        "clearlake": {**outcome.to_json(), "commit": sha, "report": url},
    }
    send("POST", target, json=payload)


def notify_all(
    repository: RepositoryConfig,
    outcome: GateOutcome,
    *,
    sha: str,
    target_url: str,
    log: Log,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Post ``outcome`` to every notifier of ``repository``; returns the problems (logged)."""
    problems = []
    for config in repository.notifiers:
        send = Sender(
            repository.notify, repository=repository.name, notifier=config.kind, sleep=sleep
        )
        try:
            if isinstance(config, GitHubNotifier):
                _github(send, config, outcome, sha, target_url)
            elif isinstance(config, GitLabNotifier):
                _gitlab(send, config, outcome, sha, target_url)
            else:
                _webhook(send, config, outcome, sha, target_url)
            log.info(f"notified {config.kind} of {repository.name}: {outcome.status}")
        except NotifyError as exc:
            problems.append(str(exc))
            log.warning(str(exc))
        except Exception as exc:  # a notifier never fails the evaluation
            problem = f"Notifier {config.kind} of repository {repository.name}: {exc}"
            problems.append(problem)
            log.warning(problem)
        finally:
            send.client.close()
    return problems
