"""Posting at Slack's pace: about one message per second per channel, kept by the bot itself.

Only work done after an ack posts messages, so waiting here never delays an answer to Slack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

PER_CHANNEL_S = 1.1  # Slack's "about one a second", with room for a slow network


class Pacer:
    def __init__(
        self, interval: float = PER_CHANNEL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Sleep until this channel may take another message; returns how long it slept."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return delay

    def post(self, client: WebClient, **kwargs: Any) -> SlackResponse:
        self.wait(str(kwargs["channel"]))
        return client.chat_postMessage(**kwargs)
