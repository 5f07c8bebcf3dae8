"""Action items the bot refuses, end to end: an owner typed as plain `@name`, a due date that has
passed everywhere on Earth or is years away. Each refusal is an ephemeral to the person who
typed it (or the modal's field error), and nothing is stored or sent."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import Clock
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)

# (now, the earliest due date allowed, the latest), worked out by hand: the earliest is the date
# at UTC-12 (now - 12 h), the latest five years after today's date in UTC.
CLOCKS = [
    pytest.param(T0, date(2026, 11, 26), date(2031, 11, 26), id="afternoon"),
    pytest.param(
        datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        date(2026, 11, 25),  # before noon UTC, the 25th still runs in UTC-12
        date(2031, 11, 26),
        id="morning",
    ),
    pytest.param(
        datetime(2027, 1, 1, 5, 0, tzinfo=UTC), date(2026, 12, 31), date(2032, 1, 1), id="new-year"
    ),
    pytest.param(
        datetime(2028, 2, 29, 10, 0, tzinfo=UTC),
        date(2028, 2, 28),
        date(2033, 2, 28),  # 2033 has no 29 February
        id="leap-day",
    ),
    pytest.param(
        datetime(2028, 3, 1, 11, 59, tzinfo=UTC), date(2028, 2, 29), date(2033, 3, 1), id="after"
    ),
]


@pytest.fixture
def now():
    return T0


@pytest.fixture
def clock(now):
    return Clock(now)


def action_rows(bot):
    return list(bot.store.db.query("SELECT text, owner_id, due FROM action_items ORDER BY id"))


def dms(slack, who):
    return slack.ws.im(slack.user(who)).messages


def assert_refused(slack, bot, reply, expected, channel):
    assert reply.status == 200 and "Traceback" not in reply.body
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text == f":warning: {expected}"
    bot.settle()
    assert action_rows(bot) == []
    assert not any("Action item added" in m.text for m in channel.messages)
    assert not dms(slack, "bob") and not dms(slack, "carol")


NOT_A_PERSON = (
    "is not a person in this workspace. Pick the owner from Slack's @ menu as you type (their "
    "name turns into a mention), or leave out the @ to keep the word as text."
)


@pytest.mark.parametrize(
    "typed, name",
    [
        ("Fix it @nobody", "@nobody"),
        ("Fix it (@nobody)", "@nobody"),
        ("@nobody fix the pool due 2026-12-01", "@nobody"),
        ("Fix it @bob @nobody", "@nobody"),  # a second owner nobody picked
        ("Stop paging @channel for every alert", "@channel"),  # not one person either
    ],
)
def test_an_owner_typed_as_plain_text_is_refused(slack, bot, typed, name):
    channel = open_incident(slack)
    reply = slack.command("alice", "/incident", f"action {typed}", channel.name)
    assert_refused(slack, bot, reply, f"`{name}` {NOT_A_PERSON}", channel)


def test_addresses_and_picked_people_are_not_refused(slack, bot):
    channel = open_incident(slack)
    bob, carol = slack.user("bob"), slack.user("carol")
    slack.command(
        "alice", "/incident", "action Email ops@example.com about it (@bob)", channel.name
    )
    slack.command(  # as Slack sends it: the address linked, the person picked from the @ menu
        "alice",
        "/incident",
        f"action Tell <mailto:ops@example.com|ops@example.com> <@{carol}|carol> why: @nobody asked",
        channel.name,
        raw=True,
    )
    bot.settle()
    assert action_rows(bot) == [
        {"text": "Email ops@example.com about it", "owner_id": bob, "due": None},
        {"text": "Tell ops@example.com", "owner_id": carol, "due": None},
    ]


@pytest.mark.parametrize("now, earliest, latest", CLOCKS)
def test_due_dates_that_have_passed_everywhere_or_are_years_away_are_refused(
    slack, bot, clock, earliest, latest
):
    channel = open_incident(slack)
    for due, expected in (
        (
            earliest - timedelta(days=1),
            f"The due date {earliest - timedelta(days=1)} has passed everywhere on Earth; "
            f"the earliest you can give is {earliest}.",
        ),
        (
            date(2020, 1, 1),
            f"The due date 2020-01-01 has passed everywhere on Earth; "
            f"the earliest you can give is {earliest}.",
        ),
        (
            latest + timedelta(days=1),
            f"The due date {latest + timedelta(days=1)} is more than 5 years away; "
            f"the latest you can give is {latest}.",
        ),
    ):
        reply = slack.command(
            "alice", "/incident", f"action Rotate keys @bob due {due}", channel.name
        )
        assert_refused(slack, bot, reply, expected, channel)

    for due in (earliest, latest):
        reply = slack.command(
            "alice", "/incident", f"action Rotate keys @bob due {due}", channel.name
        )
        assert reply.json["response_type"] == "in_channel", reply.text
    bot.settle()
    assert [r["due"] for r in action_rows(bot)] == [earliest.isoformat(), latest.isoformat()]
    owned = sorted(m.text for m in dms(slack, "bob") if m.text.startswith("You own"))
    assert owned == ["You own AI-001 of hotfix-001", "You own AI-002 of hotfix-001"]  # any order


def test_a_due_word_that_is_not_a_date_is_refused(slack, bot):
    channel = open_incident(slack)
    reply = slack.command(
        "alice", "/incident", "action Rotate keys @bob due tomorrow", channel.name
    )
    assert_refused(
        slack, bot, reply, "`tomorrow` is not a date; write it as `due YYYY-MM-DD`.", channel
    )


def open_action_modal(slack, channel):
    reply = slack.command("carol", "/incident", "action", channel.name)
    assert reply.status == 200
    assert slack.modal("carol")["callback_id"] == "action_modal"


def fill(slack, *, text="Rotate keys", owner="bob", due=None):
    return slack.submit(
        "carol",
        {
            "text": text,
            "owner": slack.user(owner) if owner else None,
            "due": due,
            "priority": "immediate",
            "why": None,
        },
    )


@pytest.mark.parametrize("now, earliest, latest", CLOCKS)
def test_the_modal_keeps_a_refused_due_date_open_with_the_reason(
    slack, bot, clock, earliest, latest
):
    channel = open_incident(slack)
    open_action_modal(slack, channel)
    too_early = earliest - timedelta(days=1)
    reply = fill(slack, due=too_early.isoformat())
    assert reply.json == {
        "response_action": "errors",
        "errors": {
            "due": f"The due date {too_early} has passed everywhere on Earth; "
            f"the earliest you can give is {earliest}."
        },
    }
    reply = fill(slack, due=(latest + timedelta(days=1)).isoformat())
    assert reply.json["errors"]["due"].endswith(f"the latest you can give is {latest}.")
    reply = fill(slack, due="next week")
    assert reply.json["errors"] == {"due": "Pick the date from the calendar."}
    bot.settle()
    assert action_rows(bot) == [] and not dms(slack, "bob")
    assert slack.modal("carol", wait=0)["callback_id"] == "action_modal"  # still open

    assert fill(slack, due=earliest.isoformat()).body == ""  # accepted: Slack closes it
    bot.settle()
    assert action_rows(bot) == [
        {"text": "Rotate keys", "owner_id": slack.user("bob"), "due": earliest.isoformat()}
    ]
    assert slack.modal("carol", wait=0) is None


def test_the_modal_asks_for_an_owner_typed_into_the_text(slack, bot):
    channel = open_incident(slack)
    open_action_modal(slack, channel)
    reply = fill(slack, text="Rotate keys @bob", owner=None)
    assert reply.json == {
        "response_action": "errors",
        "errors": {
            "owner": "@bob in the action item is text, not a person in this workspace. "
            "Pick the owner here (or leave out the @)."
        },
    }
    assert action_rows(bot) == []
    fill(slack, text="Rotate keys @bob", owner="bob")  # with a picked owner it is just text
    bot.settle()
    assert action_rows(bot) == [
        {"text": "Rotate keys @bob", "owner_id": slack.user("bob"), "due": None}
    ]
