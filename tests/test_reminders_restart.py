"""Reminders survive SIGKILL and never double, with real processes on one SQLite file."""

import time
from contextlib import ExitStack

import pytest

from bot.sandbox import SIGNING_SECRET
from tests.conftest import wait_for
from tests.test_process import bot_process

# resolved at t: reminders at t+2s and t+4s, the overdue notice at t+6s, no nudges
FAST = {
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "POSTMORTEM_DEADLINE": "6s",
    "REMINDERS_BEFORE": "4s,2s",
    "OVERDUE_NUDGE_EVERY": "off",
}


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
