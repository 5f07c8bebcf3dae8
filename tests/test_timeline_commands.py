"""`/timeline` and the "Add to timeline" shortcut, end to end over HTTP."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Milestone
from tests.conftest import Clock, wait_for
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def channel(slack, bot):
    return open_incident(slack)


def entries(bot, slack, channel):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    return bot.store.entries(slack.ws.team_id, incident.id)


def test_an_entry_is_stored_then_echoed_to_the_channel(slack, bot, channel, clock):
    clock.now = T0 + timedelta(minutes=20)
    reply = slack.command(
        "bob", "/timeline", "15:35 detected: PagerDuty alert on checkout 5xx", channel.name
    )
    assert reply.json["response_type"] == "in_channel"
    echo = str(reply.json["blocks"])
    assert "15:35 UTC" in echo and "First detection" in echo
    assert "<!date^" in echo, "readers should see their local time too"
    assert channel.messages[-1].text == reply.json["text"]  # the channel saw it

    entry = entries(bot, slack, channel)[-1]
    assert entry.at == datetime(2026, 11, 26, 15, 35, tzinfo=UTC)
    assert entry.milestone is Milestone.DETECTED
    assert entry.author_id == slack.user("bob")
    assert entry.text == "PagerDuty alert on checkout 5xx"


def test_times_now_backdated_relative_and_with_offsets(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    for text in (
        "now entry",
        "16:00 clock entry",
        "-15m relative entry",
        "2026-11-26 15:45 dated entry",
        "17:10+01:00 offset entry",
    ):
        assert slack.command("alice", "/timeline", text, channel.name).status == 200
    got = {e.text: e.at.strftime("%H:%M") for e in entries(bot, slack, channel)}
    assert got["now entry"] == "16:30"
    assert got["clock entry"] == "16:00"
    assert got["relative entry"] == "16:15"
    assert got["dated entry"] == "15:45"
    assert got["offset entry"] == "16:10"


def test_list_is_numbered_and_chronological(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/timeline", "16:20 second", channel.name)
    slack.command("bob", "/timeline", "15:50 first", channel.name)
    reply = slack.command("carol", "/timeline", "", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    listing = "\n".join(b["text"]["text"] for b in reply.json["blocks"] if "text" in b)
    assert (
        listing.index("1. `2026-11-26 15:30` *Incident began*")
        < listing.index("2. `2026-11-26 15:50` first")
        < listing.index("3. `2026-11-26 16:20` second")
    )


def test_edit_and_delete_by_author_or_commander_only(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/timeline", "16:00 fix: rolled back", channel.name)

    refused = slack.command("carol", "/timeline", "edit 2 hijacked", channel.name)
    assert "Only the entry's author" in refused.text
    assert entries(bot, slack, channel)[1].text == "rolled back"

    edited = slack.command("bob", "/timeline", "edit 2 16:05 rolled back to v41", channel.name)
    assert edited.json["response_type"] == "in_channel"
    entry = entries(bot, slack, channel)[1]
    assert (entry.text, entry.at.strftime("%H:%M"), entry.milestone) == (
        "rolled back to v41",
        "16:05",
        Milestone.FIX,
    )

    assert (
        "Only the entry's author"
        in slack.command("carol", "/timeline", "delete 2", channel.name).text
    )
    deleted = slack.command("alice", "/timeline", "delete 2", channel.name)  # the commander
    assert "Deleted entry 2" in deleted.text
    assert [e.text for e in entries(bot, slack, channel)] == ["Checkout API returning 500s"]

    assert "no entry `7`" in slack.command("alice", "/timeline", "delete 7", channel.name).text
    assert "stays" in slack.command("alice", "/timeline", "delete 1", channel.name).text


def test_a_new_commander_may_delete_at_once(slack, bot, channel):
    """Entries are recorded without a database read (the incident as last read), but who may
    edit or delete is decided on the incident as it is now."""
    slack.command("bob", "/timeline", "cache warmed by this entry", channel.name)
    assert (
        "Only the entry's author"
        in slack.command("carol", "/timeline", "delete 2", channel.name).text
    )
    slack.command("alice", "/incident", "commander @carol", channel.name)
    assert "Deleted entry 2" in slack.command("carol", "/timeline", "delete 2", channel.name).text


def test_words_edit_and_delete_without_a_number_are_plain_entries(slack, bot, channel):
    slack.command("alice", "/timeline", "delete the bad cache keys", channel.name)
    assert entries(bot, slack, channel)[-1].text == "delete the bad cache keys"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2099-01-01 10:00 later", "in the future"),
        ("25:99 nonsense", "not a time of day"),
        ("detected:", "What happened?"),
        ("y" * 3001, "the limit is 3,000"),
    ],
)
def test_bad_entries_are_refused_and_not_stored(slack, bot, channel, text, expected):
    before = len(entries(bot, slack, channel))
    reply = slack.command("alice", "/timeline", text, channel.name)
    assert reply.json["response_type"] == "ephemeral" and expected in reply.text
    assert len(entries(bot, slack, channel)) == before


def test_timeline_outside_an_incident_channel(slack, bot):
    reply = slack.command("alice", "/timeline", "hello", "general")
    assert reply.json["response_type"] == "ephemeral"
    assert "only in an incident channel" in reply.text


def test_user_text_is_data_decoded_once_and_escaped_once(slack, bot, channel):
    typed = "<!channel> @here & <b>bold</b> {{ config }} | pipes"
    reply = slack.command("alice", "/timeline", typed, channel.name)
    stored = entries(bot, slack, channel)[-1].text
    assert stored == typed  # what the person typed, exactly
    shown = json.dumps(reply.json)
    assert "<!channel>" not in shown and "<!here>" not in shown, "the channel would be pinged"
    assert "&lt;!channel&gt;" in shown
    assert "&amp;lt;" not in shown and "&amp;amp;" not in shown, "double-escaped"


def test_mentions_are_stored_as_names(slack, bot, channel):
    slack.command("alice", "/timeline", "@bob restarted the pods", channel.name)
    assert entries(bot, slack, channel)[-1].text == "@bob restarted the pods"


def test_shortcut_adds_a_message_with_its_own_time_and_author(slack, bot, channel):
    message = slack.say("carol", channel.name, "fix: feature flag checkout_v2 turned off by @bob")
    reply = slack.shortcut("alice", "add_to_timeline", channel.name, message)
    assert reply.status == 200
    entry = wait_for(lambda: [e for e in entries(bot, slack, channel) if e.source == "message"])[0]
    assert entry.author_id == slack.user("carol")
    assert entry.at == datetime.fromtimestamp(float(message.ts), UTC)
    assert entry.milestone is Milestone.FIX
    assert entry.text == "feature flag checkout_v2 turned off by @bob"
    wait_for(lambda: "feature flag" in channel.messages[-1].text, what="the echo")

    slack.shortcut("alice", "add_to_timeline", channel.name, message)  # twice: kept once
    wait_for(lambda: any("already in the timeline" in e.text for e in slack.ephemerals("alice")))
    assert len([e for e in entries(bot, slack, channel) if e.source == "message"]) == 1


def test_shortcut_outside_an_incident_channel_explains(slack, bot):
    message = slack.say("carol", "general", "lunch?")
    slack.shortcut("carol", "add_to_timeline", "general", message)
    wait_for(
        lambda: any("only in an incident channel" in e.text for e in slack.ephemerals("carol"))
    )
