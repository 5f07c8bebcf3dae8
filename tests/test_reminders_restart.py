"""Reminders survive SIGKILL and downtime and never double: real processes on one SQLite file,
and the bot stopped and started again days later on the workflow's clock."""

import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest

from bot.sandbox import SIGNING_SECRET
from bot.sandbox.harness import serve
from bot.store import Store
from tests.conftest import forgive_dead_deliveries, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_process import bot_process

# resolved at t: reminders at t+2s and t+4s, the overdue notice at t+6s, no nudges
FAST = {
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "POSTMORTEM_DEADLINE": "6s",
    "REMINDERS_BEFORE": "4s,2s",
    "OVERDUE_NUDGE_EVERY": "off",
}


@pytest.fixture
def slack(slack):
    """The emulator, forgiving the events that found the killed process gone."""
    yield slack
    forgive_dead_deliveries(slack)


def dm_texts(slack, who):
    return [m.text for m in slack.ws.im(slack.user(who)).messages]


def start_and_resolve(slack, port):
    slack.app_url = f"http://127.0.0.1:{port}/slack/events"
    slack.command("alice", "/incident", "start Payments timing out sev1")
    channel = slack.posted_channel("inc-001")
    slack.command("alice", "/incident", "owner @bob @carol", channel.name)
    assert "resolved" in slack.command("alice", "/incident", "resolve", channel.name).text
    return channel, time.monotonic()


def assert_each_exactly_once(slack, channel):
    for who in ("bob", "carol"):
        assert dm_texts(slack, who).count("The hotfix-001 post-mortem is due soon") == 2, who
    assert dm_texts(slack, "alice").count("The hotfix-001 post-mortem is overdue") == 1
    assert len([m for m in channel.messages if "is overdue" in m.text]) == 1


@pytest.mark.parametrize("kill_after", [0.3, 2.8], ids=["before the first", "after the first"])
def test_sigkill_and_restart_still_sends_each_reminder_exactly_once(tmp_path, slack, kill_after):
    with bot_process(tmp_path, slack, **FAST) as first:
        channel, resolved = start_and_resolve(slack, first.port)
        time.sleep(max(0.0, kill_after - (time.monotonic() - resolved)))
        first.process.kill()  # SIGKILL: no cleanup, the lease stays behind
        first.process.wait(10)
    sent_before_restart = len(dm_texts(slack, "bob"))
    with bot_process(tmp_path, slack, **FAST) as second:
        slack.app_url = f"http://127.0.0.1:{second.port}/slack/events"
        wait_for(
            lambda: len([m for m in channel.messages if "is overdue" in m.text]) == 1,
            timeout=15,
            what="the overdue notice after the restart",
        )
        time.sleep(1.0)  # anything doubled would arrive now
        slack.wait_idle()
    assert second.process.returncode == 0, second.output
    assert sent_before_restart == (0 if kill_after < 2 else 1)
    assert_each_exactly_once(slack, channel)


def test_two_processes_on_one_database_do_not_double_reminders(tmp_path, slack):
    with ExitStack() as stack:
        first = stack.enter_context(bot_process(tmp_path, slack, **FAST))
        second = stack.enter_context(bot_process(tmp_path, slack, **FAST))
        channel, _ = start_and_resolve(slack, second.port)  # the second serves the commands
        wait_for(
            lambda: len([m for m in channel.messages if "is overdue" in m.text]) == 1,
            timeout=15,
            what="the overdue notice",
        )
        time.sleep(1.0)
        slack.wait_idle()
    assert_each_exactly_once(slack, channel)
    assert first.process.returncode == 0 and second.process.returncode == 0


# --- down for days: what was missed goes out once ---------------------------------------------

DAILY = {"POSTMORTEM_DEADLINE": "24h", "REMINDERS_BEFORE": "4h", "OVERDUE_NUDGE_EVERY": "1d"}


def settled(running, clock):
    """Nothing is being sent and nothing is due: what the bot had to send at start has gone."""
    due = [r for r in running.sender.reminders.pending() if r.due_at <= clock()]
    return not running.scheduler.busy and not due


@contextmanager
def up(slack, config, store, clock):
    """The bot, running until what was due when it started has gone out."""
    with serve(slack, config, store, clock) as running:
        yield running
        wait_for(lambda: settled(running, clock), timeout=20, what="the reminders that were due")


def overdue_dms(slack, who):
    return [t for t in dm_texts(slack, who) if "overdue" in t]


def test_down_from_the_resolution_for_a_week_sends_one_overdue_dm_each(tmp_path, slack, clock):
    """The report: killed after resolution, restarted a week later, the bot sent seven
    identical "overdue" DMs within seven seconds, one per missed nudge."""
    config = make_config(tmp_path, slack, **DAILY)
    store = Store(config.database_path)
    with up(slack, config, store, clock):
        channel = open_incident(slack)
        slack.command("alice", "/incident", "owner @bob", channel.name)
        slack.command("alice", "/incident", "resolve", channel.name)
    clock.start += timedelta(days=8)  # the deadline was 7 days ago: 7 nudges missed
    with up(slack, config, store, clock) as running:
        pass
    assert overdue_dms(slack, "alice") == ["The hotfix-001 post-mortem is overdue"]
    assert overdue_dms(slack, "bob") == ["The hotfix-001 post-mortem is overdue"]
    assert len([m for m in channel.messages if "is overdue" in m.text]) == 1
    (nudge,) = [r for r in running.sender.reminders.pending() if r.kind == "nudge"]
    assert nudge.due_at > clock() + timedelta(hours=23), "the next one a day later"
    store.close()


def test_down_over_a_weekend_sends_one_nudge_not_three(tmp_path, slack, clock):
    config = make_config(tmp_path, slack, **DAILY)
    store = Store(config.database_path)
    with up(slack, config, store, clock):  # Thursday 15:30
        channel = open_incident(slack)
        slack.command("alice", "/incident", "owner @bob", channel.name)
        slack.command("alice", "/incident", "resolve", channel.name)
    clock.start += timedelta(days=1, minutes=5)  # Friday, just past the deadline
    with up(slack, config, store, clock):
        pass
    assert overdue_dms(slack, "alice") == ["The hotfix-001 post-mortem is overdue"]
    assert overdue_dms(slack, "bob") == []  # the owners' nudges come a day later
    clock.start += timedelta(days=3)  # down from Friday to Monday
    with up(slack, config, store, clock) as running:
        pass
    assert overdue_dms(slack, "bob") == ["The hotfix-001 post-mortem is overdue"]
    assert len([m for m in channel.messages if "is overdue" in m.text]) == 1
    (nudge,) = [r for r in running.sender.reminders.pending() if r.kind == "nudge"]
    assert nudge.due_at > clock() + timedelta(hours=23), "Tuesday, a day after Monday's"
    store.close()
