"""`/timeline` and the "Add to timeline" shortcut, end to end over HTTP: entries, their echo in
the channel, stable numbers, edits, deletions, and what mistyped commands get."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Milestone
from tests.conftest import Clock, wait_for

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(T0)


def entries(bot, slack, channel, deleted=False):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    return bot.store.entries(slack.ws.team_id, incident.id, deleted=deleted)


def echo(bot, channel, number):
    """The channel message that shows entry #number (found by its block_id)."""
    bot.settle()
    return next(
        m
        for m in channel.messages
        if any(b.get("block_id") == f"timeline_entry_{number}" for b in m.blocks or [])
    )


def shown(message, number):
    """What the message shows for entry #number: its section and the context after it."""
    blocks = message.blocks
    i = next(i for i, b in enumerate(blocks) if b.get("block_id") == f"timeline_entry_{number}")
    parts = [blocks[i]["text"]["text"]]
    if i + 1 < len(blocks) and blocks[i + 1]["type"] == "context":
        parts.append(blocks[i + 1]["elements"][0]["text"])
    return "\n".join(parts)


def test_an_entry_is_stored_then_echoed_to_the_channel(slack, bot, channel, clock):
    clock.now = T0 + timedelta(minutes=20)
    reply = slack.command(
        "bob", "/timeline", "15:35 detected: PagerDuty alert on checkout 5xx", channel.name
    )
    assert reply.status == 200 and reply.body == ""  # the echo that follows is the answer
    entry = entries(bot, slack, channel)[-1]
    assert entry.at == datetime(2026, 11, 26, 15, 35, tzinfo=UTC)
    assert entry.milestone is Milestone.DETECTED
    assert entry.author_id == slack.user("bob")
    assert entry.text == "PagerDuty alert on checkout 5xx"
    assert entry.number == 2

    text = shown(echo(bot, channel, 2), 2)
    assert "15:35 UTC" in text and "First detection" in text
    assert "#2" in text and f"<@{slack.user('bob')}>" in text
    assert "<!date^" in text, "each reader sees their own local time too"
    assert "2026-11-26" not in text.split("\n")[0], "no date when it is today"


def test_entries_that_arrive_together_share_one_message(slack, bot, channel, clock):
    for n in range(5):
        slack.command("bob", "/timeline", f"step {n}", channel.name)
    bot.settle()
    echoes = {id(echo(bot, channel, n)) for n in range(2, 7)}
    assert len(echoes) < 5, "paced: one message per second per channel at most"
    assert [e.number for e in entries(bot, slack, channel)] == [1, 2, 3, 4, 5, 6]


def test_list_is_in_time_order_with_stable_numbers(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/timeline", "16:20 second", channel.name)
    slack.command("bob", "/timeline", "15:50 first", channel.name)
    reply = slack.command("carol", "/timeline", "", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    listing = "\n".join(b["text"]["text"] for b in reply.json["blocks"] if "text" in b)
    assert (
        listing.index("`#1` `2026-11-26 15:30` *Incident began*")
        < listing.index("`#3` `2026-11-26 15:50` first")
        < listing.index("`#2` `2026-11-26 16:20` second")
    )
    assert slack.command("carol", "/timeline", "list", channel.name).json["blocks"]


def test_numbers_never_move_and_a_deleted_number_is_not_reused(slack, bot, channel, clock):
    for text in ("twelve", "thirteen", "fourteen"):
        slack.command("bob", "/timeline", text, channel.name)
    # the list shows #2, #3, #4: delete #2 then #3 deletes what the list showed as #3
    slack.command("bob", "/timeline", "delete 2", channel.name)
    slack.command("bob", "/timeline", "delete #3", channel.name)
    assert [e.text for e in entries(bot, slack, channel)][1:] == ["fourteen"]
    slack.command("bob", "/timeline", "fifteen", channel.name)
    assert [(e.number, e.text) for e in entries(bot, slack, channel)][1:] == [
        (4, "fourteen"),
        (5, "fifteen"),
    ]
    again = slack.command("bob", "/timeline", "delete 2", channel.name)
    assert "was deleted" in again.text
    listing = json.dumps(slack.command("bob", "/timeline", "", channel.name).json)
    assert "deleted: #2, #3" in listing


def test_a_deleted_entry_is_marked_in_its_message_so_nobody_quotes_it(slack, bot, channel):
    slack.command("bob", "/timeline", "password is hunter2, oops", channel.name)
    message = echo(bot, channel, 2)
    assert "hunter2" in shown(message, 2)
    reply = slack.command("bob", "/timeline", "delete 2", channel.name)
    assert reply.json["response_type"] == "ephemeral" and "Deleted entry #2" in reply.text
    bot.settle()
    assert "hunter2" not in json.dumps(message.blocks) + message.text
    assert "was deleted by" in shown(message, 2)
    assert message.ts == echo(bot, channel, 2).ts, "edited in place"


def test_edit_and_delete_by_author_or_commander_only(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/timeline", "16:00 fix: rolled back", channel.name)

    refused = slack.command("carol", "/timeline", "edit 2 hijacked", channel.name)
    assert "Only the entry's author" in refused.text
    assert entries(bot, slack, channel)[1].text == "rolled back"

    edited = slack.command("bob", "/timeline", "edit 2 16:05 rolled back to v41", channel.name)
    assert edited.json["response_type"] == "ephemeral" and "#2" in edited.text
    entry = entries(bot, slack, channel)[1]
    assert (entry.text, entry.at.strftime("%H:%M"), entry.milestone) == (
        "rolled back to v41",
        "16:05",
        Milestone.FIX,
    )
    text = shown(echo(bot, channel, 2), 2)
    assert "rolled back to v41" in text and "16:05 UTC" in text and "edited by" in text

    slack.command("bob", "/timeline", "edit 2 16:10", channel.name)  # only the time
    assert entries(bot, slack, channel)[1].text == "rolled back to v41"
    assert entries(bot, slack, channel)[1].at.strftime("%H:%M") == "16:10"

    assert (
        "Only the entry's author"
        in slack.command("carol", "/timeline", "delete 2", channel.name).text
    )
    deleted = slack.command("alice", "/timeline", "delete 2", channel.name)  # the commander
    assert "Deleted entry #2" in deleted.text
    assert [e.text for e in entries(bot, slack, channel)] == ["Checkout API returning 500s"]

    assert "no entry #7" in slack.command("alice", "/timeline", "delete 7", channel.name).text
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
    assert "Deleted entry #2" in slack.command("carol", "/timeline", "delete 2", channel.name).text


@pytest.mark.parametrize(
    "typed",
    ["delete", "delete two", "edit", "edit two foo", "edit 2", "delete the bad cache keys"],
)
def test_mistyped_edit_and_delete_get_the_usage_not_an_entry(slack, bot, channel, typed):
    reply = slack.command("alice", "/timeline", typed, channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "/timeline edit N" in reply.text or "What changes" in reply.text
    assert len(entries(bot, slack, channel)) == 1
    bot.settle()
    assert len(channel.messages) == 1, "nothing posted to the channel"


def test_a_word_like_delete_can_start_an_entry_after_a_time(slack, bot, channel, clock):
    reply = slack.command("alice", "/timeline", "delete the cache", channel.name)
    assert "put the time first" in reply.text
    slack.command("alice", "/timeline", "15:29 delete the bad cache keys", channel.name)
    assert entries(bot, slack, channel)[0].text == "delete the bad cache keys"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2099-01-01 10:00 later", "from now"),
        ("+10m monitoring: watching", "10 minutes from now"),
        ("25:99 nonsense", "not a time of day"),
        ("14h65 nonsense", "not a time of day"),
        ("3:1 odds", "looks like a time"),
        ("detected:", "What happened?"),
        ("y" * 3001, "the limit is 3,000"),
    ],
)
def test_bad_entries_are_refused_and_not_stored(slack, bot, channel, text, expected):
    before = len(entries(bot, slack, channel))
    reply = slack.command("alice", "/timeline", text, channel.name)
    assert reply.json["response_type"] == "ephemeral" and expected in reply.text
    assert len(entries(bot, slack, channel)) == before


def test_a_time_like_prefix_is_understood_not_kept_as_text(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/timeline", "14h05 foo", channel.name)
    slack.command("alice", "/timeline", "4:20pm bar", channel.name)
    got = {e.text: e.at for e in entries(bot, slack, channel)}
    assert got["foo"] == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
    assert got["bar"] == datetime(2026, 11, 26, 16, 20, tzinfo=UTC)


def test_timeline_outside_an_incident_channel(slack, bot):
    reply = slack.command("alice", "/timeline", "hello", "general")
    assert reply.json["response_type"] == "ephemeral"
    assert "only in an incident channel" in reply.text


def test_user_text_is_data_decoded_once_and_escaped_once(slack, bot, channel):
    typed = "<!channel> @here & <b>bold</b> {{ config }} | pipes"
    slack.command("alice", "/timeline", typed, channel.name)
    stored = entries(bot, slack, channel)[-1].text
    assert stored == typed  # what the person typed, exactly
    message = echo(bot, channel, 2)
    out = json.dumps(message.blocks) + message.text
    assert "<!channel>" not in out and "<!here>" not in out, "the channel would be pinged"
    assert "&lt;!channel&gt;" in out
    assert "&amp;lt;" not in out and "&amp;amp;" not in out, "double-escaped"


def test_mentions_are_stored_as_names(slack, bot, channel):
    slack.command("alice", "/timeline", "@bob restarted the pods", channel.name)
    assert entries(bot, slack, channel)[-1].text == "@bob restarted the pods"


def test_shortcut_adds_a_message_with_its_own_time_and_author(slack, bot, channel):
    message = slack.say("carol", channel.name, "fix: feature flag checkout_v2 turned off by @bob")
    reply = slack.shortcut("alice", "add_to_timeline", channel.name, message)
    assert reply.status == 200
    entry = wait_for(lambda: [e for e in entries(bot, slack, channel) if e.source == "message"])[0]
    assert entry.author_id == slack.user("carol")
    assert entry.kept_by == slack.user("alice")
    assert entry.at == datetime.fromtimestamp(float(message.ts), UTC)
    assert entry.milestone is Milestone.FIX
    assert entry.text == "feature flag checkout_v2 turned off by @Bob Example"
    assert "feature flag" in shown(echo(bot, channel, entry.number), entry.number)

    slack.shortcut("alice", "add_to_timeline", channel.name, message)  # twice: kept once
    wait_for(lambda: any("already in the timeline" in e.text for e in slack.ephemerals("alice")))
    assert len([e for e in entries(bot, slack, channel) if e.source == "message"]) == 1


def test_shortcut_outside_an_incident_channel_explains(slack, bot):
    message = slack.say("carol", "general", "lunch?")
    slack.shortcut("carol", "add_to_timeline", "general", message)
    wait_for(
        lambda: any("only in an incident channel" in e.text for e in slack.ephemerals("carol"))
    )


def test_the_list_holds_a_long_entry(slack, bot, channel):
    slack.command("alice", "/timeline", "a" * 2990, channel.name)
    slack.command("alice", "/timeline", "<&>" * 990, channel.name)  # escaping makes it longer
    reply = slack.command("alice", "/timeline", "", channel.name)
    assert reply.json["response_type"] == "ephemeral" and "#3" in json.dumps(reply.json)
    # the emulator validates the blocks: a problem would fail the test at teardown


@pytest.mark.parametrize("number", ["²", "①", "٢x", "99999999999999999999"])
def test_odd_numbers_get_the_usage(slack, bot, channel, number):
    reply = slack.command("alice", "/timeline", f"delete {number}", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "/timeline edit N" in reply.text or "no entry" in reply.text
