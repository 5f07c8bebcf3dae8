"""Security (issue 13), an attack on the fixes: what still got through after them. Each test
drives the real app with requests as Slack sends them (signed); "crafted" ones need the signing
secret, so they test the checks behind what Slack itself would never send."""

import pytest

from tests.test_incident_commands import open_incident

SECRET = "HSM master key exported to a laptop"
TITLE = "vault sealed"


def dm(slack, who):
    return slack.ws.im(slack.user(who))


def private_incident(slack, bot):
    """hotfix-001, private, commanded by alice: a timeline entry, an action item, a written
    summary, all saying SECRET, resolved. mallory is in the workspace, not in the channel."""
    channel = open_incident(slack, text=f"start --private {TITLE} sev1")
    slack.command("alice", "/timeline", f"detected: {SECRET}", channel.name)
    slack.command("alice", "/incident", f"action rotate the {SECRET} @alice", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    slack.command("alice", "/incident", "write summary", channel.name)
    slack.submit("alice", {"text": SECRET})
    bot.settle()
    slack.ws.add_user("mallory")
    return channel


def shows_it(text):
    return SECRET in text or TITLE in text


# --- commands naming no incident, sent "from" a private incident channel -----------------


READS = ["/timeline", "/timeline list", "/incident status", "/incident actions"]


@pytest.mark.parametrize("typed", READS)
def test_a_crafted_command_from_a_private_channel_shows_a_non_member_nothing(slack, bot, typed):
    """Naming `hotfix-001` from a DM was refused; the same command with the private channel's
    id answered in full (the ack goes back over HTTP to whoever sent the request)."""
    channel = private_incident(slack, bot)
    command, _, text = typed.partition(" ")
    reply = slack.command("mallory", command, text, channel.name)
    assert not shows_it(reply.body), reply.body
    assert "cannot see" in reply.text


def test_a_crafted_draft_command_from_a_private_channel_gives_a_non_member_no_draft(slack, bot):
    channel = private_incident(slack, bot)
    slack.archive(channel)  # a draft the channel refuses goes to the asker's DM
    reply = slack.command("mallory", "/incident", "draft", channel.name)
    bot.settle()
    got = [m.text + str(m.blocks) + str(m.files) for m in dm(slack, "mallory").messages]
    assert not any(shows_it(g) for g in [reply.body, *got]), got


def test_a_crafted_write_command_from_a_private_channel_opens_no_modal(slack, bot):
    """The modal carries the section as written so far."""
    channel = private_incident(slack, bot)
    reply = slack.command("mallory", "/incident", "write summary", channel.name)
    assert slack.modal("mallory", wait=0.5) is None
    assert "cannot see" in reply.text


def counts(bot):
    """How many rows each table that records a change holds."""
    tables = ("events", "timeline", "action_items", "owners", "incidents")
    return {t: bot.store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


CHANGES = [
    ("/timeline", "14:00 nothing happened here"),
    ("/incident", "reopen"),
    ("/incident", "severity sev4"),
    ("/incident", "owner @mallory"),
    ("/incident", "action close the ticket @mallory"),
    ("/incident", "publish"),
]


@pytest.mark.parametrize(("command", "text"), CHANGES)
def test_a_crafted_command_from_a_private_channel_changes_nothing_for_a_non_member(
    slack, bot, command, text
):
    channel = private_incident(slack, bot)
    before = counts(bot)
    reply = slack.command("mallory", command, text, channel.name)
    bot.settle()
    assert counts(bot) == before
    assert "cannot see" in reply.text, reply.text


def test_a_non_member_cannot_take_command_of_a_private_incident_its_commander_left(slack, bot):
    channel = private_incident(slack, bot)
    slack.join("bob", channel.name)
    slack.remove("alice", channel.name)  # bob stays: the channel goes on
    bot.settle()
    reply = slack.command("mallory", "/incident", "commander @mallory", channel.name)
    bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.commander_id == slack.user("alice")
    assert "cannot see" in reply.text, reply.text


def test_a_crafted_add_to_timeline_from_a_private_channel_keeps_nothing(slack, bot):
    channel = private_incident(slack, bot)
    message = slack.say("alice", channel.name, "pager: all clear")
    before = bot.store.db.execute("SELECT COUNT(*) FROM timeline").fetchone()
    slack.shortcut("mallory", "add_to_timeline", channel.name, message)
    bot.settle()
    assert bot.store.db.execute("SELECT COUNT(*) FROM timeline").fetchone() == before
    assert any("cannot see" in e.text for e in slack.ephemerals("mallory"))


# --- reminders ------------------------------------------------------------------------------


def fire_now(config, store, clock, incident, kind):
    """Send a reminder of `kind` for `incident` now, as the scheduler would."""
    from bot.reminders import Planned
    from bot.slack.app import create_client, create_reminder_sender

    sender = create_reminder_sender(config, store, create_client(config), clock)
    (reminder,) = sender.reminders.add(incident, [Planned(kind, "attack", clock())])
    sender.fire(reminder.id)


@pytest.mark.parametrize(
    ("kind", "role"), [("before", "owner add @bob"), ("overdue", "commander @bob")]
)
def test_someone_who_left_a_private_channel_gets_no_reminder_naming_it(
    slack, bot, config, store, clock, kind, role
):
    """An owner (reminded before the deadline) or the commander (told at it) who left: their
    App Home stopped listing the incident and its buttons refuse them, but the DMs went on, each
    with the incident's title and open points."""
    channel = open_incident(slack, text=f"start --private {TITLE} sev1")
    slack.join("carol", channel.name)
    slack.command("alice", "/incident", "owner @alice @carol", channel.name)
    slack.command("alice", "/incident", role, channel.name)  # bob is invited
    slack.command("carol", "/incident", "resolve", channel.name)
    bot.settle()
    slack.remove("bob", channel.name)  # still named owner, or still the commander
    bot.settle()
    incident = store.incident_by_channel(slack.ws.team_id, channel.id)
    fire_now(config, store, clock, incident, kind)
    bobs = [m.text + str(m.blocks) for m in dm(slack, "bob").messages]
    assert not any(TITLE in m for m in bobs), bobs


def test_a_member_whose_join_has_not_reached_the_bot_is_asked_of_slack_and_let_in(slack, bot):
    """The store's list of members is Slack's join and leave events as they arrived: a join
    still on its way (or sent while the bot was down) must not shut a member out."""
    channel = private_incident(slack, bot)
    channel.members.add(slack.user("bob"))  # Slack has him in; the bot never heard of it
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert not bot.store.is_member(slack.ws.team_id, channel.id, slack.user("bob"))
    reply = slack.command("bob", "/timeline", "failover to the standby vault", channel.name)
    assert reply.status == 200 and "cannot see" not in reply.text
    bot.settle()
    texts = [e.text for e in bot.store.entries(slack.ws.team_id, incident.id)]
    assert "failover to the standby vault" in texts
    assert bot.store.is_member(slack.ws.team_id, channel.id, slack.user("bob")), "remembered"
    refused = slack.command("mallory", "/timeline", "me too", channel.name)
    assert "cannot see" in refused.text, "Slack says mallory is not in it"
