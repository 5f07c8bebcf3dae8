"""Faults: a process killed mid-load, Slack's retried events. Nothing acknowledged is lost."""

import http.client
import json
import sqlite3
import threading
import time
import urllib.error

import pytest

from bot.sandbox import SIGNING_SECRET
from tests.conftest import forgive_dead_deliveries, recorded, wait_for
from tests.test_process import bot_process


@pytest.fixture
def slack(slack):
    """The emulator, forgiving the events that found a killed process gone."""
    yield slack
    forgive_dead_deliveries(slack)


def test_sigkill_with_50_timeline_commands_in_flight_loses_no_acked_entry(tmp_path, slack):
    with bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
        slack.app_url = f"http://127.0.0.1:{bot.port}/slack/events"
        slack.command("alice", "/incident", "start Killed under load")
        channel = slack.posted_channel("inc-")
        acked: list[str] = []
        lock = threading.Lock()

        def send(n: int) -> None:
            text = f"entry number {n}"
            try:
                reply = slack.command("bob", "/timeline", text, channel.name)
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                return  # cut off by the kill: never acknowledged
            if recorded(reply):
                with lock:
                    acked.append(text)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= 10, what="some acks")
        bot.process.kill()  # SIGKILL while the rest are in flight
        for t in threads:
            t.join(15)
    slack.problems.clear()  # the requests cut off by the kill
    database = tmp_path / "deep" / "incidents.db"
    texts = [
        r[0]
        for r in sqlite3.connect(database).execute(
            "SELECT text FROM timeline WHERE text LIKE 'entry number %'"
        )
    ]
    assert len(texts) == len(set(texts)), "an entry was stored twice"
    assert 0 < len(acked) < 50, "the kill came while commands were in flight"
    assert set(acked) <= set(texts), f"acknowledged but lost: {set(acked) - set(texts)}"
    with bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as again:
        slack.app_url = f"http://127.0.0.1:{again.port}/slack/events"
        listing = slack.command("carol", "/timeline", "", channel.name)
        assert listing.status == 200 and "entry number" in listing.body


def test_slacks_retried_events_do_no_work_twice(slack, bot):
    from tests.test_incident_commands import open_incident

    channel = open_incident(slack, text="start --private vault sealed")
    event = {
        "type": "event_callback",
        "team_id": slack.ws.team_id,
        "api_app_id": "A0",
        "event_id": "Ev0RETRY",
        "event_time": int(time.time()),
        "event": {
            "type": "member_joined_channel",
            "user": slack.user("carol"),
            "channel": channel.id,
            "channel_type": "G",
            "team": slack.ws.team_id,
            "event_ts": "1.0",
        },
    }
    body = json.dumps(event).encode()
    for retry in ("", "1", "2"):
        headers = (
            {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        )
        assert slack.send(body, "application/json", headers=headers).status == 200
    bot.settle()
    rows = list(
        bot.store.db.query("SELECT * FROM members WHERE user_id = ?", [slack.user("carol")])
    )
    assert len(rows) == 1


def test_a_database_held_by_another_writer_is_a_clear_answer_in_time(slack, bot, config):
    from tests.test_incident_commands import open_incident

    channel = open_incident(slack)
    blocker = sqlite3.connect(config.database_path, timeout=1)
    blocker.execute("BEGIN IMMEDIATE")  # a backup or a migration holding the write lock
    try:
        started = time.monotonic()
        reply = slack.command("bob", "/timeline", "during the lock", channel.name)
        assert time.monotonic() - started < 3.0, "Slack's deadline"
        assert reply.json["response_type"] == "ephemeral"
        assert "database is busy" in reply.text and "nothing was recorded" in reply.text
    finally:
        blocker.rollback()
        blocker.close()
    after = slack.command("bob", "/timeline", "after the lock", channel.name)
    assert recorded(after)  # recovered by itself
    texts = [e.text for e in bot.store.entries(slack.ws.team_id, 1)]
    assert "after the lock" in texts and "during the lock" not in texts


def test_a_full_disk_is_a_clear_answer_and_nothing_half_written(slack, bot):
    from concurrent.futures import ThreadPoolExecutor

    from tests.test_incident_commands import open_incident

    channel = open_incident(slack)
    with ThreadPoolExecutor(16) as pool:  # every listener thread opens its connection
        list(pool.map(lambda _: slack.command("bob", "/timeline", "", channel.name), range(48)))
    slack.command("bob", "/timeline", "before", channel.name)  # and the entry writer its own
    pages = bot.store.db.execute("PRAGMA page_count").fetchone()[0]
    connections = list(bot.store._all)
    for conn in connections:  # what a full disk imposes: not one page more
        conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        replies = [
            (n, slack.command("bob", "/timeline", f"{n} " + "x" * 2900, channel.name))
            for n in range(40)
        ]
    finally:
        for conn in connections:
            conn.execute("PRAGMA max_page_count = 1073741823")
    refused = [r for _, r in replies if not recorded(r)]
    assert refused, "the disk never filled up"
    assert all("disk is full" in r.text and "nothing was recorded" in r.text for r in refused), [
        r.text for r in refused
    ]
    stored = [
        e.text.split()[0] for e in bot.store.entries(slack.ws.team_id, 1) if e.text.endswith("xxx")
    ]
    acked = [str(n) for n, r in replies if recorded(r)]
    assert stored == acked, "what was acknowledged is stored, nothing else"
    assert recorded(slack.command("bob", "/timeline", "space again", channel.name))
