"""Severities as people write them, in `/incident start` and `/incident severity`, end to end:
signed commands into the running bot, the strict Slack emulator, a real SQLite file."""

from datetime import UTC, datetime

import pytest

from tests.conftest import Clock, wait_for
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(T0)


def only_incident(slack, bot):
    (incident,) = bot.store.open_incidents(slack.ws.team_id)
    return incident


@pytest.mark.parametrize(
    "typed, severity, words",
    [
        ("Payments down sev 1", "sev1", "sev 1"),
        ("Payments down sev1", "sev1", "sev1"),
        ("Payments down SEV1", "sev1", "SEV1"),
        ("Payments down sev-1", "sev1", "sev-1"),
        ("Payments down SEV_1", "sev1", "SEV_1"),
        ("Payments down severity 2", "sev2", "severity 2"),
        ("Payments down severity-2", "sev2", "severity-2"),
        ("Payments down P1", "sev1", "P1"),
        ("Payments down p4", "sev4", "p4"),
        ("sev 2 Payments down", "sev2", "sev 2"),
        ("P3 Payments down", "sev3", "P3"),
        ("[SEV1] Payments down", "sev1", "[SEV1]"),
        ("SEV1: Payments down", "sev1", "SEV1:"),
        ("Payments down - sev 1", "sev1", "sev 1"),
    ],
)
def test_start_takes_a_severity_from_the_first_or_last_words(slack, bot, typed, severity, words):
    reply = slack.command("alice", "/incident", f"start {typed}")
    assert reply.json["response_type"] == "ephemeral"
    incident = only_incident(slack, bot)
    assert (incident.title, incident.severity.value) == ("Payments down", severity)
    label = severity.upper()
    assert f"Severity: {label}, from `{words}` in what you typed." in reply.text
    bot.settle()


def test_a_title_without_severity_gets_the_default_and_says_how_to_change_it(slack, bot):
    reply = slack.command("alice", "/incident", "start Outage in S3")
    incident = only_incident(slack, bot)
    assert (incident.title, incident.severity.value) == ("Outage in S3", "sev3")
    assert (
        "Severity: SEV3, the default (none was given). Change it with "
        "`/incident severity sev1` (SEV1 is the most severe, SEV4 the least)."
    ) in reply.text
    bot.settle()


@pytest.mark.parametrize(
    "typed, title",
    [
        ("S1 cluster unreachable", "S1 cluster unreachable"),  # S1..S4 are not severities
        ("Firmware upgrade to P10", "Firmware upgrade to P10"),  # not a paging priority
        ("Wrong alert sev", "Wrong alert sev"),
        ("P5 instances failing sev2", "P5 instances failing"),  # P5 kept: the severity is sev2
    ],
)
def test_words_that_are_not_a_severity_stay_in_the_title(slack, bot, typed, title):
    slack.command("alice", "/incident", f"start {typed}")
    assert only_incident(slack, bot).title == title
    bot.settle()


def test_private_works_anywhere_with_a_severity(slack, bot):
    channel = open_incident(slack, text="start leaked credentials --private sev 1")
    assert channel.is_private
    incident = only_incident(slack, bot)
    assert (incident.title, incident.severity.value, incident.private) == (
        "leaked credentials",
        "sev1",
        True,
    )
    open_incident(slack, "bob", text="start --private P2 key rotation failed")
    second = bot.store.open_incidents(slack.ws.team_id)[1]
    assert (second.title, second.severity.value, second.private) == (
        "key rotation failed",
        "sev2",
        True,
    )


EXAMPLES = "`sev1`, `sev 2`, `SEV-3` or `P4`"
VALID = f"use SEV1 (the most severe), SEV2, SEV3 or SEV4, written e.g. {EXAMPLES}."


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Payments down sev 5", f"`sev 5` is not a severity: {VALID}"),
        ("sev0 Payments down", f"`sev0` is not a severity: {VALID}"),
        ("Payments down severity 12", f"`severity 12` is not a severity: {VALID}"),
        ("Payments down sev 1.5", f"`sev 1.5` is not a severity: {VALID}"),
        (
            "Payments down P0",
            f"`P0` is not a severity: {VALID} (To keep it in the title, end the title with a "
            "severity: `... sev3`.)",
        ),
        (
            "sev1 Payments down sev2",
            "Two severities, `sev1` and `sev2`: give one, at the start or the end of the title.",
        ),
        ("sev 2", "An incident needs a title"),
        (
            "outage sev 1 sev 2",
            "Two severities, `sev 1` and `sev 2`: give one, at the start or the end of the title.",
        ),
        ("-", "An incident needs a title"),
        ("sev 1 outage sev 5", "Two severities, `sev 5` and `sev 1`"),
        ("... sev1", "An incident needs a title"),
    ],
)
def test_a_severity_out_of_range_is_refused_not_kept_in_the_title(slack, bot, typed, expected):
    reply = slack.command("alice", "/incident", f"start {typed}")
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert expected in reply.text
    assert bot.store.open_incidents(slack.ws.team_id) == []
    assert not [c for c in slack.ws.channels.values() if c.name.startswith("inc-")]


@pytest.mark.parametrize(
    "typed, severity",
    [("sev 1", "SEV1"), ("P2", "SEV2"), ("SEV-2", "SEV2"), ("severity 4", "SEV4"), ("1", "SEV1")],
)
def test_severity_accepts_the_same_spellings(slack, bot, typed, severity):
    channel = open_incident(slack, text="start Checkout API returning 500s sev3")
    reply = slack.command("alice", "/incident", f"severity {typed}", channel.name)
    assert reply.json["response_type"] == "in_channel"
    assert reply.text == (
        f"hotfix-001 is now {severity} (was SEV3; set by <@{slack.user('alice')}>)."
    )
    assert only_incident(slack, bot).severity.label == severity
    wait_for(lambda: f"· {severity} ·" in channel.topic, what="the topic update")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("sev 5", f"There is no `sev 5`: {VALID}"),
        ("sev0", f"There is no `sev0`: {VALID}"),
        ("P0", f"There is no `P0`: {VALID}"),
        ("critical", f"`critical` is not a severity; {VALID}"),
        ("", f"Give one severity, e.g. `/incident severity sev1`: {VALID.removeprefix('use ')}"),
    ],
)
def test_severity_refuses_what_is_not_one_and_changes_nothing(slack, bot, typed, expected):
    channel = open_incident(slack, text="start Checkout API returning 500s sev2")
    reply = slack.command("alice", "/incident", f"severity {typed}", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text == f":warning: {expected}"
    assert only_incident(slack, bot).severity.value == "sev2"
