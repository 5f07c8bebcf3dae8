"""Slack errors and rate limits: retried by slack_sdk's handlers, reported, never losing data."""

import itertools

from tests.conftest import recorded, wait_for
from tests.test_incident_commands import open_incident


def test_rate_limited_and_failing_calls_are_retried(slack, bot):
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=1)
    slack.fail("conversations.setTopic", "internal_error", status=500)
    channel = open_incident(slack)
    assert channel.topic.startswith("hotfix-001")
    assert len(channel.messages) == 1 and channel.messages[0].pinned
    tries = [m for m, _ in slack.api.calls if m == "chat.postMessage"]
    assert tries == ["chat.postMessage"], "the refused call is not recorded, the retry is"


def test_a_refused_channel_undoes_the_start_and_tells_the_starter(slack, bot):
    slack.fail("conversations.create", "restricted_action")
    reply = slack.command("alice", "/incident", "start db down sev1")
    assert "hotfix-001" in reply.text
    told = wait_for(
        lambda: next(
            (e for e in slack.ephemerals("alice") if "was not opened" in e.text),
            None,
        ),
        what="the explanation",
    )
    assert "did not create its channel (restricted_action)" in told.text
    assert "`/incident start db down sev1` again" in told.text
    bot.settle()
    assert bot.store.open_incidents(slack.ws.team_id) == [], "no incident without its channel"
    again = slack.command("alice", "/incident", "start db down sev1")
    assert "hotfix-001" in again.text


def test_partial_failures_are_listed_for_the_starter(slack, bot):
    slack.fail("pins.add", "too_many_pins")
    channel = open_incident(slack)
    note = next(e.text for e in slack.ephemerals("alice") if "is open in" in e.text)
    assert "pinning the kick-off message (too_many_pins)" in note
    assert channel.messages and not channel.messages[0].pinned


def test_removed_bot_does_not_lose_what_was_asked(slack, bot):
    channel = open_incident(slack)
    channel.members.discard(slack.ws.bot.id)  # someone removed the bot from the channel
    reply = slack.command("alice", "/incident", "severity sev1", channel.name)
    assert "SEV1" in reply.text
    bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.severity.value == "sev1"
    assert "SEV1" not in channel.topic  # Slack refused (not_in_channel); the bot carried on


def test_the_bot_paces_its_posts_to_one_a_second_per_channel(slack, bot):
    """With Slack at its strictest (no bursts), the bot's own posts never meet a 429."""
    slack.api.post_burst = 1
    channel = open_incident(slack)
    messages = [slack.say("carol", channel.name, f"update {n}") for n in range(4)]
    for message in messages:  # four echoes into one channel, as fast as people click
        slack.shortcut("alice", "add_to_timeline", channel.name, message)
    wait_for(
        lambda: sum(str(m.blocks).count("update") for m in channel.messages if m.bot_id) == 4,
        timeout=10,
        what="the four echoes",
    )
    assert ("chat.postMessage", "ratelimited") not in slack.api.refused
    echoes = [float(m.ts) for m in channel.messages if m.bot_id and "update" in str(m.blocks)]
    assert 1 <= len(echoes) <= 4  # entries that arrive together share a message
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(echoes))


def test_a_slack_that_does_not_answer_in_time_is_reported_not_fatal(tmp_path, slack, store):
    import dataclasses

    from bot.sandbox.harness import serve
    from tests.conftest import make_config

    config = dataclasses.replace(make_config(tmp_path, slack), api_timeout=1)
    slack.api.delays["pins.add"] = 2.5  # Slack hangs on one call
    with serve(slack, config, store):
        channel = open_incident(slack)
        note = next(e.text for e in slack.ephemerals("alice") if "is open in" in e.text)
        assert "pinning the kick-off message (timeout)" in note
        reply = slack.command("alice", "/timeline", "still answering", channel.name)
        assert recorded(reply)


def test_an_echo_slack_posted_without_answering_in_time_is_still_the_one_a_delete_changes(
    tmp_path, slack, store
):
    import dataclasses
    import json

    from bot.sandbox.harness import serve
    from tests.conftest import make_config

    config = dataclasses.replace(make_config(tmp_path, slack), api_timeout=1)
    with serve(slack, config, store) as bot:
        channel = open_incident(slack)
        slack.api.delays["chat.postMessage"] = 1.5  # posted, but the answer comes too late
        assert recorded(slack.command("bob", "/timeline", "password hunter2, oops", channel.name))
        bot.settle()
        slack.api.delays.clear()
        assert "hunter2" in json.dumps([m.blocks for m in channel.messages])
        assert not any("did not let me" in e.text for e in slack.ephemerals("bob"))
        reply = slack.command("bob", "/timeline", "delete 2", channel.name)
        assert "its message in the channel now says so" in reply.text
        bot.settle()
    assert "hunter2" not in json.dumps([m.blocks for m in channel.messages])


def test_an_echo_slack_refuses_is_told_and_the_delete_does_not_claim_it(slack, bot):
    channel = open_incident(slack)
    slack.fail("chat.postMessage", "not_in_channel", times=5, channel=channel.id)
    assert recorded(slack.command("bob", "/timeline", "restarted the consumer", channel.name))
    bot.settle()
    told = [e.text for e in slack.ephemerals("bob") if "did not let me show it" in e.text]
    assert told and "#2" in told[0] and "/invite @postmortem`" in told[0]
    reply = slack.command("bob", "/timeline", "delete 2", channel.name)
    assert "Deleted entry #2. Its number" in reply.text
    slack.api.faults.clear()
