"""Reminders at people's working hours (REMINDER_HOURS on their own Slack time zone): the rule
worked out by hand, then through the real scheduler and the sandbox across a weekend, a DST
switch, an owner in another zone and restarts."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError
from bot.reminders import BEFORE, Reminder, is_stale, planned_at
from bot.slack.app import replan_reminders
from bot.store import Store
from bot.working_hours import WorkingHours, parse_hours
from tests.conftest import RunningClock, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_reminders_restart import dm_texts, up

LONDON, NEW_YORK, BERLIN = (
    ZoneInfo(z) for z in ("Europe/London", "America/New_York", "Europe/Berlin")
)
WEEKDAYS = WorkingHours(frozenset(range(5)), time(9), time(18))
FRIDAY_NIGHT = datetime(2026, 11, 27, 22, 59, 57, tzinfo=UTC)  # 17:59:57 in New York
MONDAY_9_LONDON = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MONDAY_9_NEW_YORK = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("mon-fri 09:00-18:00", range(5), time(9), time(18)),
        ("Mon,Wed,Fri 8:30 - 17:00", (0, 2, 4), time(8, 30), time(17)),
        ("sat-mon 10:00-24:00", (5, 6, 0), time(10), time(23, 59, 59, 999999)),
    ],
)
def test_working_hours_are_read_as_written(text, days, start, end):
    assert parse_hours(text) == WorkingHours(frozenset(days), start, end)


def test_always_means_no_working_hours_and_bad_hours_stop_the_bot(tmp_path, slack):
    assert parse_hours("always") is None
    for bad, says in [
        ("weekdays", "is not working hours"),
        ("mon-fri 18:00-09:00", "ends before it starts"),
        ("mon-fry 09:00-18:00", "is not a day"),
        ("mon-fri 09:00-25:00", "not on the clock"),
    ]:
        with pytest.raises(ValueError, match=says):
            parse_hours(bad)
    with pytest.raises(ConfigError, match=r"^REMINDER_HOURS: 'nights' is not working hours"):
        make_config(tmp_path, slack, REMINDER_HOURS="nights")
    assert make_config(tmp_path, slack, REMINDER_HOURS="").hours == WEEKDAYS  # the default


def test_outside_working_hours_a_reminder_waits_for_the_next_ones_on_the_persons_clock():
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    deadline = datetime(2026, 12, 2, tzinfo=UTC)
    assert WEEKDAYS.send_at(friday_evening, LONDON, deadline) == MONDAY_9_LONDON
    # 14:00 in New York: within their hours, now
    assert WEEKDAYS.send_at(friday_evening, NEW_YORK, deadline) == friday_evening
    # Tuesday 07:00 in London: the same morning
    early = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert WEEKDAYS.send_at(early, LONDON, deadline) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # Europe goes to summer time on Sunday 2026-03-29: Monday 09:00 in Berlin is 07:00 UTC
    assert WEEKDAYS.send_at(datetime(2026, 3, 27, 17, 0, tzinfo=UTC), BERLIN, None) == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )


def test_no_working_moment_left_before_the_deadline_means_now_and_overdue_ones_wait():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    monday_early = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # before Monday's hours begin
    assert WEEKDAYS.send_at(saturday, LONDON, monday_early) == saturday
    # the deadline itself passed (an overdue notice, a nudge): their next working hours
    assert WEEKDAYS.send_at(saturday, LONDON, saturday) == MONDAY_9_LONDON
    assert WEEKDAYS.send_at(saturday, LONDON, saturday - timedelta(days=1)) == MONDAY_9_LONDON


# --- through the scheduler and the sandbox -----------------------------------------------------

# resolved at t: the post-mortem due at t + 72h, one reminder 5 s after t
SOON = {"REMINDER_HOURS": "", "POSTMORTEM_DEADLINE": "72h", "REMINDERS_BEFORE": "71h59m55s"}
DUE_SOON = "The hotfix-001 post-mortem is due soon"


def resolved_with_owners(slack):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "owner @bob @carol", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    return channel


def the_reminder(store):
    """The pending "before" reminder (one), or None (not planned yet, or gone)."""
    rows = [r for r in store.pending_reminders() if r.kind == "before"]
    assert len(rows) <= 1
    return rows[0] if rows else None


def waits_until(store, after):
    """The reminder is pending, due after `after`: it was put off."""
    return (row := the_reminder(store)) is not None and row.due_at > after


def test_friday_evening_waits_for_each_owners_monday_across_restarts(tmp_path, slack):
    slack.ws.user_named("bob").tz = "America/New_York"  # carol stays in London
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)):
        resolved_with_owners(slack)
        wait_for(lambda: waits_until(store, FRIDAY_NIGHT + timedelta(hours=1)), 15)
    # 23:00 in London, 18:00 in New York: nobody's working hours; the earliest is London's
    assert the_reminder(store).due_at == MONDAY_9_LONDON
    assert DUE_SOON not in dm_texts(slack, "bob") + dm_texts(slack, "carol")
    with up(slack, config, store, RunningClock(MONDAY_9_LONDON - timedelta(seconds=2))):
        wait_for(lambda: DUE_SOON in dm_texts(slack, "carol"), 15, "carol's reminder")
        wait_for(lambda: waits_until(store, MONDAY_9_LONDON + timedelta(hours=1)), 15, "bob's")
    assert the_reminder(store).due_at == MONDAY_9_NEW_YORK
    assert DUE_SOON not in dm_texts(slack, "bob")
    with up(slack, config, store, RunningClock(MONDAY_9_NEW_YORK - timedelta(seconds=2))):
        wait_for(lambda: DUE_SOON in dm_texts(slack, "bob"), 15, "bob's reminder")
    assert dm_texts(slack, "bob").count(DUE_SOON) == 1
    assert dm_texts(slack, "carol").count(DUE_SOON) == 1
    assert [r for r in store.pending_reminders() if r.kind == "before"] == []
    store.close()


def test_over_a_dst_switch_monday_nine_is_on_the_owners_wall_clock(tmp_path, slack):
    for who in ("bob", "carol"):
        slack.ws.user_named(who).tz = "Europe/Berlin"
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    friday = datetime(2026, 3, 27, 16, 59, 57, tzinfo=UTC)  # 17:59:57 in Berlin
    with up(slack, config, store, RunningClock(friday)):
        resolved_with_owners(slack)
        wait_for(lambda: waits_until(store, friday + timedelta(hours=1)), 15)
    assert the_reminder(store).due_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST
    store.close()


def test_when_the_deadline_comes_first_the_reminder_goes_now(tmp_path, slack):
    settings = {**SOON, "POSTMORTEM_DEADLINE": "10s", "REMINDERS_BEFORE": "5s"}
    config = make_config(tmp_path, slack, **settings)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)) as running:
        channel = resolved_with_owners(slack)
        wait_for(lambda: DUE_SOON in dm_texts(slack, "bob"), 15, "the reminder, at once")
        # the overdue notice: the channel at once, the commander's DM on Monday morning
        wait_for(lambda: any("is overdue" in m.text for m in channel.messages), 15, "the notice")
        wait_for(lambda: not running.scheduler.busy, 5)
    assert "The hotfix-001 post-mortem is overdue" not in dm_texts(slack, "alice")
    (overdue,) = [r for r in store.pending_reminders() if r.kind == "overdue"]
    assert overdue.due_at == MONDAY_9_LONDON
    store.close()


def test_an_action_items_reminder_waits_for_its_owners_hours(tmp_path, slack):
    # item due Monday 11-30 (by its end, Tuesday 00:00 UTC); reminded 73 h before: Friday 23:00
    config = make_config(tmp_path, slack, REMINDER_HOURS="", ACTION_REMINDER_BEFORE="73h")
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)):
        channel = open_incident(slack)
        slack.command("alice", "/incident", "action Rotate keys @bob due 2026-11-30", channel.name)
        wait_for(
            lambda: any(
                r.kind == "action" and r.due_at == MONDAY_9_LONDON
                for r in store.pending_reminders()
            ),
            15,
            "the action item's reminder moved to Monday",
        )
    assert not any("due soon" in t for t in dm_texts(slack, "bob"))
    store.close()


def test_a_reminder_put_off_is_stale_once_a_later_one_was_planned_to_go():
    """The 24 h reminder waited from Sunday for Monday 09:00; the 4 h one was planned for
    Monday 09:00 too: only the later one goes, as before working hours."""
    deadline = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    stamp = "20261130T130000"
    day = Reminder(1, "T", 1, BEFORE, f"before:86400@{stamp}", MONDAY_9_LONDON, "sending", 1, None)
    assert planned_at(day.key, day.due_at) == deadline - timedelta(hours=24)
    four = planned_at(f"before:14400@{stamp}", MONDAY_9_LONDON)
    assert four == MONDAY_9_LONDON
    assert is_stale(day, deadline, MONDAY_9_LONDON, [deadline - timedelta(hours=24), four])
    assert not is_stale(day, deadline, MONDAY_9_LONDON - timedelta(minutes=1), [four])


def test_status_and_the_app_home_say_when_each_owners_next_reminder_comes(tmp_path, slack):
    slack.ws.user_named("bob").tz = "America/New_York"
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)) as running:
        channel = resolved_with_owners(slack)
        wait_for(lambda: the_reminder(store), 5, "the reminder planned")
        before = str(slack.command("alice", "/incident", "status", channel.name).json)
        bob, carol = slack.user("bob"), slack.user("carol")
        # not asked of Slack yet: reckoned in UTC, and said so
        assert f"<@{bob}> <!date^{int(MONDAY_9_LONDON.timestamp())}^" in before
        assert "(zone not seen yet: UTC)" in before
        wait_for(lambda: waits_until(store, FRIDAY_NIGHT + timedelta(hours=1)), 15)
        after = str(slack.command("alice", "/incident", "status", channel.name).json)
        assert f"<@{bob}> <!date^{int(MONDAY_9_NEW_YORK.timestamp())}^" in after
        assert f"<@{carol}> <!date^{int(MONDAY_9_LONDON.timestamp())}^" in after
        assert after.count("zone not seen yet") == 1  # alice's: the overdue notice's DM
        alice = slack.user("alice")
        tuesday_9 = MONDAY_9_LONDON + timedelta(days=1)  # after the deadline (Mon 22:59:57)
        assert f"<@{alice}> <!date^{int(tuesday_9.timestamp())}^" in after
        slack.open_home("bob")
        running.settle()
        home = str(slack.api.home[bob]["blocks"])
        assert f"your next reminder <!date^{int(MONDAY_9_NEW_YORK.timestamp())}^" in home
    store.close()


@pytest.mark.parametrize(
    "change", ["owner add @dave", "assign root_cause @dave"], ids=["owner", "section"]
)
def test_someone_new_in_working_hours_elsewhere_gets_the_waiting_reminder_now(
    tmp_path, slack, change
):
    """Put off to Monday for two owners in London, the reminder is re-planned when the owners
    change or a section is given: dave in Los Angeles (15:00 on Friday there) gets it at once,
    the owners on Monday."""
    slack.ws.add_user("dave", tz="America/Los_Angeles")
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)):
        channel = resolved_with_owners(slack)
        wait_for(lambda: waits_until(store, FRIDAY_NIGHT + timedelta(hours=1)), 15)
        slack.command("alice", "/incident", change, channel.name)
        wait_for(lambda: DUE_SOON in dm_texts(slack, "dave"), 15, "dave's reminder, now")
        wait_for(lambda: waits_until(store, FRIDAY_NIGHT + timedelta(hours=1)), 15)
    assert the_reminder(store).due_at == MONDAY_9_LONDON
    assert DUE_SOON not in dm_texts(slack, "bob") + dm_texts(slack, "carol")
    store.close()


def test_changed_working_hours_are_weighed_again_at_start(tmp_path, slack):
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_NIGHT)):
        resolved_with_owners(slack)
        wait_for(lambda: waits_until(store, FRIDAY_NIGHT + timedelta(hours=1)), 15)
    night_owls = make_config(tmp_path, slack, **{**SOON, "REMINDER_HOURS": "mon-sun 00:00-24:00"})
    later = RunningClock(FRIDAY_NIGHT + timedelta(minutes=1))
    replan_reminders(night_owls, store, later)  # what `python -m bot run` does at start
    with up(slack, night_owls, store, later):
        wait_for(lambda: DUE_SOON in dm_texts(slack, "carol"), 15, "the reminder, now")
    assert dm_texts(slack, "bob").count(DUE_SOON) == 1
    store.close()
