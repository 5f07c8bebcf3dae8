"""The App Home's headline: the workspace's numbers of the last 90 days above each person's own
lists, through the running bot and the strict Slack emulator (an `app_home_opened` event, then
the view the bot published). The worked answer below is worked out by hand."""

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.action_words import ParsedAction
from bot.models import Incident, Priority, Severity, Status
from bot.postmortem import DEFAULT_TEMPLATES
from bot.retro import Retro
from bot.sections import load_sections
from bot.slack.blocks import context, header, section
from bot.slack.limits import BLOCKS_TEXT, VIEW_BLOCKS, text_size
from bot.slack.reminder_blocks import build_home
from tests.conftest import Clock
from tests.test_busy_database import held
from tests.test_incident_commands import open_incident
from tests.test_limits import many_incidents, notes_of

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # a Thursday; the 90 days began 2026-08-28
FAILED = "The workspace's numbers could not be worked out right now"


@pytest.fixture
def clock():
    return Clock(T0)  # stopped: each step below sets the time it happens at


def open_home(slack, bot, who):
    """`who` opens the bot's App Home tab (again: each time a new event); what it shows then."""
    slack.open_home(who)
    bot.settle()
    return slack.api.home[slack.user(who)]["blocks"]


def headline(blocks):
    """The blocks above the person's own lists (the first divider ends the headline)."""
    return blocks[: next(n for n, b in enumerate(blocks) if b["type"] == "divider")]


def fields(blocks):
    """The headline's figures: {name: value} from its section of fields."""
    (numbers,) = [b for b in headline(blocks) if b.get("fields")]
    return dict(f["text"].removeprefix("*").split("*\n", 1) for f in numbers["fields"])


def happen(slack, bot, clock, at, who, command, text, where="general"):
    """`who` types `command text` at `at` (UTC); the bot finishes what follows before the
    clock moves on."""
    clock.now = at
    reply = slack.command(who, command, text, where)
    assert reply.status == 200
    bot.settle()
    return reply


def started(slack, bot, clock, at, who, text):
    clock.now = at
    channel = open_incident(slack, who, text)
    bot.settle()
    return channel


def published(bot, slack, channel, at):
    """The post-mortem made final at `at` (what `/incident publish` records)."""
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert bot.store.publish_incident(incident, at=at, user_id=slack.user("alice"))


def ago(days, **after):
    """`days` before T0, plus `after` (timedelta's words): when a step below happens."""
    return T0 - timedelta(days=days) + timedelta(**after)


def make_incidents(slack, bot, clock):
    """A (sev1, alice): began 11-21 15:30, detected 15:50 (20m), resolved 17:30 (2h); its
    post-mortem was due 11-23 17:30 and is still open: past the deadline. An action item due
    11-22: overdue. B (sev2, alice): began 11-23 15:30, detected 15:40 (10m), resolved 16:30
    (1h), due 11-25 16:30, published 11-26 10:00: late. An action item due 12-01: open, not
    overdue. C (private, bob): began 11-24 15:30, detected 16:00 (30m), resolved 18:30 (3h),
    due 11-26 18:30, published 11-25 12:00: on time. D (carol): began 11-25 15:30, no
    detection, still open: both times missing. E: began 2026-06-29, before the 90 days: it
    counts for nothing (else 5 incidents, a median detection of 25m, 2 items overdue)."""

    def do(at, who, command, text, where):
        happen(slack, bot, clock, at, who, command, text, where)

    e = started(slack, bot, clock, ago(150), "carol", "start Old outage sev3")
    do(ago(150, hours=5), "carol", "/timeline", "detected: disk alert", e.name)
    do(ago(150, hours=5), "carol", "/incident", "action Old item @carol due 2026-07-01", e.name)
    do(ago(150, hours=6), "carol", "/incident", "resolve", e.name)

    a = started(slack, bot, clock, ago(5), "alice", "start Checkout API returning 500s sev1")
    do(ago(5, minutes=20), "alice", "/timeline", "detected: PagerDuty alert", a.name)
    do(ago(5, minutes=20), "alice", "/incident", "action Rotate keys @bob due 2026-11-22", a.name)
    do(ago(5, hours=2), "alice", "/incident", "resolve", a.name)

    b = started(slack, bot, clock, ago(3), "alice", "start Search is slow sev2")
    do(ago(3, minutes=10), "alice", "/timeline", "detected: latency alert", b.name)
    do(
        ago(3, minutes=10),
        "alice",
        "/incident",
        "action Add an index @alice due 2026-12-01",
        b.name,
    )
    do(ago(3, hours=1), "alice", "/incident", "resolve", b.name)

    c = started(slack, bot, clock, ago(2), "bob", "start --private Secret key leaked sev1")
    do(ago(2, minutes=30), "bob", "/timeline", "detected: scanner", c.name)
    do(ago(2, hours=3), "bob", "/incident", "resolve", c.name)

    d = started(slack, bot, clock, ago(1), "carol", "start Flaky deploys sev3")
    published(bot, slack, b, datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    published(bot, slack, c, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    clock.now = T0
    return a, b, c, d


def test_the_home_shows_the_workspaces_numbers_of_the_last_90_days(slack, bot, clock):
    make_incidents(slack, bot, clock)
    blocks = open_home(slack, bot, "alice")
    assert blocks[0] == header("Last 90 days")
    assert fields(blocks) == {
        "Incidents": "4",
        "Median time to detect": "20m (1 of 4 incidents lack it)",
        "Median time to resolve": "2h (1 of 4 incidents lack it)",
        "Post-mortems": "1 on time · 1 late · 1 open (1 past the deadline)",
        "Action items overdue": "1 (of 2 open)",
    }
    assert "`/incident insights` for the chart" in notes_of(headline(blocks))
    # beside alice's own lists: her open incident A is resolved; she owns A's post-mortem
    mine = json.dumps(blocks[len(headline(blocks)) :])
    assert "Post-mortems you own" in mine and "Checkout API returning 500s" in mine
    assert "Add an index" in mine  # her action item
    # the numbers are the workspace's, the same for carol, and name no incident
    theirs = open_home(slack, bot, "carol")
    assert headline(theirs) == headline(blocks)
    told = json.dumps(headline(blocks))
    for title in ("Old outage", "Checkout", "Search", "Secret", "Flaky", "hotfix-"):
        assert title not in told
    assert "Secret" not in json.dumps(theirs), "a private incident's title in carol's Home"


def test_numbers_nobody_has_are_a_dash_never_zero(slack, bot, clock):
    blocks = open_home(slack, bot, "alice")  # a workspace without incidents
    assert fields(blocks) == {
        "Incidents": "0",
        "Median time to detect": "—",
        "Median time to resolve": "—",
        "Post-mortems": "None due",
        "Action items overdue": "0 (none open)",
    }
    started(slack, bot, clock, T0 - timedelta(hours=1), "alice", "start Checkout API down")
    clock.now = T0
    blocks = open_home(slack, bot, "alice")
    assert fields(blocks)["Median time to detect"] == "— (1 of 1 incident lacks it)"
    assert fields(blocks)["Median time to resolve"] == "— (1 of 1 incident lacks it)"


def test_the_numbers_show_while_another_process_holds_the_write_lock(slack, bot, clock, config):
    """SQLite in WAL mode: reading never waits on a writer, so a busy database costs the Home
    nothing (the numbers included)."""
    started(slack, bot, clock, T0 - timedelta(hours=1), "alice", "start Checkout API down")
    clock.now = T0
    with held(config.database_path):
        blocks = open_home(slack, bot, "alice")
    assert fields(blocks)["Incidents"] == "1"
    assert FAILED not in json.dumps(blocks) and "Checkout API down" in json.dumps(blocks)


@contextmanager
def timeline_away(database: Path) -> Iterator[None]:
    """Another connection renames the timeline table (a restore half done, a hand repair): the
    figures, which read it, fail in SQLite itself (`no such table: timeline`); the person's own
    lists read other tables. Put back when the block ends."""
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("ALTER TABLE timeline RENAME TO timeline_away")
    try:
        yield
    finally:
        other.execute("ALTER TABLE timeline_away RENAME TO timeline")
        other.close()


def test_numbers_that_cannot_be_worked_out_leave_the_persons_lists(
    slack, bot, clock, config, caplog
):
    channel = started(slack, bot, clock, T0 - timedelta(hours=1), "alice", "start Checkout down")
    happen(slack, bot, clock, T0, "alice", "/incident", "action Rotate keys @alice", channel.name)
    with caplog.at_level(logging.ERROR), timeline_away(config.database_path):
        blocks = open_home(slack, bot, "alice")
    shown = json.dumps(blocks)
    assert blocks[0] == header("Last 90 days") and FAILED in shown
    assert not [b for b in blocks if b.get("fields")], "numbers shown that were not worked out"
    assert "Checkout down" in shown and "Rotate keys" in shown, "the person's own lists"
    (logged,) = [r for r in caplog.records if "numbers could not be worked out" in r.message]
    assert isinstance(logged.exc_info[1], sqlite3.OperationalError)
    assert "no such table" in str(logged.exc_info[1])
    assert fields(open_home(slack, bot, "alice"))["Incidents"] == "1"  # back once it can be


def test_a_person_with_hundreds_of_items_gets_the_numbers_and_a_valid_view(slack, bot, clock):
    opened = many_incidents(bot, slack, 120)
    many_incidents(bot, slack, 120, resolved=True)  # alice owns their post-mortems
    retro = Retro(bot.store, clock, load_sections(DEFAULT_TEMPLATES))
    for n in range(250):
        retro.add_action(
            opened[n % 3],
            ParsedAction(
                f"Rotate the keys of service {n} :key: & <all> of them " + "x" * 80,
                slack.user("alice"),
                date(2026, 12, 1) + timedelta(days=n),
                Priority.SHORT_TERM,
                None,
            ),
            slack.user("alice"),
        )
    clock.now = T0 + timedelta(minutes=1)  # they began at T0
    blocks = open_home(slack, bot, "alice")
    assert len(blocks) <= VIEW_BLOCKS and text_size(blocks) <= BLOCKS_TEXT
    assert fields(blocks)["Incidents"] == "240"
    assert fields(blocks)["Action items overdue"] == "0 (of 250 open)"
    said = notes_of(blocks)
    for more in (
        "`/incident list` lists them all",
        "each incident's channel",
        "`/incident actions`",
    ):
        assert more in said, f"a list that does not say where the rest is: {said}"
    # (the emulator refuses a view past Slack's limits: the fixture fails the test then)


@pytest.mark.parametrize(
    "big",
    [
        [header("Last 90 days"), *[section("x" * 3000)] * 3],  # most of the text
        [header("Last 90 days"), *[context("x")] * 87],  # most of the blocks
    ],
    ids=["text", "blocks"],
)
def test_the_headline_takes_its_room_from_the_lists(big):
    """However big the headline, the lists shrink to fit the view around it."""
    incidents = [incident(n) for n in range(1, 200)]
    view = build_home(incidents, [], [], T0, big)
    assert view["blocks"][: len(big)] == big
    assert len(view["blocks"]) <= VIEW_BLOCKS and text_size(view["blocks"]) <= BLOCKS_TEXT
    assert "more: `/incident list` lists them all" in notes_of(view["blocks"])


def incident(number):
    return Incident(
        id=number,
        team_id="T1",
        number=number,
        title=f"Checkout API returning 500s in region {number} " + "y" * 60,
        severity=Severity.SEV2,
        status=Status.OPEN,
        private=False,
        commander_id="U1",
        created_by="U1",
        channel_id=f"C{number:08d}",
        started_at=T0,
    )
