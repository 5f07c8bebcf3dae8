"""Found by an adversarial review: the bot process dies (SIGKILL: out of memory, a host reboot,
a crash) between the ack and the end of its work, and a new process starts on the same
database: what was left half-made is undone or finished (bot/slack/recovery.py)."""

import signal
import time
from contextlib import contextmanager

import pytest

from bot.sandbox import SIGNING_SECRET
from tests import test_process
from tests.conftest import forgive_dead_deliveries, wait_for


@pytest.fixture
def slack(slack):
    """The emulator, forgiving the events that found the killed process gone."""
    yield slack
    forgive_dead_deliveries(slack)


@contextmanager
def bot_process(tmp_path, slack):
    """`python -m bot run` on the test's database (test_process.bot_process), receiving what
    the sandbox sends; yields its Popen, to be killed."""
    with test_process.bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
        slack.app_url = f"http://127.0.0.1:{bot.port}/slack/events"
        yield bot.process


def test_a_start_the_process_died_in_is_undone_and_its_starter_told(tmp_path, slack):
    slack.api.delays["conversations.create"] = 2.0
    with bot_process(tmp_path, slack) as first:
        reply = slack.command("alice", "/incident", "start api gateway down sev1")
        assert "hotfix-001" in reply.text  # alice is told it is opening
        time.sleep(0.5)  # the bot waits for Slack's channel
        first.send_signal(signal.SIGKILL)
        first.wait()
    time.sleep(2.0)  # Slack made the channel meanwhile
    slack.api.delays.clear()
    with bot_process(tmp_path, slack):
        told = wait_for(
            lambda: [m.text for m in slack.ws.im(slack.user("alice")).messages],
            timeout=10,
            what="alice is told",
        )
        listed = slack.command("bob", "/incident", "list")
        bob = slack.command("bob", "/incident", "start payments slow sev2")
        wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("bob")))
        slack.wait_idle()
    assert told[0].startswith(":warning: hotfix-001 was not opened: the bot was restarted")
    assert "`/incident start api gateway down sev1` again" in told[0]
    assert "hotfix-001" not in listed.body
    (made,) = [c for c in slack.ws.channels.values() if c.name == "inc-001-api-gateway-down"]
    assert made.is_archived, "no channel without its incident"
    assert "hotfix-001" in bob.text, "the number of the undone start is free again"


def test_a_resolve_the_process_died_in_gets_its_checklist_after_the_restart(tmp_path, slack):
    with bot_process(tmp_path, slack) as first:
        slack.command("alice", "/incident", "start api gateway down sev1")
        channel = slack.posted_channel("inc-001")
        wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")))
        slack.api.delays["conversations.setTopic"] = 3.0  # the step before the checklist
        reply = slack.command("alice", "/incident", "resolve", channel.name)
        assert "resolved" in reply.text
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
    slack.api.delays.clear()
    with bot_process(tmp_path, slack):
        time.sleep(2.0)
        # the team goes on writing the post-mortem, as if everything had happened
        slack.command("alice", "/incident", "write summary", channel.name)
        view = slack.modal("alice", wait=3)
        assert view is not None
        slack.submit("alice", {"text": "A config push broke the gateway."})
        time.sleep(2.0)
        slack.wait_idle()
    (checklist,) = [m for m in channel.messages if "Post-mortem checklist" in m.text]
    assert "Executive Summary" in str(checklist.blocks)


def test_a_timeline_entry_acked_before_the_process_died_is_shown_after_the_restart(tmp_path, slack):
    with bot_process(tmp_path, slack) as first:
        slack.command("alice", "/incident", "start api gateway down sev1")
        channel = slack.posted_channel("inc-001")
        wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")))
        # Slack asks the bot to slow down in that channel: slack_sdk waits out Retry-After
        slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=5, channel=channel.id)
        reply = slack.command(
            "bob", "/timeline", "detected: 5xx alert on the gateway", channel.name
        )
        assert reply.status == 200 and reply.body == ""  # recorded: its echo follows
        wait_for(lambda: ("chat.postMessage", "ratelimited") in slack.api.refused, what="429")
        first.send_signal(signal.SIGKILL)  # while it waits to post the echo
        first.wait()
    assert not [m for m in channel.messages if "5xx alert" in m.text]
    with bot_process(tmp_path, slack):
        shown = wait_for(
            lambda: [m for m in channel.messages if "5xx alert" in m.text],
            timeout=10,
            what="the entry shown",
        )
        slack.wait_idle()
    assert len(shown) == 1 and "#2" in shown[0].text
