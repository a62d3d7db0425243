"""Delivering alert episodes: one webhook message when an episode opens, one when it ends.

Only webhooks: a monitor alert concerns a model in production, not a commit, so commit
statuses and commit comments (the gate's github/gitlab notifiers) have nowhere to go.
Every undelivered event of every episode is retried on the next status refresh (with the
``notify`` retries and backoff within one), and marked delivered once every notifier
accepted it — never sent again after that.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from clearlake.evaluation.notify import Log, NotifyError, Sender, _secret
from clearlake.monitoring.episodes import MonitorState, message
from clearlake.project.config import MonitorConfig


def deliver(
    state: MonitorState,
    monitor: MonitorConfig,
    *,
    log: Log,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Send every pending event; returns the messages delivered (problems are logged)."""
    sent = []
    for episode in state.episodes:
        for event in episode.pending():
            text = message(state.task, state.watched, episode, event)
            problems = []
            for config in monitor.notifiers:
                send = Sender(
                    monitor.notify,
                    repository=f"(monitor of task {state.task})",
                    notifier="webhook",
                    sleep=sleep,
                )
                try:
                    url = config.url or _secret(send.repository, "webhook", str(config.url_env))
                    payload = {
                        "text": text,
                        "clearlake": {
                            "task": state.task,
                            "watched": state.watched,
                            "event": event,
                            "episode": {**dataclasses.asdict(episode), "id": episode.id},
                        },
                    }
                    send("POST", url, json=payload)
                except NotifyError as exc:
                    problems.append(str(exc))
                    log.warning(str(exc))
                finally:
                    send.client.close()
            if not problems:
                episode.delivered.append(event)
                sent.append(text)
                log.info(f"alert {event}: {text}")
    return sent
