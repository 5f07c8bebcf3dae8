"""The weekly digest: its moment (a weekday and time on a zone's clock, DST followed), what it
says (worked out by hand below), and its rows through the real scheduler and the sandbox: once a
week, across restarts, late once after downtime, never twice."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError
from bot.digest import Digests
from bot.digest_at import parse_digest_at
from bot.models import Incident, Priority, Severity
from bot.reminders import Reminders, Settings
from bot.slack.digest_blocks import build_digest
from bot.slack.limits import BLOCKS_TEXT, SECTION_TEXT, text_size
from bot.store import Store
from tests.conftest import RunningClock, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_reminders_restart import up

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a digest moment (`mon 09:00`, UTC)


# --- its moment --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weekday", "hour", "minute", "zone"),
    [
        ("mon 09:00", 0, 9, 0, "UTC"),
        ("Monday 9:00", 0, 9, 0, "UTC"),
        ("FRI 16:30 Europe/Berlin", 4, 16, 30, "Europe/Berlin"),
        ("  sun 0:05  America/New_York ", 6, 0, 5, "America/New_York"),
    ],
)
def test_digest_at_reads_a_weekday_a_time_and_a_zone(text, weekday, hour, minute, zone):
    at = parse_digest_at(text)
    assert (at.weekday, at.at.hour, at.at.minute, at.zone.key) == (weekday, hour, minute, zone)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("09:00", "not a weekly moment"),
        ("someday 09:00", "not a weekly moment"),
        ("mon 24:00", "not a weekly moment"),
        ("mon 9", "not a weekly moment"),
        ("mon 09:00 Mars/Olympus", "not an IANA time zone"),
        ("mon 09:00 europe/berlin", "not an IANA time zone"),
    ],
)
def test_digest_at_refuses_what_it_cannot_read(text, says):
    with pytest.raises(ValueError, match=says) as refused:
        parse_digest_at(text)
    assert "`mon 09:00`" in str(refused.value)  # what to write


def test_a_bad_digest_at_stops_the_bot_at_start_naming_it(tmp_path, slack):
    with pytest.raises(ConfigError, match=r"^DIGEST_AT: 'tuesday-ish' is not a weekly moment"):
        make_config(tmp_path, slack, DIGEST_AT="tuesday-ish")
    with pytest.raises(ConfigError, match=r"^DIGEST_CHANNEL: expected a channel ID"):
        make_config(tmp_path, slack, DIGEST_CHANNEL="#incidents")
    assert make_config(tmp_path, slack).digest_at is None  # no channel: no digest


def test_the_next_moment_is_strictly_after_and_follows_the_wall_clock_over_dst():
    utc = parse_digest_at("mon 09:00")
    assert utc.next_after(MONDAY - timedelta(seconds=1)) == MONDAY
    assert utc.next_after(MONDAY) == MONDAY + timedelta(days=7)  # not the same one again
    assert utc.next_after(datetime(2026, 12, 2, tzinfo=UTC)) == MONDAY + timedelta(days=7)
    berlin = parse_digest_at("mon 09:00 Europe/Berlin")
    # Europe springs forward on Sunday 2026-03-29: 09:00 is 08:00 UTC before, 07:00 after
    assert berlin.next_after(datetime(2026, 3, 23, tzinfo=UTC)) == datetime(
        2026, 3, 23, 8, 0, tzinfo=UTC
    )
    assert berlin.next_after(datetime(2026, 3, 24, tzinfo=UTC)) == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )
    # the wall time a switch skips (02:30 on Sunday 03-29) is read with the offset before it
    skipped = parse_digest_at("sun 02:30 Europe/Berlin").next_after(
        datetime(2026, 3, 28, tzinfo=UTC)
    )
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert skipped.astimezone(ZoneInfo("Europe/Berlin")).hour == 3


# --- what it says ------------------------------------------------------------------------------


def started(store: Store, title: str, at: datetime, *, private: bool = False) -> Incident:
    incident = store.create_incident(
        team_id="T1",
        title=title,
        severity=Severity.SEV2,
        private=private,
        user_id="U1",
        started_at=at,
    )
    n = incident.number
    return store.attach_channel(incident, f"C{n}", f"inc-{n:03d}", at)


def resolved(store: Store, incident: Incident, at: datetime) -> Incident:
    return store.resolve_incident(
        incident, at=at, deadline_at=at + timedelta(hours=48), user_id="U1", when=at
    )


def action(store: Store, incident: Incident, text: str, due: date, owner: str = "U2") -> None:
    store.add_action_item(
        incident,
        text=text,
        owner_id=owner,
        due=due,
        priority=Priority.SHORT_TERM,
        why=None,
        created_by="U1",
        at=incident.started_at,
        source=None,
    )


@pytest.fixture
def week(tmp_path):
    """Incidents around the week [11-23 09:00, 11-30 09:00):
    A began before it, resolved 11-20 (its post-mortem overdue since 11-22), an action item due
    11-25 (overdue) and one due 11-30 (not yet: its day has not ended). B (11-24, title with
    markup) resolved 11-29 (due 12-01). C (11-26) private, resolved 11-26 (overdue), an
    overdue action item. D began 11-30 09:00: the next week's."""
    store = Store(tmp_path / "incidents.db")
    a = started(store, "Old outage", datetime(2026, 11, 18, tzinfo=UTC))
    a = resolved(store, a, datetime(2026, 11, 20, tzinfo=UTC))
    action(store, a, "Add an alert", date(2026, 11, 25))
    action(store, a, "Write the runbook", date(2026, 11, 30))
    b = started(store, "<!channel> & *bold* payments", datetime(2026, 11, 24, 10, tzinfo=UTC))
    resolved(store, b, datetime(2026, 11, 29, 9, tzinfo=UTC))
    c = started(store, "Leaked key rotation", datetime(2026, 11, 26, tzinfo=UTC), private=True)
    c = resolved(store, c, datetime(2026, 11, 26, 2, tzinfo=UTC))
    action(store, c, "Rotate the secret store", date(2026, 11, 27), owner="U3")
    started(store, "Next week's", MONDAY)
    yield store
    store.close()


def digests(store, at="mon 09:00", now=MONDAY):
    reminders = Reminders(store, Settings(digest_at=parse_digest_at(at)), lambda: now)
    return Digests(store, reminders, lambda: now)


def test_the_digest_holds_the_weeks_incidents_open_postmortems_and_overdue_items(week):
    got = digests(week).digest("T1", MONDAY)
    assert (got.since, got.until) == (MONDAY - timedelta(days=7), MONDAY)
    assert [i.number for i in got.began] == [2, 3]  # B, C; A before, D at `until`
    assert [(i.number, got.overdue(i)) for i in got.open_postmortems] == [
        (1, True),  # due 11-22
        (3, True),  # due 11-28
        (2, False),  # due 12-01
    ]
    assert [(i.number, a.text) for i, a in got.overdue_actions] == [
        (1, "Add an alert"),  # due 11-25
        (3, "Rotate the secret store"),  # due 11-27; "Write the runbook" is due today
    ]
    assert got.figures.incidents == 3  # the last 90 days: A B C (D began at `until`)


def test_the_digest_message_names_no_private_incident_and_escapes_titles(week):
    text, blocks = build_digest(digests(week).digest("T1", MONDAY))
    shown = str(blocks)
    assert text == (
        "Incidents this week (Nov 23 – Nov 30, 2026): 2 began, 3 post-mortems open, "
        "2 action items overdue"
    )
    assert "Leaked key" not in shown and "Rotate the secret" not in shown and "<@U3>" not in shown
    assert shown.count("_and 1 of private incidents (their members see them)_") == 3
    assert "&lt;!channel&gt; &amp; *bold* payments" in shown and "<!channel>" not in shown
    assert "*hotfix-001* Old outage · <#C1> · *overdue by 8d 9h*" in shown  # due 11-22 00:00
    assert "<#C2> · due in 1d\n" in shown.replace("\\n", "\n")  # B: due 12-01 09:00
    assert "*hotfix-001* AI-001 Add an alert · <@U2> · due 2026-11-25" in shown
    assert "late" not in text


def test_a_long_week_is_cut_with_a_count_and_stays_within_slacks_limits(tmp_path):
    store = Store(tmp_path / "incidents.db")
    for n in range(60):
        started(store, "x" * 200 + f" {n}", MONDAY - timedelta(days=2, minutes=n))
    _, blocks = build_digest(digests(store).digest("T1", MONDAY))
    (began,) = [b for b in blocks if "Began this week: 60" in str(b)]
    assert "\n… and 49 more: `/incident list` lists them" in began["text"]["text"]  # 11 fit
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_TEXT for b in blocks)
    assert text_size(blocks) <= BLOCKS_TEXT
    store.close()


def test_planning_is_once_per_moment_and_follows_a_changed_setting(week):
    first = digests(week, now=MONDAY - timedelta(days=1))
    (row,) = first.plan("T1")
    assert (row.key, row.due_at, row.incident_id) == ("digest@20261130T090000", MONDAY, 0)
    assert first.plan("T1") == []  # planned already
    moved = digests(week, "fri 16:30 Europe/Berlin", now=MONDAY - timedelta(days=1))
    (new,) = moved.plan("T1")
    assert new.due_at == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert [r.key for r in moved.store.pending_reminders()] == [new.key]  # the old cancelled
    off = Digests(week, Reminders(week, Settings(), lambda: MONDAY), lambda: MONDAY)
    assert off.plan("T1") == [] and week.pending_reminders() == []


# --- through the scheduler and the sandbox -----------------------------------------------------


def digest_room(slack):
    """The channel DIGEST_CHANNEL names, the bot invited (files need a member)."""
    bob = slack.user("bob")
    return slack.ws.add_channel("incident-digest", bob, members={bob, slack.ws.bot.id})


def digests_in(channel):
    return [m for m in channel.messages if m.text.startswith("Incidents this week")]


def charts_in(channel):
    return [m for m in channel.messages if m.files and m.files[0]["name"].startswith("incidents-")]


def test_the_digest_goes_once_a_week_across_restarts(tmp_path, slack):
    room = digest_room(slack)
    config = make_config(tmp_path, slack, DIGEST_CHANNEL=room.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(MONDAY - timedelta(seconds=3))):
        open_incident(slack)  # the workspace's first incident plans its first digest
        wait_for(lambda: charts_in(room), timeout=15, what="the digest's chart")
    (message,) = digests_in(room)
    assert "Nov 23 – Nov 30, 2026" in message.text and "1 began" in message.text
    (chart,) = charts_in(room)
    assert slack.api.files[chart.files[0]["id"]]["alt_txt"].startswith("1 incident from")
    for later in (timedelta(minutes=1), timedelta(days=3)):  # restarts in the same week
        with up(slack, config, store, RunningClock(MONDAY + later)):
            pass
    assert len(digests_in(room)) == 1 and len(charts_in(room)) == 1
    with up(slack, config, store, RunningClock(MONDAY + timedelta(days=7, seconds=-2))):
        wait_for(lambda: len(charts_in(room)) == 2, timeout=15, what="next week's digest")
    assert len(digests_in(room)) == 2
    (pending,) = [r for r in store.pending_reminders() if r.kind == "digest"]
    assert pending.due_at == MONDAY + timedelta(days=14)
    store.close()


def test_a_digest_missed_while_down_goes_once_late_and_the_next_is_next_week(tmp_path, slack):
    room = digest_room(slack)
    config = make_config(tmp_path, slack, DIGEST_CHANNEL=room.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(MONDAY - timedelta(days=1))):
        open_incident(slack)
    with up(slack, config, store, RunningClock(MONDAY + timedelta(days=2))):  # down till Wed
        wait_for(lambda: charts_in(room), timeout=15, what="the late digest")
    (message,) = digests_in(room)
    assert "This digest is 2d late: I was not running then." in str(message.blocks)
    (pending,) = [r for r in store.pending_reminders() if r.kind == "digest"]
    assert pending.due_at == MONDAY + timedelta(days=7)
    store.close()


def test_a_chart_refused_for_now_follows_later_without_a_second_message(tmp_path, slack):
    room = digest_room(slack)
    config = make_config(tmp_path, slack, DIGEST_CHANNEL=room.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(MONDAY - timedelta(seconds=3))):
        open_incident(slack)
        slack.fail("files.getUploadURLExternal", "internal_error")
        wait_for(lambda: digests_in(room), timeout=15, what="the digest")
    assert charts_in(room) == []  # tried again in 30 s, by then the bot was stopped
    with up(slack, config, store, RunningClock(MONDAY + timedelta(minutes=5))):
        wait_for(lambda: charts_in(room), timeout=15, what="the chart")
    assert len(digests_in(room)) == 1 and len(charts_in(room)) == 1
    store.close()


def test_a_channel_the_bot_cannot_post_in_fails_once_and_next_week_tries_again(
    tmp_path, slack, caplog
):
    secret = slack.ws.add_channel("ops-private", slack.user("bob"), is_private=True)
    config = make_config(tmp_path, slack, DIGEST_CHANNEL=secret.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(MONDAY - timedelta(seconds=3))):
        open_incident(slack)
        wait_for(
            lambda: any(
                r.kind == "digest" and r.due_at > MONDAY for r in store.pending_reminders()
            ),
            timeout=15,
            what="the next digest planned",
        )
    assert secret.messages == []
    assert (
        "could not be posted to DIGEST_CHANNEL" in caplog.text
        and "channel_not_found" in caplog.text
    )
    store.close()
