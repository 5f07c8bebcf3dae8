"""The real bot in-process against the sandbox: for the tests, the demo and the playground."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.incidents import utcnow
from bot.publisher import Publisher
from bot.sandbox.server import Emulator
from bot.scheduler import ReminderScheduler
from bot.server import Health, create_http_server, create_wsgi, stop_http_server
from bot.slack.app import create_app, create_reminder_sender, repo_for
from bot.slack.echoes import Echoes
from bot.slack.executor import ListenerExecutor
from bot.slack.pacing import Pacer
from bot.slack.reminder_sender import ReminderSender
from bot.store import Store

Clock = Callable[[], datetime]


@dataclass
class RunningBot:
    url: str
    store: Store
    server: Any
    settle: Callable[[], None]
    publisher: Publisher
    sender: ReminderSender
    scheduler: ReminderScheduler


class TrackingExecutor(ListenerExecutor):
    """Bolt's listener pool, counting work in flight so tests can wait until the bot is idle."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = 0
        self._count = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        with self._count:
            self.pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Any) -> None:
        with self._count:
            self.pending -= 1


def settle(
    slack: Emulator, executor: TrackingExecutor, echoes: Echoes, timeout: float = 10.0
) -> None:
    """Wait until the bot has finished its after-ack work (timeline echoes too) and Slack has
    delivered its events."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        slack.wait_idle()
        echoes.wait_idle(max(0.0, deadline - time.monotonic()))
        quiet = quiet + 1 if executor.pending == 0 and slack.idle else 0
        time.sleep(0.01)


@contextmanager
def serve(
    slack: Emulator, config: Config, store: Store, clock: Clock | None = None
) -> Iterator[RunningBot]:
    """The bot on a real waitress server on 127.0.0.1, wired to the emulator."""
    executor = TrackingExecutor()
    publisher = Publisher(repo_for(config)).start()
    pacer = Pacer()
    echoes = Echoes(store, pacer, clock or utcnow)
    app = create_app(
        config,
        store,
        publisher,
        listener_executor=executor,
        clock=clock or utcnow,
        pacer=pacer,
        echoes=echoes,
    )
    health = Health(store)
    health.ready = True
    wsgi = create_wsgi(app, health, config.signing_secret)
    server = create_http_server(wsgi, "127.0.0.1", 0, threads=16)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"
    slack.app_url = url + "/slack/events"
    # The scheduler runs on a clock that moves: the real one, or a test's that runs from a
    # fixed moment; a stopped clock would never bring a reminder due.
    sender = create_reminder_sender(config, store, app.client, clock or utcnow)
    scheduler = ReminderScheduler(
        store, sender.reminders, sender.fire, lease_s=3, tick_s=0.2, clock=clock or utcnow
    )
    if clock is None or getattr(clock, "running", False):
        scheduler.start()
    try:
        yield RunningBot(
            url,
            store,
            server,
            lambda: settle(slack, executor, echoes),
            publisher,
            sender,
            scheduler,
        )
    finally:
        settle(slack, executor, echoes)
        publisher.wait_idle()
        scheduler.stop()
        settle(slack, executor, echoes)
        stop_http_server(server)
        executor.shutdown(wait=True)
        publisher.stop()
