"""Adversarial review of issue 14 (keeping messages by emoji or pin, following edits and
deletions): each test is an attack through signed events and the emulator. The ones that fail
name a defect; the ones that pass are attacks that held."""

import itertools
import json
from datetime import timedelta

import pytest

from bot.models import Milestone
from tests.conftest import Clock, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_keeping import (
    T0,
    confirmed,
    heard,
    incident_of,
    kept,
    log,
    one_kept,
    told,
)

_IDS = itertools.count(1)


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def config(tmp_path, slack):
    return make_config(
        tmp_path,
        slack,
        TIMELINE_REACTION="pushpin,raised_hand",
        TIMELINE_MILESTONE_REACTIONS="bulb:root-cause,mag:investigating",
    )


def send_event(slack, event):
    """A signed Events API request carrying `event` (as Slack would send it)."""
    body = {
        "type": "event_callback",
        "team_id": slack.ws.team_id,
        "api_app_id": "A0",
        "event_id": f"Ev0ATTACK{next(_IDS):05d}",
        "event_time": 1,
        "event": event,
    }
    reply = slack.send(json.dumps(body).encode(), "application/json")
    assert reply.status == 200, reply.body


def reaction_event(slack, kind, who_id, channel_id, ts, name="pushpin"):
    return {
        "type": kind,
        "user": who_id,
        "reaction": name,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
        "event_ts": ts,
    }


def changed_event(channel_id, message):
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel_id,
        "hidden": True,
        "message": message,
        "event_ts": "1.0",
        "ts": "1.0",
        "channel_type": "channel",
    }


# --- reactions ----------------------------------------------------------------------------


def test_a_timeline_emoji_with_a_skin_tone_keeps_and_its_removal_takes_out(slack, bot, channel):
    message = slack.say("carol", channel.name, "failing over to eu-west")
    slack.react("bob", channel.name, message.ts, "raised_hand::skin-tone-3")
    entry = one_kept(bot, slack, channel)
    assert entry.text == "failing over to eu-west"
    wait_for(lambda: confirmed(slack, message))
    slack.unreact("bob", channel.name, message.ts, "raised_hand::skin-tone-3")
    bot.settle()
    assert kept(bot, slack, channel) == []


def test_a_reaction_on_the_bots_echo_is_refused_alone(slack, bot, channel):
    slack.command("alice", "/timeline", "detected: queue depth alarm", channel.name)
    bot.settle()
    echo = channel.messages[-1]
    assert echo.user == slack.ws.bot.id
    slack.react("bob", channel.name, echo.ts, "bulb")
    told(slack, "bob", "bot's own messages")
    assert kept(bot, slack, channel) == []
    assert not confirmed(slack, echo)


def test_a_crafted_reaction_naming_a_message_of_another_channel_keeps_nothing(slack, bot, channel):
    """Nothing is kept (held), but the person hears "Slack did not let me read that message
    (thread_not_found) ... Try the reaction again in a moment": read_message
    (bot/slack/keeping.py) takes conversations.replies' thread_not_found for a refusal."""
    slack.join("postmortem", "general")
    elsewhere = slack.say("bob", "general", "payroll numbers for Q3")
    send_event(
        slack,
        reaction_event(slack, "reaction_added", slack.user("bob"), channel.id, elsewhere.ts),
    )
    bot.settle()
    assert kept(bot, slack, channel) == []
    told(slack, "bob", "could not find that message")


def test_a_reaction_by_another_apps_bot_user_keeps_nothing(slack, bot, channel):
    """Keeping.\\_incident means to ignore an app's act (`store.is_app`), but the store only
    knows apps whose messages were kept: an app's bot user (U… id, users.info is_bot) that
    auto-reacts :pushpin: is taken for a person."""
    robot = slack.ws.add_user("autopin", "Autopin Bot", is_bot=True)
    channel.members.add(robot.id)
    message = slack.say("carol", channel.name, "looking at the dashboards")
    send_event(slack, reaction_event(slack, "reaction_added", robot.id, channel.id, message.ts))
    bot.settle()
    assert kept(bot, slack, channel) == [], "an app's reaction is not a person keeping it"


def test_add_remove_add_leaves_it_kept_and_confirmed(slack, bot, channel):
    """Add, remove, add in quick succession (a person's misclick): Bolt runs each event's
    listener on its own thread after the ack, so the removal can be applied after the second
    add (keep_message's lock covers only the keeping; let_go takes none: bot/entries.py).
    The :pushpin: is on the message, the entry is out (or the :memo: missing). Racy: it
    fails in some runs, hence 30 rounds."""
    for n in range(30):
        message = slack.say("carol", channel.name, f"step {n}: drained node {n}")
        slack.react("bob", channel.name, message.ts, "pushpin")
        slack.unreact("bob", channel.name, message.ts, "pushpin")
        slack.react("bob", channel.name, message.ts, "pushpin")
        bot.settle()
        texts = [e.text for e in kept(bot, slack, channel)]
        assert f"step {n}: drained node {n}" in texts, f"round {n}: the :pushpin: is on it"
        wait_for(lambda m=message: confirmed(slack, m), what=f"round {n}: the bot's :memo:")


def test_a_reaction_after_the_incident_is_resolved_keeps_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "the pool was 5, it should have been 50")
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    slack.react("bob", channel.name, message.ts, "bulb")
    entry = one_kept(bot, slack, channel)
    assert entry.milestone is Milestone.ROOT_CAUSE


def test_a_message_40_days_older_than_the_incident_is_refused_alone(slack, bot, channel):
    old = slack.say("carol", channel.name, "old note", at=T0 - timedelta(days=40))
    slack.react("bob", channel.name, old.ts, "pushpin")
    told(slack, "bob", "more than 30 days older")
    assert kept(bot, slack, channel) == []


def test_a_message_of_only_bidi_controls_is_not_kept_as_an_empty_entry(slack, bot, channel):
    """keep_message checks `text.strip()` before ENTRY.cut drops the controls
    (bot/entries.py _new_kept): what is left is nothing."""
    message = slack.say("carol", channel.name, "\u202e\u202d\u2066")
    slack.react("bob", channel.name, message.ts, "pushpin")
    bot.settle()
    assert [e.text for e in kept(bot, slack, channel)] == [], "an entry that says nothing"
    told(slack, "bob", "nothing I can read")


def test_reading_refused_reaches_the_person(slack, bot, channel):
    message = slack.say("carol", channel.name, "restarting the pods")
    slack.fail("conversations.history", "internal_error")
    slack.react("bob", channel.name, message.ts, "pushpin")
    told(slack, "bob", "did not let me read that message")


# --- taking it back, and bringing it back -------------------------------------------------


def test_kept_again_after_an_edit_says_what_the_message_says_now(slack, bot, channel):
    """Restored under its old number with its OLD words: restore_entry ignores the text read
    now (bot/entries.py keep_message, the `deleted_at is not None` branch), and follow_edit
    skipped the edit while the entry was out."""
    message = slack.say("carol", channel.name, "it was the intern's deploy")
    slack.react("bob", channel.name, message.ts, "pushpin")
    one_kept(bot, slack, channel)
    slack.unreact("bob", channel.name, message.ts, "pushpin")
    bot.settle()
    assert kept(bot, slack, channel) == []
    slack.edit("carol", channel.name, message.ts, "it was a config push (not a person)")
    bot.settle()
    slack.react("alice", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert entry.text == "it was a config push (not a person)"
    postmortem, _ = log(bot, slack, channel)
    assert "intern's deploy" not in postmortem, "the post-mortem quotes what was retracted"


def test_a_tombstone_kept_again_does_not_bring_back_the_deleted_words(slack, bot, channel):
    """A parent with replies, deleted: Slack leaves a tombstone (subtype tombstone, "This
    message was deleted."). A reaction naming it restores the entry with the words deleted."""
    parent = slack.say("carol", channel.name, "it was the intern's deploy")
    slack.say("bob", channel.name, "are you sure?", thread_ts=parent.ts)
    slack.react("bob", channel.name, parent.ts, "pushpin")
    one_kept(bot, slack, channel)
    with slack.ws.lock:  # what Slack leaves of a deleted parent with replies
        parent.text = "This message was deleted."
        parent.user = "USLACKBOT"
        parent.extra = {"subtype": "tombstone", "hidden": True}
        parent.reactions.clear()
    send_event(slack, changed_event(channel.id, parent.as_api()))
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel) == [], what="the entry deleted in Slack")
    send_event(
        slack,
        reaction_event(slack, "reaction_added", slack.user("alice"), channel.id, parent.ts),
    )
    bot.settle()
    postmortem, _ = log(bot, slack, channel)
    assert "intern's deploy" not in postmortem, "the post-mortem quotes what was retracted"


def test_delete_then_a_crafted_reaction_on_the_same_ts_keeps_nothing(slack, bot, channel):
    """A reaction whose event arrives after the message was deleted: nothing kept (held), but
    the advice is to try again in a moment (thread_not_found read as a refusal, keeping.py
    read_message) instead of "could not find that message ... `/timeline HH:MM`"."""
    message = slack.say("carol", channel.name, "it was the intern's deploy")
    slack.react("bob", channel.name, message.ts, "pushpin")
    one_kept(bot, slack, channel)
    slack.delete("carol", channel.name, message.ts)
    bot.settle()
    send_event(
        slack, reaction_event(slack, "reaction_added", slack.user("bob"), channel.id, message.ts)
    )
    bot.settle()
    assert kept(bot, slack, channel) == []
    told(slack, "bob", "could not find that message")


# --- pins -----------------------------------------------------------------------------------


def test_pin_unpin_pin_keeps_it_once_and_confirms_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "traffic drained from eu-west")
    slack.pin("bob", channel.name, message.ts)
    first = one_kept(bot, slack, channel)
    slack.unpin("bob", channel.name, message.ts)
    bot.settle()
    wait_for(lambda: not confirmed(slack, message))
    slack.pin("bob", channel.name, message.ts)
    bot.settle()
    (entry,) = kept(bot, slack, channel)
    assert entry.id == first.id
    wait_for(lambda: confirmed(slack, message), what="confirmed again")


def test_an_unpin_by_someone_else_leaves_it(slack, bot, channel):
    message = slack.say("carol", channel.name, "traffic drained from eu-west")
    slack.pin("bob", channel.name, message.ts)
    one_kept(bot, slack, channel)
    slack.unpin("alice", channel.name, message.ts)
    bot.settle()
    assert len(kept(bot, slack, channel)) == 1


def test_a_pin_of_an_apps_attachments_only_alert_is_kept(slack, bot, channel):
    from tests.test_kept_messages import PAGERDUTY

    alert = slack.app_posts("PagerDuty", channel.name, "", attachments=PAGERDUTY)
    slack.pin("alice", channel.name, alert.ts)
    entry = one_kept(bot, slack, channel)
    assert "[Triggered] #4521" in entry.text and entry.author_id == alert.bot_id


def test_a_pin_removed_as_slacks_reference_shows_it_still_takes_it_out(slack, bot, channel):
    """pin_removed as the reference's example has it (slack-api-ref events/pin_removed.json:
    `"item": {}`, no message): keeping.py handle_pin_removed returns at `item.get("type")`,
    so the pinner's unpin is dropped silently and the entry stays for good (pins.list would
    say which of the messages kept by a pin is no longer pinned)."""
    message = slack.say("carol", channel.name, "maybe the CDN?")
    slack.pin("bob", channel.name, message.ts)
    one_kept(bot, slack, channel)
    with slack.ws.lock:
        message.pinned = False
    send_event(
        slack,
        {
            "type": "pin_removed",
            "user": slack.user("bob"),
            "channel_id": channel.id,
            "item": {},
            "has_pins": False,
            "event_ts": "1360782804.083113",
        },
    )
    bot.settle()
    assert kept(bot, slack, channel) == [] or heard(slack, "bob"), "dropped without a word"


# --- edits and deletions ------------------------------------------------------------------


def test_an_edit_to_hostile_text_is_kept_as_harmless_words(slack, bot, channel):
    message = slack.say("carol", channel.name, "rolled back")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    hostile = "@channel <@U0EVIL> \u202egnp.exe <!here> " + "x" * 10_000
    slack.edit("carol", channel.name, message.ts, hostile)
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text != "rolled back", what="followed")
    (now,) = kept(bot, slack, channel)
    assert entry.id == now.id
    assert "\u202e" not in now.text and len(now.text) <= 3000
    bot.settle()
    shown = [m for m in channel.messages if m.user == slack.ws.bot.id]
    raw = json.dumps([m.text for m in shown] + [m.blocks for m in shown])
    assert "<!channel>" not in raw and "<!here>" not in raw and "<@U0EVIL>" not in raw


def test_an_edit_that_empties_the_text_does_not_keep_quoting_it(slack, bot, channel):
    """The message edited to nothing readable (only bidi controls: message_text gives ""):
    follow_edit returns None on empty text (bot/entries.py follow_edit), so the entry goes
    on quoting the words the author took out; nobody is told."""
    message = slack.say("carol", channel.name, "it was the intern's deploy")
    slack.react("bob", channel.name, message.ts, "pushpin")
    one_kept(bot, slack, channel)
    slack.edit("carol", channel.name, message.ts, "\u202e\u202c")
    bot.settle()
    postmortem, _ = log(bot, slack, channel)
    assert "intern's deploy" not in postmortem, "the post-mortem quotes what was retracted"


def test_an_alert_updated_by_its_app_is_followed(slack, bot, channel):
    from tests.test_kept_messages import PAGERDUTY

    alert = slack.app_posts("PagerDuty", channel.name, "", attachments=PAGERDUTY)
    slack.react("alice", channel.name, alert.ts, "pushpin")
    one_kept(bot, slack, channel)
    resolved = [{**PAGERDUTY[0], "title": "[Resolved] #4521 checkout 5xx > 5%"}]
    with slack.ws.lock:
        alert.attachments = resolved
    send_event(slack, changed_event(channel.id, alert.as_api()))
    bot.settle()
    wait_for(lambda: "[Resolved] #4521" in kept(bot, slack, channel)[0].text, what="followed")


def test_an_edit_of_a_message_kept_with_a_milestone_emoji_keeps_its_words(slack, bot, channel):
    """Kept with :bulb:, the words stay whole ("Root cause: …"); the edit is cut by
    split_milestone (bot/entries.py follow_edit), so the entry loses "Root cause:"."""
    message = slack.say("carol", channel.name, "Root cause: the pool is 5")
    slack.react("bob", channel.name, message.ts, "bulb")
    entry = one_kept(bot, slack, channel)
    assert entry.text == "Root cause: the pool is 5"
    slack.edit("carol", channel.name, message.ts, "Root cause: the pool is 5 (should be 50)")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text != entry.text, what="followed")
    assert kept(bot, slack, channel)[0].text == "Root cause: the pool is 5 (should be 50)"


def test_an_edit_that_retracts_the_milestone_word_retracts_the_milestone(slack, bot, channel):
    """Kept as "fix: …" (the pushpin parses its milestone from the words), edited so it no
    longer claims a fix: the words follow, the milestone "Fix identified" stays (follow_edit
    drops the milestone the new words say or do not say)."""
    message = slack.say("carol", channel.name, "fix: restarting the pods")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    assert entry.milestone is not None
    slack.edit("carol", channel.name, message.ts, "restarting the pods did not help")
    bot.settle()
    wait_for(lambda: "did not help" in kept(bot, slack, channel)[0].text, what="followed")
    assert kept(bot, slack, channel)[0].milestone is None, "still marked as the fix"


def test_an_edit_in_slack_does_not_silently_undo_the_commanders_edit(slack, bot, channel):
    """The commander corrected the entry with `/timeline edit`; the author then fixes a typo
    in Slack: follow_edit overwrites the commander's words without a word to anyone
    (bot/entries.py follow_edit never looks at edited_since, unlike let_go)."""
    message = slack.say("carol", channel.name, "restarted teh pods")
    slack.react("bob", channel.name, message.ts, "pushpin")
    entry = one_kept(bot, slack, channel)
    slack.command(
        "alice", "/timeline", f"edit {entry.number} restarted all 12 checkout pods", channel.name
    )
    bot.settle()
    slack.edit("carol", channel.name, message.ts, "restarted the pods")
    bot.settle()
    (now,) = kept(bot, slack, channel)
    said = heard(slack, "alice")
    assert now.text == "restarted all 12 checkout pods" or any(
        "restarted the pods" in t for t in said
    ), "the commander's edit is gone and nobody was told"


def test_an_edit_of_a_message_kept_by_two_people_is_followed_once(slack, bot, channel):
    message = slack.say("carol", channel.name, "rolled back to v40")
    slack.react("bob", channel.name, message.ts, "pushpin")
    slack.pin("alice", channel.name, message.ts)
    entry = one_kept(bot, slack, channel)
    slack.edit("carol", channel.name, message.ts, "rolled back to v41")
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel)[0].text == "rolled back to v41")
    _, hotfix = log(bot, slack, channel)
    assert hotfix.count(f"Timeline entry {entry.label} followed its message's edit") == 1


def test_deleting_a_thread_parent_tombstone_marks_it_deleted(slack, bot, channel):
    parent = slack.say("carol", channel.name, "it's DNS")
    slack.say("bob", channel.name, "is it?", thread_ts=parent.ts)
    slack.react("bob", channel.name, parent.ts, "pushpin")
    one_kept(bot, slack, channel)
    tomb = {**parent.as_api(), "subtype": "tombstone", "text": "This message was deleted."}
    send_event(slack, changed_event(channel.id, tomb))
    bot.settle()
    wait_for(lambda: kept(bot, slack, channel) == [], what="deleted in Slack")
    postmortem, _ = log(bot, slack, channel)
    assert "it's DNS" not in postmortem


def test_a_private_incident_nonmembers_crafted_unpin_changes_nothing(slack, bot):
    channel = open_incident(slack, text="start --private vault sealed sev1")
    message = slack.say("alice", channel.name, "unsealed with 3 of 5 keys")
    slack.pin("alice", channel.name, message.ts)
    one_kept(bot, slack, channel)
    send_event(
        slack,
        reaction_event(slack, "reaction_removed", slack.user("carol"), channel.id, message.ts),
    )
    bot.settle()
    assert len(kept(bot, slack, channel)) == 1
    assert incident_of(bot, slack, channel) is not None
    slack.problems.clear()
