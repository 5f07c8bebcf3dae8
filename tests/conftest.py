"""Shared fixtures: the strict Slack emulator, a real SQLite file, the bot over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
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


def mark_done_dm(slack, who):
    """The DM the bot sent `who` with a "Mark done" button (an action item they own), once
    it is there."""
    return wait_for(
        lambda: next(
            (m for m in slack.ws.im(slack.user(who)).messages if "action_done" in str(m.blocks)),
            None,
        ),
        what=f"{who}'s Mark done DM",
    )


def recorded(reply: Any) -> bool:
    """`/timeline` answered with an empty ack: stored, its echo in the channel follows."""
    return bool(reply.status == 200 and reply.body == "")


class Clock:
    """A settable clock for the workflow; starts at a fixed UTC time and stays there."""

    running = False

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class RunningClock:
    """A clock that runs at the real pace from a fixed UTC moment: for tests that wait for
    something (a reminder due in 3 s), whatever day they run on."""

    running = True

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


START = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # the default moment: an ordinary Thursday
# Moments where dates misbehave: a few seconds before a DST switch (Europe), a year end, and
# the end of a leap day. Date-sensitive tests run at each of them.
MOMENTS = {
    "dst": datetime(2026, 3, 29, 0, 59, 57, tzinfo=UTC),
    "year-end": datetime(2026, 12, 31, 23, 59, 57, tzinfo=UTC),
    "leap-day": datetime(2028, 2, 29, 23, 59, 57, tzinfo=UTC),
}


@pytest.fixture
def slack() -> Iterator[Emulator]:
    scopes = manifest_scopes()  # the sandbox grants exactly what manifest.yml asks for
    assert scopes is not None
    with Emulator(scopes=scopes) as emulator:
        yield emulator
        emulator.wait_idle()
        assert emulator.problems == [], "Slack refused something the bot sent"


def forgive_dead_deliveries(slack: Emulator) -> None:
    """For tests that kill the bot's process: the events of what it did last (its messages,
    its pin: the manifest subscribes to message.channels and pin_added) find nobody, as
    Slack's would until its retries; that is not something the bot sent wrong."""
    slack.wait_idle()
    slack.problems[:] = [p for p in slack.problems if not p.startswith("event delivery failed")]


def make_config(tmp_path: Path, slack: Emulator, **overrides: str) -> Config:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "data" / "incidents.db"),
        # reminders at any hour: the tests of other rules run at odd hours on purpose (MOMENTS);
        # those of working hours give REMINDER_HOURS (`""`: its default)
        "REMINDER_HOURS": "always",
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
def clock(request: pytest.FixtureRequest) -> Clock | RunningClock:
    """The workflow's clock: running from START, or from the moment a test is parametrized
    with (`@pytest.mark.parametrize("clock", MOMENTS.values(), indirect=True)`); tests may
    override it with a stopped `Clock(...)`. Nothing a test expects reads the wall clock."""
    return RunningClock(getattr(request, "param", START))


@pytest.fixture
def bot(
    slack: Emulator, config: Config, store: Store, clock: Clock | RunningClock
) -> Iterator[RunningBot]:
    with serve(slack, config, store, clock) as running:
        yield running


@pytest.fixture
def channel(slack: Emulator, bot: RunningBot) -> Any:
    """An incident opened by alice, its channel set up: "Checkout API returning 500s", SEV2."""
    from tests.test_incident_commands import open_incident

    return open_incident(slack)


def render_draft(store: Store, clock: Any, incident: Any) -> tuple[str, str, list[str]]:
    """(postmortem.md, hotfix.md, readiness) of an incident as the bot would draft it now."""
    from bot.drafts import Drafts
    from bot.incidents import Incidents
    from bot.postmortem import DEFAULT_TEMPLATES
    from bot.retro import Retro
    from bot.sections import load_sections

    retro = Retro(store, clock, load_sections(DEFAULT_TEMPLATES))
    drafts = Drafts(Incidents(store, clock), retro, DEFAULT_TEMPLATES, clock)
    return drafts.render(incident)
