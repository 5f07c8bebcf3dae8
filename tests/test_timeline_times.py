"""The times people mean, end to end: each person types their own clock (Slack's users.info
`tz`), across their midnight and across a daylight-saving switch; the post-mortem shows the
right UTC times in the right order. Every moment comes from the injected clock."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Clock, make_config, recorded, render_draft, serve
from tests.test_incident_commands import open_incident

ZONES = {
    "alice": "Europe/London",
    "bob": "Europe/Berlin",
    "carol": "America/Los_Angeles",
    "dev": "Asia/Kolkata",
}


@pytest.fixture
def people(slack):
    slack.ws.add_user("dev", "Dev Iyer")
    for name, tz in ZONES.items():
        slack.ws.user_named(name).tz = tz
    return slack


def draft_timeline(store, clock, channel, slack):
    """The post-mortem's timeline table rows: (time, event) as rendered."""
    incident = store.incident_by_channel(slack.ws.team_id, channel.id)
    postmortem, hotfix, readiness = render_draft(store, clock, incident)
    table = postmortem.split("### Timeline (Detailed)")[1].split("\n---")[0]
    rows = [
        ln.split(" | ") for ln in table.splitlines() if ln.startswith("| ") and "HH:MM" not in ln
    ]
    return [(r[0].strip("| "), r[1]) for r in rows[1:]], hotfix, readiness


def type_at(slack, clock, moment, who, text, channel):
    clock.now = moment
    reply = slack.command(who, "/timeline", text, channel.name)
    assert recorded(reply), reply.text
    return reply


@pytest.mark.parametrize(
    "opened",
    [
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),  # Berlin falls back at 01:00 UTC on the 25th
    ],
)
def test_three_zones_across_midnight_and_a_dst_switch(people, slack, store, tmp_path, opened):
    clock = Clock(opened)
    with serve(slack, make_config(tmp_path, slack), store, clock) as bot:
        channel = open_incident(slack, who="alice", text="start Search latency p99 sev2")
        # bob, in Berlin, at 02:20 CET (after the clocks went back): 01:50 was still CEST
        type_at(
            slack,
            clock,
            datetime(2026, 10, 25, 1, 20, tzinfo=UTC),
            "bob",
            "01:50 detected: p99 alert",
            channel,
        )
        # carol, in Los Angeles, at 18:25 PDT on the 24th (the 25th in UTC)
        type_at(
            slack,
            clock,
            datetime(2026, 10, 25, 1, 25, tzinfo=UTC),
            "carol",
            "17:45 investigating: looked at the index",
            channel,
        )
        # dev, in Kolkata, at 07:00 IST
        type_at(
            slack,
            clock,
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
            "dev",
            "06:50 root-cause: shard rebalancing",
            channel,
        )
        # bob again, backdating to before his midnight (yesterday, his time)
        type_at(
            slack,
            clock,
            datetime(2026, 10, 25, 1, 35, tzinfo=UTC),
            "bob",
            "yesterday 23:55 a deploy went out",
            channel,
        )
        clock.now = datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
        slack.command("alice", "/incident", "resolve", channel.name)
        bot.settle()
        rows, hotfix, _ = draft_timeline(store, clock, channel, slack)
    assert rows == [
        ("2026-10-24 21:55", "a deploy went out"),  # 23:55 CEST
        ("2026-10-24 23:30", "Incident began"),
        ("2026-10-24 23:50", "First detection"),  # 01:50 CEST
        ("2026-10-25 00:45", "Investigation started"),  # 17:45 PDT
        ("2026-10-25 01:20", "Root cause identified"),  # 06:50 IST
        ("2026-10-25 02:00", "Incident closed"),
    ]
    assert "| 2026-10-24 23:50:00 UTC | First detection |" in hotfix


def test_each_person_at_their_own_midnight(people, slack, store, tmp_path):
    # 00:10 in Kolkata is 18:40 UTC; 23:50 there is 18:20 UTC
    clock = Clock(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock) as bot:
        channel = open_incident(slack, who="alice", text="start Payments down sev1")
        type_at(
            slack,
            clock,
            datetime(2026, 11, 29, 18, 40, tzinfo=UTC),
            "dev",
            "23:50 detected: card declines",
            channel,
        )
        # 23:55 in Los Angeles is 07:55 UTC the next day; she types 23:40 (07:40 UTC)
        type_at(
            slack,
            clock,
            datetime(2026, 11, 30, 7, 55, tzinfo=UTC),
            "carol",
            "23:40 fix: switched acquirer",
            channel,
        )
        bot.settle()
        # dev, the next afternoon in Kolkata (13:27 IST), backdates to 23:00 yesterday, his time
        type_at(
            slack,
            clock,
            datetime(2026, 11, 30, 7, 57, tzinfo=UTC),
            "dev",
            "yesterday 23:00 acquirer's status page went red",
            channel,
        )
        # LA's clocks went back on 2026-11-01; this is a later day: PST, UTC-8
        rows, _, _ = draft_timeline(store, clock, channel, slack)
        bot.settle()
        echoes = json.dumps([m.blocks for m in channel.messages])
    assert rows[:4] == [
        ("2026-11-29 17:30", "acquirer's status page went red"),
        ("2026-11-29 18:00", "Incident began"),
        ("2026-11-29 18:20", "First detection"),
        ("2026-11-30 07:40", "Fix implemented"),
    ]
    assert "*2026-11-29 17:30 UTC*" in echoes, "the echo gives the date when it is not today"
    assert "*07:40 UTC*" in echoes, "and only then"


def test_los_angeles_across_its_dst_switch(people, slack, store, tmp_path):
    # LA falls back 2026-11-01 at 09:00 UTC (02:00 PDT -> 01:00 PST); at 04:00 PST:
    clock = Clock(datetime(2026, 11, 1, 7, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock):
        channel = open_incident(slack, who="carol", text="start Queue backlog sev3")
        type_at(
            slack,
            clock,
            datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
            "carol",
            "00:30 detected: backlog alarm",
            channel,
        )  # PDT: 07:30 UTC
        type_at(
            slack,
            clock,
            datetime(2026, 11, 1, 12, 1, tzinfo=UTC),
            "carol",
            "03:30 fix: consumers scaled",
            channel,
        )  # PST: 11:30 UTC
        rows, _, _ = draft_timeline(store, clock, channel, slack)
    assert rows[1:3] == [("07:30", "First detection"), ("11:30", "Fix implemented")]


def test_a_time_that_the_clocks_skipped_is_refused(people, slack, store, tmp_path):
    clock = Clock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock):
        channel = open_incident(slack, who="bob", text="start Mail queue stuck")
        clock.now = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 05:00 CEST
        reply = slack.command("bob", "/timeline", "02:30 detected: x", channel.name)
    assert "did not exist in Europe/Berlin on 2026-03-29" in reply.text


def test_a_time_ahead_on_the_persons_clock_is_refused_with_their_time(
    people, slack, store, tmp_path
):
    clock = Clock(datetime(2026, 11, 30, 1, 30, tzinfo=UTC))  # 02:30 in Berlin
    with serve(slack, make_config(tmp_path, slack), store, clock) as bot:
        channel = open_incident(slack, who="bob", text="start Disk full")
        reply = slack.command("bob", "/timeline", "02:40 detected: disk alert", channel.name)
        assert "10 minutes from now (it is 02:30 Europe/Berlin)" in reply.text
        assert len(bot.store.entries(slack.ws.team_id, 1)) == 1


def test_explicit_zones_are_read_as_written_and_need_no_lookup(people, slack, store, tmp_path):
    clock = Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock) as bot:
        channel = open_incident(slack, who="bob", text="start Latency")
        slack.fail("users.info", "internal_error", times=100)  # Slack cannot say bob's zone
        for text in ("14:05Z a", "14:05 UTC b", "15:05+01:00 c", "-30m d"):
            assert recorded(slack.command("bob", "/timeline", text, channel.name)), text
        refused = slack.command("bob", "/timeline", "14:05 e", channel.name)
        assert "couldn't get your time zone" in refused.text and "14:05Z" in refused.text
        got = {e.text: e.at for e in bot.store.entries(slack.ws.team_id, 1)}
    assert got["a"] == got["b"] == got["c"] == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert got["d"] == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
    slack.api.faults.clear()


def test_a_team_that_speaks_utc(people, slack, store, tmp_path):
    clock = Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    config = make_config(tmp_path, slack, TIMELINE_TIME_ZONE="utc")
    with serve(slack, config, store, clock) as bot:
        channel = open_incident(slack, who="bob", text="start Latency")
        slack.command("bob", "/timeline", "13:50 began: a deploy", channel.name)
        slack.command("bob", "/timeline", "14:05 detected: x", channel.name)  # bob is in Berlin
        slack.command("bob", "/incident", "resolve 14:50", channel.name)
        incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    began, entry = bot.store.entries(slack.ws.team_id, incident.id)[:2]
    assert began.at == datetime(2026, 11, 30, 13, 50, tzinfo=UTC)
    assert entry.at == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 11, 30, 14, 50, tzinfo=UTC)


def test_resolve_reads_the_persons_clock_too(people, slack, store, tmp_path):
    clock = Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock) as bot:
        channel = open_incident(slack, who="dev", text="start Latency")
        clock.now += timedelta(minutes=40)
        slack.command("dev", "/incident", "resolve 21:10", channel.name)  # IST: 15:40 UTC
        incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.resolved_at == datetime(2026, 11, 30, 15, 40, tzinfo=UTC)


def test_the_zone_is_asked_of_slack_once(people, slack, store, tmp_path):
    clock = Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock):
        channel = open_incident(slack, who="bob", text="start Latency")
        before = len([c for c in slack.api.calls if c[0] == "users.info"])
        for minute in range(3):
            slack.command("bob", "/timeline", f"15:0{minute} step", channel.name)
        after = len([c for c in slack.api.calls if c[0] == "users.info"])
    assert after - before == 1


@pytest.mark.parametrize("tz", ["", "Mars/Base", "None"])
def test_a_profile_without_a_usable_zone_says_so(people, slack, store, tmp_path, tz):
    clock = Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    with serve(slack, make_config(tmp_path, slack), store, clock):
        channel = open_incident(slack, who="bob", text="start Latency")
        slack.ws.user_named("carol").tz = tz
        reply = slack.command("carol", "/timeline", "14:05 detected: x", channel.name)
        assert "Your Slack profile has no time zone I can read" in reply.text
        assert recorded(slack.command("carol", "/timeline", "14:05Z detected: x", channel.name))
