""" "Remind me later" on reminder DMs: checked at the click, one row like the others (once across
restarts), never past the deadline; through the real scheduler and the sandbox."""

from datetime import UTC, datetime, timedelta

from bot.store import Store
from tests.conftest import START, RunningClock, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_reminders_restart import dm_texts, up

THURSDAY = START  # 2026-11-26 15:30 UTC: working hours in London and New York
DUE_SOON = "The hotfix-001 post-mortem is due soon"
# resolved at t: due at t + 72h, reminded 5 s after t
SOON = {"POSTMORTEM_DEADLINE": "72h", "REMINDERS_BEFORE": "71h59m55s"}


def dm(slack, who, text):
    """The bot's last DM to `who` whose text is `text`."""
    found = [m for m in slack.ws.im(slack.user(who)).messages if m.text == text]
    return found[-1] if found else None


def snoozes(store):
    return [r for r in store.pending_reminders() if r.kind in ("snooze", "action_snooze")]


def resolved(slack, owners="@bob"):
    channel = open_incident(slack)
    slack.command("alice", "/incident", f"owner {owners}", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    return channel


def test_in_two_hours_comes_once_across_restarts(tmp_path, slack):
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        (row,) = snoozes(store)
    assert row.key.startswith(f"snooze:{slack.user('bob')}@")
    assert THURSDAY + timedelta(hours=2) <= row.due_at < THURSDAY + timedelta(hours=2, minutes=1)
    shown = str(dm(slack, "bob", DUE_SOON).blocks)
    assert "reminder_snooze" not in shown and ":zzz: I'll remind you again" in shown
    assert "reminder_write" in shown  # the other buttons stay
    with up(slack, config, store, RunningClock(row.due_at - timedelta(seconds=2))):
        wait_for(lambda: dm_texts(slack, "bob").count(DUE_SOON) == 2, 15, "the snoozed one")
    with up(slack, config, store, RunningClock(row.due_at + timedelta(minutes=5))):
        pass
    assert dm_texts(slack, "bob").count(DUE_SOON) == 2
    again = [m for m in slack.ws.im(slack.user("bob")).messages if m.text == DUE_SOON][-1]
    assert "You asked me to remind you again." in str(again.blocks)
    store.close()


def test_tomorrow_morning_is_the_start_of_the_persons_next_working_hours(tmp_path, slack):
    slack.ws.user_named("bob").tz = "America/New_York"
    config = make_config(tmp_path, slack, REMINDER_HOURS="", **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_morning")
        running.settle()
    (row,) = snoozes(store)
    assert row.due_at == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Friday 09:00 in New York
    store.close()


def test_never_past_the_deadline(tmp_path, slack):
    config = make_config(tmp_path, slack, POSTMORTEM_DEADLINE="1h", REMINDERS_BEFORE="59m55s")
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        (row,) = snoozes(store)
        deadline = store.incident(slack.ws.team_id, row.incident_id).deadline_at
    assert row.due_at == deadline
    assert "at the deadline: no later." in str(dm(slack, "bob", DUE_SOON).blocks)
    store.close()


def test_the_click_is_checked_against_who_owns_it_now(tmp_path, slack):
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        channel = resolved(slack, "@bob @carol")
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.command("alice", "/incident", "owner @carol", channel.name)  # bob no longer
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        assert snoozes(store) == []
        assert "You no longer own the hotfix-001 post-mortem" in str(slack.answers[-1])
        carols = wait_for(lambda: dm(slack, "carol", DUE_SOON), 15, "carol's reminder")
        slack.command("alice", "/incident", "reopen", channel.name)
        running.settle()
        slack.click("carol", carols, "reminder_snooze_2h")
        running.settle()
        assert snoozes(store) == []
        assert "is no longer due: no reminder needed" in str(slack.answers[-1])
    store.close()


def test_a_snooze_is_cancelled_by_a_reopen_as_the_deadlines_reminders_are(tmp_path, slack):
    config = make_config(tmp_path, slack, **SOON)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        channel = resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        assert len(snoozes(store)) == 1
        slack.command("alice", "/incident", "reopen", channel.name)
        running.settle()
        assert snoozes(store) == []
    store.close()


def test_an_action_items_snooze_is_for_its_owner_and_ends_when_it_is_done(tmp_path, slack):
    # due Monday 11-30 (its end: Tuesday 00:00 UTC), reminded 5 s after Thursday 15:30
    config = make_config(tmp_path, slack, ACTION_REMINDER_BEFORE="104h29m55s")
    store = Store(config.database_path)
    text = "Reminder: AI-001 of hotfix-001 is due soon"
    with up(slack, config, store, RunningClock(THURSDAY)) as running:
        channel = open_incident(slack)
        slack.command("alice", "/incident", "action Rotate keys @bob due 2026-11-30", channel.name)
        message = wait_for(lambda: dm(slack, "bob", text), 15, "the item's reminder")
        slack.click("carol", message, "reminder_snooze_2h")  # not hers
        running.settle()
        assert snoozes(store) == []
        assert "AI-001 is no longer yours" in str(slack.answers[-1])
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
        (row,) = snoozes(store)
        assert row.kind == "action_snooze" and row.action_item_id is not None
        slack.click("bob", message, "action_done")
        running.settle()
    before = dm_texts(slack, "bob")
    assert before == ["You own AI-001 of hotfix-001", "AI-001 done"]  # the reminder, updated
    with up(slack, config, store, RunningClock(row.due_at + timedelta(seconds=1))):
        pass
    assert dm_texts(slack, "bob") == before  # done: not reminded again
    assert snoozes(store) == []
    store.close()


def test_in_two_hours_that_falls_after_working_hours_says_when_it_will_come(tmp_path, slack):
    """Found by a new user's trial: at 16:30 in New York "in 2 hours" is 18:30, after bob's
    hours; it waits for Friday 09:00 there, and the DM said 18:30."""
    slack.ws.user_named("bob").tz = "America/New_York"
    config = make_config(tmp_path, slack, REMINDER_HOURS="", **SOON)
    store = Store(config.database_path)
    evening = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 16:30 in New York
    friday_9 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    with up(slack, config, store, RunningClock(evening)) as running:
        resolved(slack)
        message = wait_for(lambda: dm(slack, "bob", DUE_SOON), 15, "the reminder")
        slack.click("bob", message, "reminder_snooze_2h")
        running.settle()
    shown = str(dm(slack, "bob", DUE_SOON).blocks)
    assert f":zzz: I'll remind you again <!date^{int(friday_9.timestamp())}^" in shown
    store.close()
