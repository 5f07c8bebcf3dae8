"""Publishing, drafting and writing from a DM with the bot, also once the incident channel is
archived: `/incident publish hotfix-001` anywhere (issue 12)."""

import json

import pytest

from tests import test_publish_flow as flow
from tests.conftest import wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import click, commits, confirmation, publish_anyway, quiet

# the publishing tests' fixtures: a stopped clock, a bare remote, hotfix-001 resolved
clock, config, remote, resolved = flow.clock, flow.config, flow.remote, flow.resolved

FINAL = "hotfix-001: final post-mortem"


def dm(slack, who):
    """The DM between `who` and the bot, where a command can be typed too."""
    return slack.ws.im(slack.user(who)).id


def test_publish_from_a_dm_after_the_channel_was_archived(slack, bot, remote, resolved):
    resolved.is_archived = True  # the team archived it before the post-mortem was published
    reply = slack.command("alice", "/incident", "publish hotfix-001", dm(slack, "alice"))
    assert "open point" in reply.text, "open points are shown first, in the DM"
    click(slack, "alice", confirmation(slack, "alice"), "publish_anyway")
    quiet(bot)
    assert FINAL in commits(remote), "the final version is in the repository"
    incident = bot.store.incident_by_number(slack.ws.team_id, 1)
    assert incident.published_at is not None


def test_republish_from_a_dm_tells_the_channel(slack, bot, remote, resolved):
    publish_anyway(slack, "alice", resolved)
    quiet(bot)
    slack.command("bob", "/timeline", "yesterday 16:40 verified: error rate normal", resolved.name)
    before = len([m for m in resolved.messages if m.text.startswith(":tada:")])
    again = slack.command("alice", "/incident", "publish HOTFIX-001", dm(slack, "alice"))
    assert "republished" in again.text.lower() and f"<#{resolved.id}>" in again.text
    quiet(bot)
    assert len([m for m in resolved.messages if m.text.startswith(":tada:")]) == before + 1
    assert commits(remote).count(FINAL) == 2


def test_only_people_of_the_channel_publish_from_elsewhere(slack, bot, resolved):
    slack.ws.add_user("mallory")
    reply = slack.command("mallory", "/incident", "publish hotfix-001", dm(slack, "mallory"))
    assert "Only people in the incident channel can publish" in reply.text
    assert bot.store.incident_by_number(slack.ws.team_id, 1).published_at is None


def test_a_private_incident_named_from_a_dm_is_seen_only_by_its_members(slack, bot):
    open_incident(slack, text="start --private vault sealed sev1")
    for command in ("status", "actions", "draft", "publish", "write"):
        reply = slack.command("bob", "/incident", f"{command} hotfix-001", dm(slack, "bob"))
        assert "There is no `hotfix-001` you can see" in reply.text, (command, reply.text)
        assert "vault" not in reply.body
    status = slack.command("alice", "/incident", "status hotfix-001", dm(slack, "alice"))
    assert "hotfix-001" in status.text and "There is no" not in status.text
    missing = slack.command("alice", "/incident", "status hotfix-042", dm(slack, "alice"))
    assert "There is no `hotfix-042` you can see" in missing.text


@pytest.mark.parametrize("archived", [False, True])
def test_write_a_section_from_a_dm(slack, bot, resolved, archived):
    resolved.is_archived = archived
    slack.command("alice", "/incident", "write hotfix-001 summary", dm(slack, "alice"))
    assert slack.modal("alice")["title"]["text"] == "Executive Summary"
    slack.submit("alice", {"text": "Checkout failed for 55 minutes after a bad config push."})
    quiet(bot)
    incident = bot.store.incident_by_number(slack.ws.team_id, 1)
    values = bot.store.db.execute(
        "SELECT value FROM section_values WHERE incident_id = ? AND section = 'summary'",
        [incident.id],
    ).fetchall()
    assert values == [("Checkout failed for 55 minutes after a bad config push.",)]


def test_write_and_draft_from_the_app_home_after_the_channel_was_archived(slack, bot, resolved):
    resolved.is_archived = True
    slack.open_home("alice")  # alice commands and so owns the post-mortem
    home = json.dumps(slack.api.home[slack.user("alice")])
    assert "Write hotfix-001" in home and "/incident publish hotfix-NNN" in home
    slack.click_home("alice", "reminder_write")
    assert slack.modal("alice")["title"]["text"] == "Executive Summary"
    slack.click_home("alice", "reminder_draft")
    quiet(bot)
    sent = wait_for(
        lambda: [m for m in slack.ws.im(slack.user("alice")).messages if m.files],
        what="the draft in alice's DM",
    )
    assert sent[0].files[0]["name"] == "hotfix-001-postmortem.md"


def test_an_app_home_button_naming_a_private_incident_is_refused_to_others(slack, bot):
    channel = open_incident(slack, text="start --private vault sealed sev1")
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    slack.open_home("alice")
    slack.click_home("bob", "reminder_draft", forged_from="alice")  # a crafted request
    slack.click_home("bob", "reminder_write", forged_from="alice")
    bot.settle()
    bobs = slack.ws.im(slack.user("bob")).messages
    assert not [m for m in bobs if m.files] and slack.modal("bob", wait=0.5) is None
    told = [m.text for m in bobs if "cannot see" in m.text]
    assert len(told) == 2 and not any("vault" in t for t in told)


def test_a_misspelt_incident_name_is_refused_not_taken_for_the_channels(slack, bot, resolved):
    reply = slack.command("alice", "/incident", "draft hotfix-abc", resolved.name)
    assert "`hotfix-abc` names no incident" in reply.text
