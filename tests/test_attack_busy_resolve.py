"""Found by an adversarial review: the database stays busy after `/incident resolve` was
answered. The person is told; the checklist follows with the next change, once."""

from collections.abc import Iterator

import pytest

from bot.store import Store
from tests.conftest import wait_for
from tests.test_busy_database import held


@pytest.fixture
def store(config) -> Iterator[Store]:
    store = Store(config.database_path, after_ack_wait_s=1.0)  # as test_busy_database does
    yield store
    store.close()


def checklists(channel):
    return [m for m in channel.messages if "Post-mortem checklist" in m.text]


def test_a_resolve_half_done_by_a_busy_database_cannot_be_finished(slack, bot, config, channel):
    bot.settle()
    slack.api.delays["conversations.setTopic"] = 0.5  # the lock comes while Slack works
    reply = slack.command("alice", "/incident", "resolve", channel.name)
    assert "resolved" in reply.text
    with held(config.database_path, seconds=4):
        told = wait_for(
            lambda: next(
                (e for e in slack.ephemerals("alice") if "not all of it happened" in e.text), None
            ),
            what="alice is told",
        )
    slack.api.delays.clear()
    bot.settle()
    assert "database stayed busy" in told.text and "/incident status" in told.text
    assert checklists(channel) == [], "a checklist whose message was not kept is taken back"
    # the team writes the post-mortem; the checklist comes with that change, and the draft
    slack.command("alice", "/incident", "write summary", channel.name)
    slack.submit("alice", {"text": "A config push broke the gateway."})
    slack.command("alice", "/incident", "draft", channel.name)
    bot.settle()
    bot.publisher.wait_idle()
    bot.settle()
    (shown,) = checklists(channel)
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.checklist_ts == shown.ts and "Executive Summary" in str(shown.blocks)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the draft")
