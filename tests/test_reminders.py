"""Reminders: planned from the deadline, sent to the owners at the right times, exactly once."""

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import ConfigError, load_config
from bot.models import ActionItem, Priority
from bot.reminders import (
    BEFORE,
    MAX_NUDGES,
    NUDGE,
    OVERDUE,
    Reminder,
    Settings,
    action_due_moment,
    is_stale,
    overdue_audience,
    plan_deadline,
    plan_nudge,
)
from tests.conftest import MOMENTS, START, make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import publish_anyway

DEADLINE = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
SETTINGS = Settings(before=(timedelta(hours=24), timedelta(hours=4)))


def test_plan_before_the_deadline_and_the_overdue_notice_at_it():
    planned = plan_deadline(DEADLINE, SETTINGS)
    assert [(p.kind, p.due_at) for p in planned] == [
        ("before", DEADLINE - timedelta(hours=24)),
        ("before", DEADLINE - timedelta(hours=4)),
        ("overdue", DEADLINE),
    ]
    assert len({p.key for p in planned}) == 3
    assert plan_nudge(DEADLINE, 2, SETTINGS).due_at == DEADLINE + timedelta(days=2)
    assert plan_nudge(DEADLINE, 1, Settings(nudge_every=None)) is None


def test_nudges_keep_an_interval_apart_after_downtime_and_end():
    day = timedelta(days=1)
    back = DEADLINE + 3 * day + timedelta(hours=2)  # the bot was down for the first nudges
    assert plan_nudge(DEADLINE, 2, SETTINGS, after=DEADLINE + day).due_at == DEADLINE + 2 * day
    assert plan_nudge(DEADLINE, 2, SETTINGS, after=back).due_at == back + day
    assert plan_nudge(DEADLINE, MAX_NUDGES, SETTINGS) is not None
    assert plan_nudge(DEADLINE, MAX_NUDGES + 1, SETTINGS) is None


def test_who_gets_the_overdue_notice_and_the_nudges():
    overdue = Reminder(1, "T", 1, OVERDUE, "overdue@x", DEADLINE, "sending", 1, None)
    last = Reminder(2, "T", 1, NUDGE, f"nudge:{MAX_NUDGES}@x", DEADLINE, "sending", 1, None)
    first = Reminder(3, "T", 1, NUDGE, "nudge:1@x", DEADLINE, "sending", 1, None)
    on_time = overdue_audience(overdue, "C", ["A", "C"], late=False, channel_archived=False)
    assert (on_time.people, on_time.last) == (["C"], False)
    late = overdue_audience(overdue, "C", ["A", "C"], late=True, channel_archived=False)
    assert late.people == ["C", "A"], "it stands for the nudges missed"
    archived = overdue_audience(first, "C", ["A"], late=False, channel_archived=True)
    assert (archived.people, archived.last) == (["A", "C"], True)
    assert overdue_audience(first, "C", [], late=False, channel_archived=False).people == ["C"]
    assert overdue_audience(last, "C", ["A"], late=False, channel_archived=False).last


def test_a_reminder_that_no_longer_makes_sense_is_skipped():
    day, four = (DEADLINE - timedelta(hours=24)), (DEADLINE - timedelta(hours=4))
    reminder = Reminder(1, "T", 1, BEFORE, "k", day, "sending", 1, None)
    assert not is_stale(reminder, DEADLINE, day + timedelta(minutes=1), [day, four])
    # down for a day: at 3 h left both are due; only the 4 h one goes
    assert is_stale(reminder, DEADLINE, four + timedelta(hours=1), [day, four])
    # past the deadline: the overdue notice says it
    assert is_stale(reminder, DEADLINE, DEADLINE + timedelta(seconds=1), [day, four])


def test_action_items_are_due_by_the_end_of_their_day():
    item = ActionItem(1, 1, 1, "x", Priority.IMMEDIATE, "U1", date(2026, 12, 1))
    assert action_due_moment(item) == datetime(2026, 12, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"POSTMORTEM_DEADLINE": "two days"}, "POSTMORTEM_DEADLINE"),
        ({"POSTMORTEM_DEADLINE": "0s"}, "POSTMORTEM_DEADLINE"),
        ({"REMINDERS_BEFORE": "24h,soon"}, "REMINDERS_BEFORE"),
        ({"REMINDERS_BEFORE": "72h"}, "REMINDERS_BEFORE"),
        ({"OVERDUE_NUDGE_EVERY": "daily"}, "OVERDUE_NUDGE_EVERY"),
        ({"ACTION_REMINDER_BEFORE": "-1h"}, "ACTION_REMINDER_BEFORE"),
    ],
)
def test_bad_durations_name_the_variable(env, variable):
    base = {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s"}
    with pytest.raises(ConfigError) as raised:
        load_config({**base, **env})
    assert str(raised.value).startswith(variable)


def test_durations_and_off():
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-t",
            "SLACK_SIGNING_SECRET": "s",
            "POSTMORTEM_DEADLINE": "1d12h",
            "REMINDERS_BEFORE": "4h, 24h, 4h",
            "OVERDUE_NUDGE_EVERY": "off",
        }
    )
    assert config.deadline == timedelta(hours=36)
    assert config.reminders_before == (timedelta(hours=24), timedelta(hours=4))
    assert config.nudge_every is None


# --- end to end, on a running clock with short durations -------------------------------------

FAST = {"POSTMORTEM_DEADLINE": "4s", "REMINDERS_BEFORE": "3s,1s", "OVERDUE_NUDGE_EVERY": "2s"}
AT_MOMENTS = pytest.mark.parametrize(
    "clock", [START, *MOMENTS.values()], ids=["ordinary", *MOMENTS], indirect=True
)


@pytest.fixture
def config(tmp_path, slack):
    return make_config(tmp_path, slack, **FAST)


def dms(slack, who):
    return [m for m in slack.ws.im(slack.user(who)).messages]


def texts(messages):
    return [m.text for m in messages]


@AT_MOMENTS
def test_owners_get_each_reminder_then_the_overdue_notice_and_nudges(slack, bot, clock):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "owner @bob @carol", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    # intervals on Slack's side: from the resolution's message to each DM
    resolved = float(next(m.ts for m in channel.messages if "resolved" in m.text))
    for who in ("bob", "carol"):
        wait_for(lambda w=who: len(dms(slack, w)) >= 2, timeout=6, what=f"{who}'s reminders")
    wait_for(
        lambda: any("overdue" in m.text for m in channel.messages),
        timeout=6,
        what="the overdue notice",
    )
    wait_for(
        lambda: any("overdue" in m.text for m in dms(slack, "bob")),
        timeout=6,
        what="the first nudge",
    )
    for who in ("bob", "carol"):
        due = [m for m in dms(slack, who) if "due soon" in m.text]
        assert len(due) == 2, texts(dms(slack, who))
        sent = [float(m.ts) - resolved for m in due]
        assert 0.5 < sent[0] < 2.5 and 2.5 < sent[1] < 4, sent
        blocks = str(due[0].blocks)
        assert "hotfix-001" in blocks and "Checkout API returning 500s" in blocks
        assert "<!date^" in blocks and "UTC)" in blocks
        assert "open point(s)" in blocks and "Write the next section" in blocks
        assert "The timeline has no “Fix implemented”" in blocks  # the most important first
        assert blocks.index("timeline has no") < blocks.index("is not written yet")
    commander = [m for m in dms(slack, "alice") if "overdue" in m.text]
    assert len(commander) == 1, "the commander's DM at the deadline"
    assert len([m for m in channel.messages if "is overdue" in m.text]) == 1

    publish_anyway(slack, "alice", channel)
    bot.settle()
    before = len(dms(slack, "bob"))
    time.sleep(2.5)
    assert len(dms(slack, "bob")) == before, "publishing stops the nudges"


def test_publishing_before_the_first_reminder_cancels_them_all(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "resolve", channel.name)
    publish_anyway(slack, "alice", channel)
    bot.settle()
    time.sleep(4.5)
    assert dms(slack, "alice") == []
    assert not any("overdue" in m.text for m in channel.messages)
    statuses = [r["status"] for r in bot.store.db.query("SELECT status FROM reminders")]
    assert statuses and set(statuses) == {"cancelled"}


def test_reminder_buttons_open_the_next_section_and_the_draft(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "resolve", channel.name)
    dm = wait_for(lambda: dms(slack, "alice"), timeout=4, what="a reminder")[0]
    slack.click("alice", dm, "reminder_write")
    assert slack.modal("alice")["title"]["text"] == "Executive Summary"
    slack.click("alice", dm, "reminder_draft")
    bot.settle()
    drafted = wait_for(lambda: [m for m in dms(slack, "alice") if m.files], what="the draft")
    assert drafted[0].files[0]["content"].startswith(b"<!-- Written with postmortem-bot.")


def test_dms_stay_within_block_limits_however_much_is_missing(slack, bot):
    channel = open_incident(slack)
    for n in range(60):
        slack.command(
            "alice", "/incident", f"action Fix thing number {n} " + "x" * 300, channel.name
        )
    slack.command("alice", "/incident", "resolve", channel.name)
    dm = wait_for(
        lambda: [m for m in dms(slack, "alice") if "due soon" in m.text],
        timeout=4,
        what="the reminder",
    )[0]
    assert "AI-001 has no owner and no due date" in str(dm.blocks)
    assert re.search(r"… and \d+ more", str(dm.blocks))
    # the emulator refuses invalid blocks: no problem recorded means Slack took it


def test_an_undeliverable_reminder_is_reported_in_the_channel(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "owner @carol @bob", channel.name)
    slack.deactivate("carol", dms_accepted=False)  # carol left the company
    slack.command("alice", "/incident", "resolve", channel.name)
    wait_for(
        lambda: any("could not be delivered" in m.text for m in channel.messages),
        timeout=4,
        what="the report",
    )
    wait_for(lambda: any("due soon" in m.text for m in dms(slack, "bob")), what="bob's reminder")
    report = next(m.text for m in channel.messages if "could not be delivered" in m.text)
    assert f"<@{slack.user('carol')}>" in report and "deactivated" in report
    assert ("chat.postMessage", "channel_not_found") not in slack.api.refused, "not even tried"


@pytest.fixture
def due_now(slack, config, store, clock):
    """A resolved incident with one reminder due now, and the sender, without the scheduler."""
    from bot.incidents import Incidents
    from bot.models import Severity
    from bot.reminders import Planned
    from bot.slack.app import create_client, create_reminder_sender

    incidents = Incidents(store, clock)
    incident = incidents.start(
        slack.ws.team_id, slack.user("alice"), "db", Severity.SEV2, private=False
    )
    incident = incidents.attach_channel(incident, slack.general.id, "general")
    incident = incidents.resolve(incident, slack.user("alice"), "", lambda: UTC)
    sender = create_reminder_sender(config, store, create_client(config), clock)
    sender.reminders.backoff = (timedelta(milliseconds=1),) * 3
    (reminder,) = sender.reminders.add(incident, [Planned("before", "k", clock())])
    return sender, reminder


def test_a_failing_dm_is_retried_with_backoff(slack, due_now):
    sender, reminder = due_now
    # her DMs fail 3 times: slack_sdk's own retries use them up, then the bot backs off
    slack.fail(
        "chat.postMessage", "internal_error", status=500, times=3, channel=slack.user("alice")
    )
    (again,) = sender.fire(reminder.id)
    assert (again.status, again.attempts) == ("pending", 1)
    assert again.due_at > reminder.due_at
    assert sender.fire(reminder.id) == []
    assert sender.reminders.get(reminder.id).status == "sent"
    assert [m.text for m in dms(slack, "alice")] == ["The hotfix-001 post-mortem is due soon"]


def test_a_dm_that_keeps_failing_is_reported_and_the_sender_carries_on(slack, due_now):
    sender, reminder = due_now
    slack.fail(
        "chat.postMessage", "internal_error", status=500, times=100, channel=slack.user("alice")
    )
    for _ in range(4):
        sender.fire(reminder.id)
    assert sender.reminders.get(reminder.id).status == "failed"
    assert any(
        "could not be delivered" in m.text and "internal_error" in m.text
        for m in slack.general.messages
    )
    assert sender.fire(reminder.id) == []  # nothing left to do, nothing raised


@AT_MOMENTS
def test_action_item_reminders_reach_their_owner(slack, bot, clock):
    channel = open_incident(slack)
    today = clock().date()  # due by the end of today: 24 h before that has passed
    slack.command("alice", "/incident", f"action Rotate keys @bob due {today}", channel.name)
    wait_for(
        lambda: any("is due soon" in m.text for m in dms(slack, "bob")),
        timeout=5,
        what="the action item reminder",
    )
    assert [m.text for m in dms(slack, "bob")] == [
        "You own AI-001 of hotfix-001",
        "Reminder: AI-001 of hotfix-001 is due soon",
    ]
    (row,) = bot.store.db.query("SELECT due_at FROM reminders WHERE kind = 'action'")
    assert datetime.fromisoformat(row["due_at"]) == datetime.combine(
        today, datetime.min.time(), UTC
    )


def test_home_tab_shows_incidents_post_mortems_and_action_items(slack, bot):
    import json

    channel = open_incident(slack)
    slack.command("alice", "/incident", "action Rotate keys @alice due 2026-12-24", channel.name)
    other = open_incident(slack, text="start Search is slow")
    resolved = slack.command("alice", "/incident", "resolve", other.name)
    assert "resolved" in resolved.text, resolved.text
    bot.settle()
    body = {
        "type": "event_callback",
        "team_id": slack.ws.team_id,
        "api_app_id": "A0",
        "event_id": "Ev1",
        "event_time": 1,
        "event": {
            "type": "app_home_opened",
            "user": slack.user("alice"),
            "tab": "home",
            "channel": "D0",
            "event_ts": "1.0",
        },
    }
    assert slack.send(json.dumps(body).encode(), "application/json").status == 200
    bot.settle()
    home = str(slack.api.home[slack.user("alice")]["blocks"])
    assert "hotfix-001" in home and "Checkout API" in home
    assert "hotfix-002" in home and ("due in" in home or "overdue by" in home)  # 4 s deadline
    assert "AI-001" in home and "Rotate keys" in home


def test_changed_settings_replan_unsent_reminders_at_start(tmp_path):
    from bot.incidents import Incidents
    from bot.models import Severity
    from bot.postmortem import DEFAULT_TEMPLATES
    from bot.reminders import Reminders
    from bot.retro import Retro
    from bot.sections import load_sections
    from bot.store import Store

    store = Store(tmp_path / "incidents.db")
    resolved = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    incidents = Incidents(store, lambda: resolved)
    incident = incidents.start("T1", "U1", "db down", Severity.SEV2, private=False)
    incident = incidents.resolve(incident, "U1", "", lambda: UTC)
    Reminders(store, SETTINGS, lambda: resolved).plan_for(incident)

    later = Settings(before=(timedelta(hours=2),))  # REMINDERS_BEFORE=2h, deadline 24h now
    planned = Reminders(store, later, lambda: resolved).replan_all(
        Retro(store, lambda: resolved, load_sections(DEFAULT_TEMPLATES)), timedelta(hours=24)
    )
    assert planned == 2
    deadline = resolved + timedelta(hours=24)
    assert store.incident("T1", incident.id).deadline_at == deadline
    pending = sorted(
        datetime.fromisoformat(r["due_at"])
        for r in store.db.query("SELECT due_at FROM reminders WHERE status = 'pending'")
    )
    assert pending == [deadline - timedelta(hours=2), deadline]
    store.close()
