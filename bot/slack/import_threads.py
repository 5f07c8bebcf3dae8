"""The threads of a channel `/timeline import` reads: the first ones before page 1 shows (as
many as Slack's tier allows without a 429), the rest on a thread of their own at the tier's
pace, their replies proposed on pages appended after the last one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.proposals import Proposal
from bot.slack.failures import FAILURES, reason
from bot.slack.history import hasty, read_thread, retry_after
from bot.store import Store
from bot.store.imports import Import

logger = logging.getLogger(__name__)

# conversations.replies is Tier 3 (docs.slack.dev/reference/methods/conversations.replies:
# 50+ a minute, per workspace). Before page 1 the bot reads at most BUDGET threads, leaving
# room in the minute for others, and stops at the first 429; the rest are read afterwards.
BUDGET = 45
GIVE_UP = 5  # 429s in a row (each waited out for its Retry-After) before the rest is given up
POLL_S = 0.5  # how often a wait looks at the clock (and whether the import is still on)
STOPPED = "the reading stopped: the bot restarted, or failed while reading"

Moved = Callable[[Import, bool], None]


@dataclass
class FirstThreads:
    """What was read before page 1: `replies` (Slack's dicts), the parents `left` to read
    later (oldest first), and `unread`: (threads given up on, Slack's reason)."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    unread: tuple[int, str] = (0, "")


def read_first(
    client: WebClient, channel_id: str, parents: list[str], budget: int = BUDGET
) -> FirstThreads:
    """The replies of the first `budget` threads of `parents`, stopping at the first 429
    (nothing is waited for here); any other failure gives the remaining threads up."""
    fast = hasty(client)
    found = FirstThreads()
    for i, parent in enumerate(parents):
        if i >= budget:
            found.left = parents[i:]
            break
        try:
            found.replies += read_thread(fast, channel_id, parent)
        except FAILURES as exc:
            if retry_after(exc) is not None:
                found.left = parents[i:]
            else:
                logger.warning("replies of %s in %s: %s", parent, channel_id, reason(exc))
                found.unread = (len(parents) - i, f"Slack said `{reason(exc)}`")
            break
    return found


@dataclass
class Job:
    """Reading `parents` (thread ts, oldest first) of `channel_id` for import `import_id`:
    `pages` turns replies into pages of proposals not proposed yet; `moved` is told when the
    import stops waiting for them (its next page exists, or it is to be kept)."""

    client: WebClient
    team_id: str
    import_id: int
    channel_id: str
    parents: list[str]
    pages: Callable[[list[dict[str, Any]]], list[list[Proposal]]]
    moved: Moved


class ThreadReaders:
    """One thread per import reading its remaining threads; waits (Retry-After) follow the
    workflow clock `clock` (UTC), so a test's stopped clock holds them. Only the readers of
    this process are alive: an import whose reader is not (the bot restarted) has its
    remaining threads given up (`lose_threads`) when its form is next submitted."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self._alive: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def alive(self, import_id: int) -> bool:
        with self._lock:
            reader = self._alive.get(import_id)
        return bool(reader and reader.is_alive())

    def start(self, job: Job) -> None:
        reader = threading.Thread(
            target=self._run, args=(job,), name=f"import-{job.import_id}", daemon=True
        )
        with self._lock:
            self._alive[job.import_id] = reader
        reader.start()

    def _run(self, job: Job) -> None:
        try:
            self._read(job, hasty(job.client))
        except Exception:  # a thread of its own: the import hears of it, never hangs
            logger.exception("reading the threads of import %s", job.import_id)
            lost = self.store.lose_threads(job.team_id, job.import_id, STOPPED)
            if lost:
                job.moved(*lost)
        finally:
            with self._lock:
                self._alive.pop(job.import_id, None)

    def _on(self, job: Job) -> bool:
        state = self.store.get_import(job.team_id, job.import_id)
        return bool(state and state.status in ("open", "waiting"))

    def _read(self, job: Job, client: WebClient) -> None:
        left = list(job.parents)
        replies: list[dict[str, Any]] = []
        refused = 0
        while left:
            if not self._on(job):
                return  # kept, stopped or replaced: nothing more to read
            try:
                replies += read_thread(client, job.channel_id, left[0])
            except FAILURES as exc:
                wait = retry_after(exc)
                if wait is None or refused >= GIVE_UP:
                    logger.warning("replies in %s: %s", job.channel_id, reason(exc))
                    self._add(job, replies, 0, (len(left), f"Slack said `{reason(exc)}`"))
                    return
                refused += 1
                self._add(job, replies, len(left))  # what this minute read, shown now
                replies = []
                self._wait(job, wait)
                continue
            left.pop(0)
            refused = 0
        self._add(job, replies, 0)

    def _add(
        self, job: Job, replies: list[dict[str, Any]], left: int, unread: tuple[int, str] = (0, "")
    ) -> None:
        added = self.store.append_proposals(
            job.team_id, job.import_id, job.pages(replies) if replies else [], left, unread
        )
        if added and added[1]:
            job.moved(*added)

    def _wait(self, job: Job, seconds: float) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        while self.clock() < until and self._on(job):
            time.sleep(POLL_S)
