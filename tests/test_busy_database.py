"""Another process holds the database: reads still answer, and work after the ack completes
or is undone with the person told (issue 12)."""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.store import Store
from tests.conftest import wait_for
from tests.test_incident_commands import open_incident


@contextmanager
def held(database: Path, seconds: float | None = None) -> Iterator[None]:
    """Another writer (a backup, a migration, a second process) holds SQLite's write lock;
    released after `seconds` by a thread of its own, or when the block ends."""
    blocker = sqlite3.connect(database, timeout=1, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            blocker.rollback()

    timer = threading.Timer(seconds, release) if seconds is not None else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        release()
        blocker.close()


def test_commands_that_only_read_answer_a_newcomer_while_another_process_writes(slack, bot, config):
    channel = open_incident(slack)
    slack.command("bob", "/timeline", "checkout errors at 30%", channel.name)
    bot.settle()
    slack.ws.add_user("newcomer")  # never typed a command: the bot does not know their name
    with held(config.database_path):
        for where, command, text, expected in [
            ("general", "/incident", "help", "/incident start"),
            ("general", "/incident", "list", "hotfix-001"),
            (channel.name, "/incident", "status", "hotfix-001"),
            (channel.name, "/timeline", "", "checkout errors at 30%"),
            (channel.name, "/incident", "actions", "action"),
        ]:
            started = time.monotonic()
            reply = slack.command("newcomer", command, text, where)
            assert time.monotonic() - started < 3.0, f"{command} {text}: Slack's deadline"
            assert "busy" not in reply.body, f"{command} {text}: {reply.text}"
            assert expected in reply.body, f"{command} {text}: {reply.body[:300]}"
    assert not slack.problems


@pytest.fixture
def store(config, request) -> Iterator[Store]:
    """The bot's store; a test parametrizes how long writes after the ack wait (seconds)."""
    store = Store(config.database_path, after_ack_wait_s=getattr(request, "param", 30.0))
    yield store
    store.close()


def test_a_start_completes_when_the_database_is_busy_for_8_seconds_after_the_ack(
    slack, bot, config
):
    slack.api.delays["conversations.create"] = 0.5  # the lock is taken while Slack works
    reply = slack.command("alice", "/incident", "start api gateway down sev1")
    assert "hotfix-001" in reply.text
    with held(config.database_path, seconds=8):
        time.sleep(0.1)
    channel = wait_for(
        lambda: next((c for c in slack.ws.channels.values() if c.name.startswith("inc-")), None),
        what="the channel",
    )
    wait_for(lambda: channel.messages, timeout=15, what="the kick-off")
    done = wait_for(
        lambda: next((e for e in slack.ephemerals("alice") if "is open in" in e.text), None),
        timeout=15,
        what="the starter is told",
    )
    assert f"<#{channel.id}>" in done.text and "failed" not in done.text
    (incident,) = bot.store.open_incidents(slack.ws.team_id)
    assert incident.channel_id == channel.id and incident.kickoff_ts
    in_channel = slack.command("alice", "/incident", "status", channel.name)
    assert "hotfix-001" in in_channel.text and "not an incident channel" not in in_channel.body


@pytest.mark.parametrize("store", [2.0], indirect=True)
def test_a_start_the_database_never_lets_keep_is_undone_and_the_starter_told(slack, bot, config):
    slack.api.delays["conversations.create"] = 0.5
    slack.command("alice", "/incident", "start api gateway down sev1")
    with held(config.database_path, seconds=6):
        time.sleep(0.1)
        told = wait_for(
            lambda: next((e for e in slack.ephemerals("alice") if "not opened" in e.text), None),
            timeout=10,
            what="the starter is told",
        )
    assert "database stayed busy" in told.text and "(now archived)" in told.text
    assert "/incident start api gateway down sev1" in told.text
    (made,) = [c for c in slack.ws.channels.values() if c.name.startswith("inc-")]
    assert made.is_archived, "no channel without its incident"
    bot.settle()
    again = slack.command("alice", "/incident", "start api gateway down sev1")
    assert "hotfix-001" in again.text, "the retry is the same incident number, not hotfix-002"
    wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")), what="open")
    (incident,) = bot.store.open_incidents(slack.ws.team_id)
    assert incident.number == 1 and incident.channel_id not in (None, made.id)


@pytest.mark.parametrize("store", [1.0], indirect=True)
def test_work_after_the_ack_that_fails_for_good_is_told_to_the_person(slack, bot, config, channel):
    slack.api.delays["conversations.setTopic"] = 0.5  # the lock comes while Slack works
    reply = slack.command("alice", "/incident", "resolve", channel.name)
    assert "resolved" in reply.text
    with held(config.database_path, seconds=4):
        told = wait_for(
            lambda: next(
                (e for e in slack.ephemerals("alice") if "not all of it happened" in e.text),
                None,
            ),
            what="the person is told",
        )
    assert told.text.startswith(":warning: `/incident resolve` was answered")
    assert "database stayed busy" in told.text and "Traceback" not in told.text


@pytest.mark.parametrize("store", [1.0], indirect=True)
def test_an_action_items_owner_hears_of_it_even_if_the_database_is_busy_after_the_form(
    slack, bot, config, channel
):
    slack.command("alice", "/incident", "action", channel.name)
    slack.api.delays["chat.postMessage"] = 0.5  # the lock comes while Slack works
    slack.submit(
        "alice",
        {
            "text": "Alert on config pushes",
            "owner": slack.user("bob"),
            "due": "2027-02-01",
            "priority": "short-term",
            "why": None,
        },
    )
    with held(config.database_path, seconds=4):
        told = wait_for(
            lambda: [
                m.text
                for m in slack.ws.im(slack.user("alice")).messages
                if "not all of it happened" in m.text
            ],
            timeout=10,
            what="alice is told",
        )
    slack.api.delays.clear()
    bot.settle()
    owned = [m for m in slack.ws.im(slack.user("bob")).messages if "You own AI-001" in m.text]
    assert len(owned) == 1, "the owner's DM goes first: it needs no database"
    assert "database stayed busy" in told[0] and "try again" not in told[0]
