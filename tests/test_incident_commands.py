"""`/incident` end to end: signed HTTP requests into the running bot, the strict Slack emulator,
and a real SQLite file."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Status
from tests.conftest import Clock, make_config, serve, wait_for

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(T0)


def open_incident(slack, who="alice", text="start Checkout API returning 500s sev2"):
    """Run /incident start and wait until the bot has set the channel up."""
    before = set(slack.ws.channels)
    reply = slack.command(who, "/incident", text)
    assert reply.status == 200
    channel = wait_for(
        lambda: next(
            (
                c
                for cid, c in slack.ws.channels.items()
                if cid not in before and not c.is_im and c.messages
            ),
            None,
        ),
        what="the incident channel and its kick-off message",
    )
    wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals(who)), what="ready note")
    return channel


def test_start_opens_a_channel_with_commander_topic_and_pinned_kickoff(slack, bot):
    reply = slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
    assert reply.json["response_type"] == "ephemeral"
    assert "hotfix-001" in reply.text and "incident commander" in reply.text

    channel = wait_for(
        lambda: next(
            (c for c in slack.ws.channels.values() if c.messages and c.name != "general"), None
        )
    )
    assert channel.name == "inc-001-checkout-api-returning-500s"
    wait_for(lambda: channel.messages[0].pinned, what="the pinned kick-off")
    alice = slack.user("alice")
    assert alice in channel.members and not channel.is_private
    assert channel.topic.startswith(f"hotfix-001 · SEV2 · IC: <@{alice}>")
    assert channel.topic.endswith("Status: open")
    (kickoff,) = channel.messages
    assert kickoff.pinned
    shown = str(kickoff.blocks)
    for example in ("/timeline 14:05 detected:", "/incident resolve", "/timeline edit 3"):
        assert example in shown

    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.hotfix_id == "hotfix-001" and incident.commander_id == alice
    assert incident.kickoff_ts == kickoff.ts
    (began,) = bot.store.entries(slack.ws.team_id, incident.id)
    assert began.milestone.label == "Incident began" and began.at == T0


def test_the_ack_comes_before_any_web_api_call(slack, bot):
    slack.api.delays["conversations.create"] = 1.5
    reply = slack.command("alice", "/incident", "start slow slack")
    assert reply.seconds < 1.0, "the ack waited on the Web API"
    assert "hotfix-001" in reply.text
    wait_for(lambda: any(c.name.startswith("inc-001") for c in slack.ws.channels.values()))


def test_hotfix_ids_count_up_and_channel_names_stay_valid(slack, bot):
    open_incident(slack, text="start first")
    open_incident(slack, text="start 決済が失敗しています sev1")
    names = sorted(c.name for c in slack.ws.channels.values() if c.name.startswith("inc-"))
    assert names == ["inc-001-first", "inc-002-incident"]


def test_name_taken_picks_another_name(slack, bot):
    slack.ws.add_channel("inc-001-db-down", slack.user("bob"))
    channel = open_incident(slack, text="start db down")
    assert channel.name == "inc-001-db-down-2"


def test_announces_public_incidents_only(tmp_path, slack, store, clock):
    announce = slack.ws.add_channel("incidents", slack.user("bob"))
    config = make_config(tmp_path, slack, ANNOUNCE_CHANNEL=announce.id)
    with serve(slack, config, store, clock):
        channel = open_incident(slack, text="start payments down sev1")
        wait_for(lambda: announce.messages, what="the announcement")
        (message,) = announce.messages
        assert "hotfix-001" in str(message.blocks) and f"<#{channel.id}>" in str(message.blocks)

        secret = open_incident(slack, "bob", "start --private leaked credentials sev1")
        assert secret.is_private
        assert len(announce.messages) == 1, "a private incident was announced"


def test_private_incidents_are_listed_only_to_members(slack, bot):
    open_incident(slack, text="start public one")
    secret = open_incident(slack, "bob", "start --private leaked credentials sev1")
    for who, sees_secret in (("bob", True), ("alice", False), ("carol", False)):
        listing = str(slack.command(who, "/incident", "list").json)
        assert "public one" in listing
        assert ("leaked credentials" in listing) is sees_secret, who

    slack.join("carol", secret.name)  # Slack tells the bot: member_joined_channel
    slack.wait_idle()
    assert "leaked credentials" in str(slack.command("carol", "/incident", "list").json)


def test_roles_severity_and_status(slack, bot, clock):
    channel = open_incident(slack)
    bob, carol = slack.user("bob"), slack.user("carol")

    reply = slack.command("alice", "/incident", "commander @bob", channel.name)
    assert reply.json["response_type"] == "in_channel"
    assert f"<@{bob}> is now the incident commander" in reply.text
    wait_for(lambda: f"IC: <@{bob}>" in channel.topic, what="topic update")
    assert bob in channel.members

    reply = slack.command("alice", "/incident", "owner @carol @alice", channel.name)
    assert f"<@{carol}>" in reply.text
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert bot.store.owners(slack.ws.team_id, incident.id) == [carol, slack.user("alice")]
    slack.command("alice", "/incident", "owner remove @alice", channel.name)
    assert bot.store.owners(slack.ws.team_id, incident.id) == [carol]
    slack.command("alice", "/incident", "owner add @bob", channel.name)
    assert bot.store.owners(slack.ws.team_id, incident.id) == [carol, bob]

    reply = slack.command("alice", "/incident", "severity SEV1", channel.name)
    assert "SEV1" in reply.text
    wait_for(lambda: "SEV1" in channel.topic, what="topic update")

    clock.now = T0 + timedelta(minutes=42)
    slack.command("bob", "/timeline", "15:35 detected: alert fired", channel.name)
    status = slack.command("carol", "/incident", "status", channel.name)
    assert status.json["response_type"] == "ephemeral"
    shown = str(status.json["blocks"])
    assert "Duration so far* 42m" in shown and "Time to detect* 5m" in shown
    assert "First detection" in shown


def test_an_incident_that_began_before_it_was_opened(slack, bot, clock):
    """People open the incident after the alert: backdating "Incident began" fixes the metrics."""
    channel = open_incident(slack)  # opened at 15:30
    slack.command("bob", "/timeline", "15:05 detected: alert fired", channel.name)
    reply = slack.command("alice", "/timeline", "14:50 began: bad config pushed", channel.name)
    assert "Incident began" in reply.text
    shown = str(slack.command("alice", "/incident", "status", channel.name).json["blocks"])
    assert "Began* <!date^" in shown and "(14:50 UTC)" in shown
    assert "Time to detect* 15m" in shown and "Duration so far* 40m" in shown
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    began = [
        e for e in bot.store.entries(slack.ws.team_id, incident.id) if e.milestone.value == "began"
    ]
    assert [(e.at.strftime("%H:%M"), e.text) for e in began] == [("14:50", "bad config pushed")]
    assert "before that" in slack.command("bob", "/incident", "resolve 14:40", channel.name).text
    assert "resolved" in slack.command("bob", "/incident", "resolve 15:20", channel.name).text


def test_owners_default_to_the_commander(slack, bot):
    channel = open_incident(slack)
    status = str(slack.command("alice", "/incident", "status", channel.name).json)
    assert f"Post-mortem owners* <@{slack.user('alice')}>" in status


def test_resolve_records_closure_and_the_deadline(slack, bot, clock):
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=2)
    reply = slack.command("bob", "/incident", "resolve 17:10", channel.name)
    assert reply.json["response_type"] == "in_channel"
    shown = str(reply.json["blocks"])
    assert "resolved* at 17:10 UTC" in shown and "2026-11-28 17:10 UTC" in shown

    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.status is Status.RESOLVED
    assert incident.resolved_at == datetime(2026, 11, 26, 17, 10, tzinfo=UTC)
    assert incident.deadline_at == incident.resolved_at + timedelta(hours=48)
    closed = [e for e in bot.store.entries(slack.ws.team_id, incident.id) if e.milestone]
    assert [e.milestone.label for e in closed] == ["Incident began", "Incident closed"]
    wait_for(lambda: channel.topic.endswith("Status: resolved"), what="topic update")

    again = slack.command("bob", "/incident", "resolve", channel.name)
    assert "already resolved" in again.text
    assert "No open incidents" in str(slack.command("bob", "/incident", "list").json)


def test_resolve_refuses_times_before_the_start_or_in_the_future(slack, bot, clock):
    channel = open_incident(slack)
    assert (
        "cannot be resolved before"
        in slack.command("bob", "/incident", "resolve 2026-11-26 09:00", channel.name).text
    )
    assert (
        "from now"
        in slack.command("bob", "/incident", "resolve 2026-11-27 09:00", channel.name).text
    )
    assert "is not a time" in slack.command("bob", "/incident", "resolve soon", channel.name).text
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.status is Status.OPEN


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "/incident start &lt;title&gt;"),
        ("help", "/incident start &lt;title&gt;"),
        ("launch rockets", "`/incident launch` is not a command"),
        ("start", "An incident needs a title"),
        ("start sev2", "An incident needs a title"),
        ("start " + "long " * 60, "the limit is 200"),
        ("commander bob", "`bob` is not a person"),
        ("commander", "Who? Mention someone"),
        ("severity critical", "not a severity"),
        ("status", "only in an incident channel"),
        ("resolve", "only in an incident channel"),
    ],
)
def test_bad_input_gets_a_short_ephemeral_answer_and_stores_nothing(slack, bot, text, expected):
    reply = slack.command("alice", "/incident", text)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert expected in reply.text
    assert "Traceback" not in reply.body
    assert bot.store.open_incidents(slack.ws.team_id) == []


def test_an_unexpected_error_is_an_apology_not_a_500(slack, bot):
    bot.store.db.execute("DROP TABLE incidents")  # break the database under the bot
    reply = slack.command("alice", "/incident", "start doomed")
    assert reply.status == 200
    assert "went wrong on our side" in reply.text
    assert "Traceback" not in reply.body and "sqlite" not in reply.body.lower()


def test_concurrent_starts_get_distinct_ids_and_channels(slack, bot):
    from concurrent.futures import ThreadPoolExecutor

    people = ["alice", "bob", "carol"] * 3
    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        replies = list(
            pool.map(
                lambda i: slack.command(people[i], "/incident", f"start outage {i}"),
                range(len(people)),
            )
        )
    assert all(r.status == 200 for r in replies)
    ids = sorted(r.text.split("*")[1] for r in replies)
    assert ids == [f"hotfix-{n:03d}" for n in range(1, 10)]
    bot.settle()
    names = sorted(c.name for c in slack.ws.channels.values() if c.name.startswith("inc-"))
    assert len(names) == 9 and len({n[:7] for n in names}) == 9


def test_reopen_and_resolve_again_moves_the_deadline_and_its_reminders(slack, bot, clock):
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/incident", "resolve", channel.name)
    bot.settle()
    reply = slack.command("bob", "/incident", "reopen", channel.name)
    assert reply.json["response_type"] == "in_channel" and "reopened" in reply.text
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.status is Status.OPEN and incident.resolved_at is None
    assert incident.deadline_at is None
    milestones = [
        e.milestone.value for e in bot.store.entries(slack.ws.team_id, incident.id) if e.milestone
    ]
    assert milestones == ["began"]
    statuses = {r["status"] for r in bot.store.db.query("SELECT status FROM reminders")}
    assert statuses == {"cancelled"}
    assert "open already" in slack.command("bob", "/incident", "reopen", channel.name).text

    clock.now = T0 + timedelta(hours=3)
    slack.command("bob", "/incident", "resolve", channel.name)
    bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.deadline_at == T0 + timedelta(hours=3 + 48)
    pending = list(bot.store.db.query("SELECT due_at FROM reminders WHERE status = 'pending'"))
    assert len(pending) == 3  # 24 h and 4 h before the new deadline, and the overdue notice
