"""Security (issue 13): who can read or change a private incident, from a DM, with buttons the
bot itself sent (no forged payloads: every click is on a button the bot posted to that person),
after they were removed from it: a removed owner's old reminder DM ("Latest draft", "Write the
next section"), an item handed on, the App Home."""

import pytest

from tests.conftest import make_config, mark_done_dm, wait_for
from tests.test_incident_commands import open_incident

FAST = {"POSTMORTEM_DEADLINE": "5s", "REMINDERS_BEFORE": "3s", "OVERDUE_NUDGE_EVERY": "off"}
SECRET = "Root cause: the HSM master key was exported to a laptop"


@pytest.fixture
def config(tmp_path, slack):
    return make_config(tmp_path, slack, **FAST)


def dm(slack, who):
    return slack.ws.im(slack.user(who))


def reminder_dm(slack, who):
    return wait_for(
        lambda: next(
            (m for m in dm(slack, who).messages if "reminder_draft" in str(m.blocks)), None
        ),
        timeout=10,
        what=f"a reminder DM to {who}",
    )


def private_resolved_with_owner_bob(slack, bot):
    channel = open_incident(slack, text="start --private vault sealed sev1")
    slack.command("alice", "/incident", "owner @alice @bob", channel.name)  # bob is invited
    bot.settle()
    assert slack.user("bob") in channel.members
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    return channel


def test_a_person_removed_from_a_private_incident_still_reads_its_draft_from_an_old_reminder(
    slack, bot
):
    channel = private_resolved_with_owner_bob(slack, bot)
    reminder = reminder_dm(slack, "bob")  # bob was an owner: he got the reminder, rightly
    # bob is taken off the incident: no longer an owner, removed from the private channel
    slack.command("alice", "/incident", "owner @alice", channel.name)
    slack.remove("bob", channel.name)
    bot.settle()
    assert not bot.store.is_member(slack.ws.team_id, channel.id, slack.user("bob"))
    # what the channel writes afterwards is not for bob
    slack.command("alice", "/incident", "write summary", channel.name)
    slack.submit("alice", {"text": SECRET})
    bot.settle()
    # the bot refuses bob when he names the incident ...
    refused = slack.command("bob", "/incident", "draft hotfix-001", dm(slack, "bob").id)
    assert "There is no `hotfix-001` you can see" in refused.text
    # ... but the button of the reminder he got before still hands him the draft as it is now
    before = len(dm(slack, "bob").messages)
    slack.click("bob", reminder, "reminder_draft")
    bot.settle()
    leaked = [
        f["content"].decode()
        for m in dm(slack, "bob").messages[before:]
        for f in (m.files or [])
        if f.get("content")
    ]
    assert not any(SECRET in text for text in leaked), (
        "bob, removed from the private incident, got its current draft with the new root cause"
    )


def test_a_person_removed_from_a_private_incident_can_still_write_its_post_mortem(slack, bot):
    channel = private_resolved_with_owner_bob(slack, bot)
    reminder = reminder_dm(slack, "bob")
    slack.command("alice", "/incident", "owner @alice", channel.name)
    slack.remove("bob", channel.name)
    bot.settle()
    refused = slack.command("bob", "/incident", "write hotfix-001", dm(slack, "bob").id)
    assert "There is no `hotfix-001` you can see" in refused.text
    slack.click("bob", reminder, "reminder_write")
    modal = slack.modal("bob")
    if modal is not None:
        # the modal even shows what the section holds; bob submits over it
        slack.submit("bob", {"text": "Nothing happened, all good."})
        bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    rows = bot.store.db.execute(
        "SELECT value, author_id FROM section_values WHERE incident_id = ?", [incident.id]
    ).fetchall()
    assert modal is None and rows == [], (
        f"bob, no longer in the private incident, opened and wrote its post-mortem: {rows}"
    )


def test_the_old_owner_of_an_action_item_can_still_close_it_after_it_was_handed_on(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "action rotate keys @bob due 2027-01-10", channel.name)
    bot.settle()
    old = mark_done_dm(slack, "bob")
    slack.command("alice", "/incident", "action AI-001 @carol", channel.name)  # carol owns it now
    bot.settle()
    slack.click("bob", old, "action_done")
    bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    rows = bot.store.db.execute(
        "SELECT status, owner_id FROM action_items WHERE incident_id = ?", [incident.id]
    ).fetchall()
    assert rows == [("open", slack.user("carol"))], (
        f"bob's stale Mark done closed carol's action item: {rows}"
    )


def test_the_app_home_lists_a_private_incident_to_someone_removed_from_its_channel(slack, bot):
    from tests.test_limits import open_home

    channel = open_incident(slack, text="start --private vault sealed by insider sev1")
    slack.command("alice", "/incident", "owner @alice @bob", channel.name)
    bot.settle()
    slack.remove("bob", channel.name)  # README: private incidents are "listed only to its members"
    bot.settle()
    listed = slack.command("bob", "/incident", "list", dm(slack, "bob").id)
    assert "vault" not in listed.body  # /incident list keeps to that
    home = str(open_home(slack, bot, "bob"))
    assert "vault sealed by insider" not in home, (
        "bob, removed from the private channel, still sees the incident on the App Home"
    )
