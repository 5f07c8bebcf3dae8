"""Attacks on issue 17's reminders (working hours, assignments, snooze, escalation) with odd
inputs: far and bogus time zones, edge working hours, clicks at the wrong moment; through the
real scheduler and the sandbox."""

from bot.store import Store
from tests.conftest import START, RunningClock, make_config, wait_for
from tests.test_reminders_restart import dm_texts, up
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
