"""Attacks on issue 17's reminders (working hours, assignments, snooze, escalation) with odd
inputs: far and bogus time zones, edge working hours, clicks at the wrong moment; through the
real scheduler and the sandbox."""

import copy
import time
from datetime import UTC, datetime, timedelta

from bot.store import Store
from tests.conftest import START, RunningClock, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_reminders_restart import dm_texts, up
from tests.test_snooze import dm, resolved, snoozes
from tests.test_working_hours import DUE_SOON, SOON, resolved_with_owners


def test_a_time_zone_python_cannot_open_is_read_as_utc_and_stops_nobodys_reminder(tmp_path, slack):
    """users.info's `tz` is Slack's word, not ours: `America` (a folder of the zone database,
    OSError to zoneinfo) reached the scheduler's catch-all, and neither owner got the DM; the
    status then failed on the zone it kept."""
    slack.ws.user_named("bob").tz = "America"
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):  # Thursday 15:30 UTC: working hours
        channel = resolved_with_owners(slack)
        wait_for(lambda: DUE_SOON in dm_texts(slack, "carol"), 15, "carol's reminder")
        wait_for(lambda: DUE_SOON in dm_texts(slack, "bob"), 15, "bob's, in UTC")
        status = slack.command("alice", "/incident", "status", channel.name)
        assert "Status of hotfix-001" in str(status.json)
    store.close()


FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # London: an hour of work left
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_a_snooze_brought_back_to_a_deadline_after_working_hours_still_comes_by_it(tmp_path, slack):
    """Due at 18:30 on Friday, after bob's hours: "in 2 hours" at 17:00 is brought back to the
    deadline and the DM says "no later"; at 18:30 the row read as overdue and waited for
    Monday 09:00."""
    config = make_config(
        tmp_path, slack, REMINDER_HOURS="", POSTMORTEM_DEADLINE="90m", REMINDERS_BEFORE="89m55s"
    )
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(FRIDAY_5PM)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        (row,) = snoozes(store)
        deadline = store.incident(slack.ws.team_id, row.incident_id).deadline_at
        assert row.due_at == deadline and deadline.hour == 18
        assert "at the deadline: no later." in str(dm(slack, "bob", DUE_SOON).blocks)
        status = str(slack.command("bob", "/incident", "status hotfix-001").json)
        bob = slack.user("bob")
        assert f"<@{bob}> <!date^{int(deadline.timestamp())}^" in status  # not Monday's
    with up(slack, config, store, RunningClock(deadline - timedelta(seconds=2))) as running:
        wait_for(lambda: snoozes(store) == [] or snoozes(store)[0].due_at > deadline, 15)
        wait_for(lambda: not running.scheduler.busy, 5)
    assert snoozes(store) == [], "put off to Monday, past the deadline"
    assert "You asked me to remind you again." in str(slack.ws.im(slack.user("bob")).messages)
    store.close()


def test_remind_me_later_clicked_again_from_a_stale_copy_of_the_dm_is_one_reminder(tmp_path, slack):
    """The first click takes the buttons away, but another device still shows them for a
    moment: "in 2 hours" twice, a second apart, was two rows (the key holds the moment, to the
    second), two DMs. The latest choice stands, as one row."""
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        stale = copy.deepcopy(message)
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        (first,) = snoozes(store)
        time.sleep(1.1)  # the next second: another key
        slack.click("bob", stale, "reminder_snooze_2h")
        running.settle()
        (row,) = snoozes(store)
    assert row.due_at > first.due_at
    store.close()


def test_two_action_items_snoozed_to_the_same_morning_are_both_reminded(tmp_path, slack):
    """bob's two items of one incident, due the same day, reminded together: "Tomorrow
    morning" on each gave one key (person and moment), so the second click planned nothing
    and AI-002 was never reminded again, though its DM said it would be."""
    config = make_config(tmp_path, slack, ACTION_REMINDER_BEFORE="104h29m55s")
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)) as running:
        channel = open_incident(slack)
        for what in ("Rotate keys", "Add alert"):
            slack.command("alice", "/incident", f"action {what} @bob due 2026-11-30", channel.name)
        for label in ("AI-001", "AI-002"):
            text = f"Reminder: {label} of hotfix-001 is due soon"
            message = wait_for(lambda t=text: dm(slack, "bob", t), 15, f"{label}'s reminder")
            slack.click("bob", message, "reminder_snooze_morning")
            running.settle()
        rows = snoozes(store)
    assert len({r.action_item_id for r in rows}) == 2, rows
    friday_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    with up(slack, config, store, RunningClock(friday_9 - timedelta(seconds=2))):
        for label in ("AI-001", "AI-002"):
            text = f"Reminder: {label} of hotfix-001 is due soon"
            wait_for(lambda t=text: dm_texts(slack, "bob").count(t) == 2, 15, f"{label} again")
    store.close()
