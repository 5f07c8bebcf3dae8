"""Keeping messages the way teams already do, end to end through signed events and the
emulator: a timeline emoji, a pin, a thread reply, a milestone emoji; one entry however many
ways; the bot's own reaction as the only confirmation; removal by whoever added it; Slack
edits and deletions followed into the post-mortem."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Milestone
from tests.conftest import Clock, make_config, render_draft, wait_for
from tests.test_incident_commands import open_incident
from tests.test_kept_messages import PAGERDUTY

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
MEMO = "memo"  # the bot's confirmation (bot/config.py CONFIRMATION_EMOJI)


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def config(tmp_path, slack):
    return make_config(
        tmp_path, slack, TIMELINE_MILESTONE_REACTIONS="bulb:root-cause,mag:investigating"
    )


def incident_of(bot, slack, channel):
    return bot.store.incident_by_channel(slack.ws.team_id, channel.id)


def kept(bot, slack, channel, *, deleted=False):
    incident = incident_of(bot, slack, channel)
    entries = bot.store.entries(slack.ws.team_id, incident.id, deleted=deleted)
    return [e for e in entries if e.source == "message"]


def one_kept(bot, slack, channel):
    bot.settle()
    return wait_for(lambda: kept(bot, slack, channel), what="the kept entry")[0]


def confirmed(slack, message):
    """Whether the bot's own reaction is on the message."""
    return slack.ws.bot.id in message.reactions.get(MEMO, [])


def bot_posts(slack, channel):
    return [m for m in channel.messages if m.user == slack.ws.bot.id or m.bot_id]


def log(bot, slack, channel):
    postmortem, hotfix, _ = render_draft(bot.store, Clock(T0), incident_of(bot, slack, channel))
    return postmortem, hotfix


def heard(slack, who):
    """What `who` was told alone: ephemerals, and DMs (where Slack refused an ephemeral)."""
    return [e.text for e in slack.ephemerals(who)] + [
        m.text for m in slack.ws.im(slack.user(who)).messages
    ]


def told(slack, who, words):
    return wait_for(
        lambda: any(words in t for t in heard(slack, who)), what=f"{who} told {words!r}"
    )


def test_a_pushpin_keeps_the_message_with_its_own_time_and_author(slack, bot, channel, clock):
    slack.join("bob", channel.name)
    message = slack.say("bob", channel.name, "rolled back to v41", at=T0 + timedelta(minutes=2))
    posts = len(bot_posts(slack, channel))
    clock.now = T0 + timedelta(minutes=20)
    slack.react("carol", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert (entry.text, entry.author_id) == ("rolled back to v41", slack.user("bob"))
    assert entry.at == T0 + timedelta(minutes=2), "the message's own time, not the reaction's"
    wait_for(lambda: confirmed(slack, message), what="the bot's reaction")
    assert len(bot_posts(slack, channel)) == posts, "no channel post per entry"
    assert entry.permalink and entry.permalink.startswith("https://")
    _, hotfix = log(bot, slack, channel)
    assert entry.permalink in hotfix
    assert f"Timeline entry {entry.label} kept (reaction :pushpin:)" in hotfix


def test_a_pin_keeps_the_message(slack, bot, channel):
    message = slack.say("bob", channel.name, "DBA paged: replica lag 40 min")
    slack.pin("bob", channel.name, message.ts)
    entry = one_kept(bot, slack, channel)
    assert entry.text == "DBA paged: replica lag 40 min" and entry.author_id == slack.user("bob")
    wait_for(lambda: confirmed(slack, message))


def test_a_thread_reply_is_kept_and_linked(slack, bot, channel):
    parent = slack.say("bob", channel.name, "checkout errors climbing")
    reply = slack.say("carol", channel.name, "found it: pool size 5", thread_ts=parent.ts)
    slack.react("alice", channel.name, reply.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert (entry.text, entry.author_id) == ("found it: pool size 5", slack.user("carol"))
    wait_for(lambda: confirmed(slack, reply))
    assert not confirmed(slack, parent)
    assert entry.permalink
    _, hotfix = log(bot, slack, channel)
    assert entry.permalink in hotfix


def test_a_milestone_emoji_marks_the_message_that_found_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "the pool is 5, it should be 50")
    slack.react("bob", channel.name, message.ts, "bulb")
    entry = one_kept(bot, slack, channel)
    assert entry.milestone is Milestone.ROOT_CAUSE
    postmortem, _ = log(bot, slack, channel)
    assert "Root cause identified" in postmortem


def test_a_milestone_emoji_on_a_kept_message_sets_its_milestone(slack, bot, channel):
    message = slack.say("carol", channel.name, "looking at the pool metrics")
    slack.react("bob", channel.name, message.ts, "pushpin")
    first = one_kept(bot, slack, channel)
    assert first.milestone is None
    slack.react("alice", channel.name, message.ts, "mag")
    bot.settle()
    (entry,) = kept(bot, slack, channel)
    assert entry.id == first.id and entry.milestone is Milestone.INVESTIGATING
    told(slack, "alice", "now marks")


def test_two_reactions_and_a_pin_keep_it_once_and_confirm_once(slack, bot, channel):
    message = slack.say("carol", channel.name, "failover done")
    slack.react("alice", channel.name, message.ts, "pushpin")
    slack.react("bob", channel.name, message.ts, "pushpin")
    slack.pin("bob", channel.name, message.ts)
    bot.settle()
    assert len(kept(bot, slack, channel)) == 1
    assert message.reactions[MEMO] == [slack.ws.bot.id]
    assert not [m for m in channel.messages if m.thread_ts == message.ts and m.ts != message.ts]


def test_removal_by_the_one_who_added_it_takes_it_out(slack, bot, channel):
    message = slack.say("carol", channel.name, "maybe the CDN?")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    wait_for(lambda: confirmed(slack, message))
    slack.unreact("bob", channel.name, message.ts, "pushpin")
    bot.settle()
    assert kept(bot, slack, channel) == []
    assert [e.id for e in kept(bot, slack, channel, deleted=True)] == [entry.id]
    wait_for(lambda: not confirmed(slack, message), what="the bot's reaction gone")
    _, hotfix = log(bot, slack, channel)
    assert f"Timeline entry {entry.label} kept (reaction :pushpin:)" in hotfix
    assert f"Timeline entry {entry.label}: reaction :pushpin: taken back" in hotfix
    postmortem, _ = log(bot, slack, channel)
    assert "maybe the CDN?" not in postmortem


def test_removal_by_someone_else_leaves_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "rate limiter disabled")
    slack.react("bob", channel.name, message.ts, "pushpin")
    slack.react("alice", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    slack.unreact("alice", channel.name, message.ts, "pushpin")
    bot.settle()
    assert [e.id for e in kept(bot, slack, channel)] == [entry.id]
    assert confirmed(slack, message)
    slack.pin("carol", channel.name, message.ts)
    slack.unreact("bob", channel.name, message.ts, "pushpin")
    bot.settle()
    assert [e.id for e in kept(bot, slack, channel)] == [entry.id], "still pinned"


def test_removal_after_an_edit_leaves_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "restarted the pods")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    slack.command("bob", "/timeline", f"edit {entry.number} restarted all 12 pods", channel.name)
    bot.settle()
    slack.unreact("bob", channel.name, message.ts, "pushpin")
    bot.settle()
    assert [e.text for e in kept(bot, slack, channel)] == ["restarted all 12 pods"]
    told(slack, "bob", "edited since")


def test_unpinning_by_the_pinner_takes_it_out(slack, bot, channel):
    message = slack.say("carol", channel.name, "traffic drained from eu-west")
    slack.pin("bob", channel.name, message.ts)
    one_kept(bot, slack, channel)
    slack.unpin("bob", channel.name, message.ts)
    bot.settle()
    assert kept(bot, slack, channel) == []


def test_an_edit_in_slack_is_followed(slack, bot, channel):
    message = slack.say("carol", channel.name, "rolled back to v40")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    slack.edit("carol", channel.name, message.ts, "rolled back to v41 (not v40)")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text == "rolled back to v41 (not v40)")
    postmortem, hotfix = log(bot, slack, channel)
    assert "rolled back to v41 (not v40)" in postmortem
    assert f"Timeline entry {entry.label} followed its message's edit in Slack" in hotfix
    assert "it said: “rolled back to v40”" in hotfix


def test_an_edit_changes_the_words_and_the_milestone_its_keyword_marked(slack, bot, channel):
    message = slack.say("carol", channel.name, "fix: rolled back push 4512")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert (entry.milestone, entry.text) == (Milestone.FIX, "rolled back push 4512")
    slack.edit("carol", channel.name, message.ts, "fix: rolled back push 4513")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text == "rolled back push 4513")
    slack.edit("carol", channel.name, message.ts, "deployed: 4513 is out")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text == "4513 is out")
    assert kept(bot, slack, channel)[0].milestone is Milestone.DEPLOYED


def test_an_edited_thread_reply_is_followed(slack, bot, channel):
    parent = slack.say("bob", channel.name, "errors again")
    reply = slack.say("carol", channel.name, "it's DNS", thread_ts=parent.ts)
    slack.react("bob", channel.name, reply.ts, "pushpin")
    one_kept(bot, slack, channel)
    slack.edit("carol", channel.name, reply.ts, "it's not DNS: the cert expired")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text == "it's not DNS: the cert expired")


def test_a_deletion_in_slack_is_followed_and_never_quoted(slack, bot, channel):
    message = slack.say("carol", channel.name, "it was the intern's deploy")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    slack.delete("carol", channel.name, message.ts)
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel) == [], what="the entry deleted")
    assert [e.id for e in kept(bot, slack, channel, deleted=True)] == [entry.id]
    postmortem, hotfix = log(bot, slack, channel)
    assert "intern's deploy" not in postmortem
    assert f"Timeline entry {entry.label} deleted in Slack" in hotfix


def test_an_alert_with_attachments_only_is_kept_under_its_apps_name(slack, bot, channel):
    alert = slack.app_posts("PagerDuty", channel.name, "", attachments=PAGERDUTY)
    slack.react("alice", channel.name, alert.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert "[Triggered] #4521 checkout 5xx > 5%" in entry.text
    assert entry.author_id == alert.bot_id and bot.store.is_app(slack.ws.team_id, alert.bot_id)
    postmortem, _ = log(bot, slack, channel)
    assert "| PagerDuty |" in postmortem and alert.bot_id not in postmortem


def test_the_bots_own_pin_and_messages_are_not_kept(slack, bot, channel):
    kickoff = channel.messages[0]
    assert kickoff.pinned, "the bot pinned its kick-off: pin_added with the bot as the user"
    bot.settle()
    assert kept(bot, slack, channel) == []
    slack.react("alice", channel.name, kickoff.ts, "pushpin")
    told(slack, "alice", "bot's own messages")
    slack.command("bob", "/timeline", "detected: queue depth alarm", channel.name)
    bot.settle()
    echo = channel.messages[-1]
    assert echo.user == slack.ws.bot.id and not echo.pinned
    slack.pin("alice", channel.name, echo.ts)
    bot.settle()
    assert kept(bot, slack, channel) == []


def test_a_reaction_outside_an_incident_channel_does_nothing(slack, bot, channel):
    slack.join("postmortem", "general")  # the bot sees the channel: events arrive from it
    message = slack.say("bob", "general", "lunch?")
    slack.react("alice", "general", message.ts, "pushpin")
    inside = slack.say("bob", channel.name, "lunch is postponed")
    slack.react("alice", channel.name, inside.ts, "pushpin")
    bot.settle()
    assert [e.text for e in kept(bot, slack, channel)] == ["lunch is postponed"]
    assert not confirmed(slack, message)


def test_plain_messages_get_a_fast_200_and_nothing_else(slack, bot, channel):
    calls = len(slack.api.calls)
    for n in range(5):
        slack.say("bob", channel.name, f"status update {n}")
    bot.settle()
    assert slack.problems == [] and len(slack.api.calls) == calls


def test_a_private_incidents_non_member_is_refused(slack, bot):
    channel = open_incident(slack, text="start --private vault sealed sev1")
    message = slack.say("alice", channel.name, "unsealed with 3 of 5 keys")
    # a crafted event: carol is not in the channel (Slack would not show her the message)
    event = {
        "type": "reaction_added",
        "user": slack.user("carol"),
        "reaction": "pushpin",
        "item_user": slack.user("alice"),
        "item": {"type": "message", "channel": channel.id, "ts": message.ts},
        "event_ts": message.ts,
    }
    body = {
        "type": "event_callback",
        "team_id": slack.ws.team_id,
        "api_app_id": "A0",
        "event_id": "Ev0CRAFTED",
        "event_time": 1,
        "event": event,
    }
    assert slack.send(json.dumps(body).encode(), "application/json").status == 200
    bot.settle()
    assert kept(bot, slack, channel) == []
    assert not confirmed(slack, message)
    told(slack, "carol", "cannot see")
    assert "vault" not in " ".join(heard(slack, "carol"))
    slack.problems.clear()  # Slack refused the ephemeral to a non-member: the DM is the answer


def test_the_kickoff_and_help_teach_the_emoji_the_settings_name(slack, bot):
    channel = open_incident(slack)
    kickoff = json.dumps(channel.messages[0].blocks)
    assert ":pushpin: on any message" in kickoff and "or pin it" in kickoff
    assert ":bulb: Root cause identified" in kickoff and ":mag: Investigation started" in kickoff
    reply = slack.command("alice", "/incident", "help", channel.name)
    assert ":bulb: Root cause identified" in json.dumps(reply.json["blocks"])
