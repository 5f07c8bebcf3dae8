"""Shared fixtures: the strict Slack emulator, a real SQLite file, the bot over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, load_config
from bot.manifest import manifest_scopes
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator
from bot.sandbox.harness import RunningBot, serve
from bot.store import Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def wait_for(condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy (work the bot does after its ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Clock:
    """A settable clock for the workflow; starts at a fixed UTC time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def slack() -> Iterator[Emulator]:
    scopes = manifest_scopes()  # the sandbox grants exactly what manifest.yml asks for
    assert scopes is not None
    with Emulator(scopes=scopes) as emulator:
        yield emulator
        emulator.wait_idle()
        assert emulator.problems == [], "Slack refused something the bot sent"


def make_config(tmp_path: Path, slack: Emulator, **overrides: str) -> Config:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "data" / "incidents.db"),
        **overrides,
    }
    return load_config(env)


@pytest.fixture
def config(tmp_path: Path, slack: Emulator) -> Config:
    return make_config(tmp_path, slack)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    store = Store(config.database_path)
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock | None:
    """Tests that need a fixed time override this; by default the bot uses the real clock."""
    return None


@pytest.fixture
def bot(slack: Emulator, config: Config, store: Store, clock: Clock | None) -> Iterator[RunningBot]:
    with serve(slack, config, store, clock) as running:
        yield running
