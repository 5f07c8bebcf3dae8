"""Attack: a reminder DM Slack accepted, whose record the database does not take (another
process holds it longer than background writes wait): is it sent again?"""

import threading
import time
from collections.abc import Iterator

import pytest

from bot.store import Store
from tests.conftest import make_config, wait_for
from tests.test_busy_database import held
from tests.test_incident_commands import open_incident


@pytest.fixture
def config(tmp_path, slack):
    return make_config(
        tmp_path,
        slack,
        POSTMORTEM_DEADLINE="60s",
        REMINDERS_BEFORE="50s",
        OVERDUE_NUDGE_EVERY="off",
    )


@pytest.fixture
def store(config) -> Iterator[Store]:
    # background writes wait 1 s here instead of 30: the same code path, a shorter test
    store = Store(config.database_path, after_ack_wait_s=1.0)
    yield store
    store.close()


def due_soon(slack, who):
    return [m for m in slack.ws.im(slack.user(who)).messages if "is due soon" in m.text]


def test_a_reminder_dm_whose_record_failed_is_sent_again(slack, bot, config):
    channel = open_incident(slack)
    bot.settle()
    seen = 0

    def hold_when_the_reminder_goes():
        # the sender asks users.info just before the DM: then a backup takes the database
        wait_for(
            lambda: any(m == "users.info" for m, _ in slack.api.calls[seen:]),
            timeout=15,
            what="the reminder",
        )
        with held(config.database_path, seconds=2.2):
            caught.append([m for m, _ in slack.api.calls[seen:]])

    caught = []
    holder = threading.Thread(target=hold_when_the_reminder_goes)
    slack.command("alice", "/incident", "resolve", channel.name)  # the reminder is 10 s later
    bot.settle()  # the checklist and the first draft (which asks users.info too) are done
    assert not due_soon(slack, "alice")
    seen = len(slack.api.calls)
    slack.api.delays["chat.postMessage"] = 0.5  # Slack takes its time with the DM
    holder.start()
    holder.join(timeout=20)
    time.sleep(4.0)
    slack.api.delays.clear()
    bot.settle()
    got = due_soon(slack, "alice")
    rows = [dict(r) for r in bot.store.db.query("SELECT id, kind, status, attempts FROM reminders")]
    assert len(got) == 1, f"alice got the same reminder {len(got)} times ({rows}, {caught})"
    assert rows and rows[0]["status"] == "sent", rows
    assert caught, "the database was held while the reminder went"
