"""Reminders Slack takes but nobody reads, or refuses: each failure reaches a person, once.

A deactivated owner or commander (Slack may still accept the DM), a DM refused, an archived
incident channel, and nudges that must end.
"""

import time
from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest

from bot.reminders import MAX_NUDGES
from tests.conftest import START, Clock, make_config, wait_for
from tests.test_incident_commands import open_incident

FAST = {"POSTMORTEM_DEADLINE": "5s", "REMINDERS_BEFORE": "3s", "OVERDUE_NUDGE_EVERY": "2s"}


@pytest.fixture
def config(tmp_path, slack):
    return make_config(tmp_path, slack, **FAST)


def dms(slack, who):
    return list(slack.ws.im(slack.user(who)).messages)


def texts(messages):
    return [m.text for m in messages]


def deliveries(store, user_id):
    rows = store.db.query(
        "SELECT ts FROM reminder_deliveries WHERE user_id = ? ORDER BY sent_at", [user_id]
    )
    return [r["ts"] for r in rows]


def resolve(slack, bot, channel, *owners):
    if owners:
        slack.command(
            "alice", "/incident", "owner " + " ".join(f"@{o}" for o in owners), channel.name
        )
    assert "resolved" in slack.command("alice", "/incident", "resolve", channel.name).text
    bot.settle()  # the checklist and the draft are in the channel: it may now be archived


def nudged(slack, who, n=1):
    wait_for(
        lambda: len([m for m in dms(slack, who) if "overdue" in m.text]) >= n,
        timeout=12,
        what=f"{n} overdue DM(s) to {who}",
    )


def test_the_sandbox_archives_and_deactivates_as_slack_documents(slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.sandbox import BOT_TOKEN

    api = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    slack.archive("general")
    assert api.conversations_info(channel=slack.general.id)["channel"]["is_archived"] is True
    with pytest.raises(SlackApiError) as refused:
        api.chat_postMessage(channel=slack.general.id, text="hello")
    assert refused.value.response["error"] == "is_archived"
    slack.deactivate("carol")
    assert api.users_info(user=slack.user("carol"))["user"]["deleted"] is True
    assert api.chat_postMessage(channel=slack.user("carol"), text="hello")["ok"]  # nobody reads it
    slack.deactivate("bob", dms_accepted=False)
    with pytest.raises(SlackApiError) as refused:
        api.chat_postMessage(channel=slack.user("bob"), text="hello")
    assert refused.value.response["error"] == "channel_not_found"


# --- deactivated people ---------------------------------------------------------------------


def test_a_deactivated_owner_is_reported_to_the_commander_once(slack, bot):
    channel = open_incident(slack)
    resolve(slack, bot, channel, "bob", "carol")
    slack.deactivate("carol")  # Slack still takes DMs to her; nobody will read them
    nudged(slack, "bob", 2)  # a reminder, the overdue notice, two nudges: four chances to repeat
    bot.settle()
    assert dms(slack, "carol") == [], "no DM to a deactivated account counts as delivered"
    reports = [m.text for m in channel.messages if m.text.startswith(":warning:")]
    assert len(reports) == 1, reports
    (report,) = reports
    assert report.startswith(f":warning: <@{slack.user('alice')}>:"), "to the commander"
    assert f"<@{slack.user('carol')}>" in report and "/incident owner" in report
    carol = deliveries(bot.store, slack.user("carol"))
    assert len(carol) >= 3 and set(carol) == {"failed:deactivated"}


def test_a_deactivated_commander_is_reported_in_the_channel(slack, bot):
    channel = open_incident(slack)
    resolve(slack, bot, channel, "bob")
    slack.deactivate("alice")
    nudged(slack, "bob", 2)
    bot.settle()
    assert not [m for m in dms(slack, "alice") if "overdue" in m.text]
    reports = [m.text for m in channel.messages if m.text.startswith(":warning:")]
    assert len(reports) == 1, reports
    assert f"<@{slack.user('alice')}>" in reports[0] and "/incident commander" in reports[0]


def test_a_refused_dm_is_reported_once_not_at_every_reminder(slack, bot):
    channel = open_incident(slack)
    resolve(slack, bot, channel, "bob", "carol")
    slack.fail("chat.postMessage", "channel_not_found", times=100, channel=slack.user("carol"))
    nudged(slack, "bob", 2)
    bot.settle()
    reports = [m.text for m in channel.messages if "could not be delivered" in m.text]
    assert len(reports) == 1, reports
    assert f"<@{slack.user('carol')}>" in reports[0] and "channel_not_found" in reports[0]


def test_an_action_item_owner_deactivated_is_reported_with_the_command_to_reassign(
    slack, bot, clock
):
    channel = open_incident(slack)
    slack.command(
        "alice", "/incident", f"action Rotate keys @carol due {clock().date()}", channel.name
    )
    slack.deactivate("carol")
    report = wait_for(
        lambda: [m.text for m in channel.messages if m.text.startswith(":warning:")],
        timeout=6,
        what="the report",
    )
    assert len(report) == 1 and "AI-001" in report[0], report
    assert "`/incident action AI-001 @someone`" in report[0]
    assert not [m for m in dms(slack, "carol") if "is due soon" in m.text]


# --- an archived incident channel ----------------------------------------------------------


def test_an_archived_channel_s_overdue_notice_goes_to_the_commander_and_is_the_last(slack, bot):
    channel = open_incident(slack)
    resolve(slack, bot, channel, "bob")
    slack.archive(channel)
    nudged(slack, "alice")
    time.sleep(4.5)  # two nudge intervals: nothing more comes
    bot.settle()
    (notice,) = [m for m in dms(slack, "alice") if "overdue" in m.text]
    said = str(notice.blocks)
    assert "could not be posted" in said and f"<#{channel.id}>" in said and "archived" in said
    assert "last reminder" in notice.text
    (last,) = [m for m in dms(slack, "bob") if "overdue" in m.text]
    assert "last reminder" in last.text and "archived" in str(last.blocks)
    assert not any("overdue" in m.text for m in channel.messages)
    assert bot.store.db.execute(
        "SELECT count(*) FROM reminders WHERE status IN ('pending', 'sending')"
    ).fetchone() == (0,)


def test_archiving_the_channel_while_nudging_makes_the_next_nudge_the_last(slack, bot):
    channel = open_incident(slack)
    resolve(slack, bot, channel, "bob")
    nudged(slack, "bob")
    slack.archive(channel)
    wait_for(
        lambda: any("last reminder" in m.text for m in dms(slack, "bob")),
        timeout=6,
        what="the last nudge",
    )
    time.sleep(4.5)
    bot.settle()
    overdue = [m for m in dms(slack, "bob") if "overdue" in m.text]
    assert "last reminder" in overdue[-1].text and len(overdue) == 2, texts(overdue)
    assert any("last reminder" in m.text for m in dms(slack, "alice")), "the commander is told"


# --- the sender by hand, on a stopped clock -------------------------------------------------


@dataclass
class Resolved:
    sender: object
    clock: Clock
    channel: object
    incident: object


@pytest.fixture
def resolved(tmp_path, slack, store):
    """hotfix-001 resolved at START (deadline 48 h later, nudges daily) in a channel of its own,
    bob and carol its owners, and the reminder sender without the scheduler."""
    from bot.incidents import Incidents
    from bot.models import Severity
    from bot.slack.app import create_client, create_reminder_sender
    from bot.slack.pacing import Pacer

    config = make_config(tmp_path, slack)
    clock = Clock(START)
    slack.api.post_burst = 100  # the test fires days of reminders in a moment
    team, alice = slack.ws.team_id, slack.user("alice")
    people = {slack.ws.bot.id, alice, slack.user("bob"), slack.user("carol")}
    channel = slack.ws.add_channel("inc-001-db", alice, members=people)
    incidents = Incidents(store, clock, config.deadline)
    incident = incidents.start(team, alice, "db", Severity.SEV2, private=False)
    incident = incidents.attach_channel(incident, channel.id, channel.name)
    store.set_owners(
        team, incident.id, [slack.user("bob"), slack.user("carol")], at=clock(), by=alice
    )
    incident = incidents.resolve(incident, alice, "", lambda: UTC)
    sender = create_reminder_sender(config, store, create_client(config), clock)
    sender.pacer = Pacer(interval=0)
    sender.reminders.plan_for(incident)
    return Resolved(sender, clock, channel, incident)


def run_until(run, moment, *, down=False):
    """What the scheduler does: fire each reminder when it is due (or, `down` until then, all
    that came due meanwhile at once), until `moment`."""
    if down:
        run.clock.now = moment
    while due := [r for r in run.sender.reminders.pending() if r.due_at <= moment]:
        run.clock.now = max(run.clock.now, due[0].due_at)
        run.sender.fire(due[0].id)
    run.clock.now = moment


def test_nudges_end_after_the_last_one_which_says_so(slack, resolved):
    deadline = resolved.incident.deadline_at
    run_until(resolved, deadline + timedelta(days=30))
    bob = [m for m in dms(slack, "bob") if "overdue" in m.text]
    assert len(bob) == MAX_NUDGES, texts(bob)
    assert ["last reminder" in m.text for m in bob] == [False] * (MAX_NUDGES - 1) + [True]
    assert "last reminder" in dms(slack, "alice")[-1].text, "the commander hears it is the last"
    assert resolved.sender.reminders.pending() == []


def test_a_report_the_channel_refuses_goes_to_the_commander_by_dm(slack, resolved):
    slack.archive(resolved.channel)
    slack.fail("chat.postMessage", "channel_not_found", times=100, channel=slack.user("carol"))
    run_until(resolved, resolved.incident.deadline_at - timedelta(hours=1))  # two reminders
    reports = [m for m in dms(slack, "alice") if "could not be delivered" in m.text]
    assert len(reports) == 1, texts(dms(slack, "alice"))
    assert f"<@{slack.user('carol')}>" in reports[0].text


def test_a_deactivated_commander_with_an_archived_channel_is_reported_to_the_owners(
    slack, resolved
):
    slack.archive(resolved.channel)
    slack.deactivate("alice")
    run_until(resolved, resolved.incident.deadline_at + timedelta(minutes=1))
    for who in ("bob", "carol"):
        said = texts(dms(slack, who))
        assert any(f"<@{slack.user('alice')}>" in t and "deactivated" in t for t in said), said
    assert dms(slack, "alice") == []


def test_the_overdue_notice_after_days_down_reaches_the_owners_too(slack, resolved):
    deadline = resolved.incident.deadline_at
    run_until(resolved, deadline + timedelta(days=3, hours=2), down=True)
    for who in ("alice", "bob", "carol"):
        assert len([m for m in dms(slack, who) if "overdue" in m.text]) == 1, who
    (nudge,) = resolved.sender.reminders.pending()
    assert nudge.due_at == deadline + timedelta(days=4, hours=2), "a day after this one"
