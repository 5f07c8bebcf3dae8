"""Milestones keep their meaning: one "Incident began", one "Incident closed" (moved, never
duplicated), reopening takes the resolution out, and a contradiction is named, never `0s`."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Milestone
from tests.conftest import Clock, recorded, render_draft

T0 = datetime(2026, 11, 30, 9, 39, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(T0)


def incident(bot, slack, channel):
    return bot.store.incident_by_channel(slack.ws.team_id, channel.id)


def milestones(bot, slack, channel):
    i = incident(bot, slack, channel)
    return [
        (e.milestone, e.at.strftime("%H:%M"))
        for e in bot.store.entries(slack.ws.team_id, i.id)
        if e.milestone
    ]


def status(slack, channel):
    return json.dumps(
        slack.command("alice", "/incident", "status", channel.name).json, ensure_ascii=False
    )


def test_the_bug_report_a_time_ahead_is_refused_not_moved_to_yesterday(slack, bot, channel):
    reply = slack.command("bob", "/timeline", "09:49 detected: disk alert fired", channel.name)
    assert "10 minutes from now" in reply.text
    assert milestones(bot, slack, channel) == [(Milestone.BEGAN, "09:39")]
    reply = slack.command("bob", "/timeline", "09:49 began: disk filled", channel.name)
    assert "10 minutes from now" in reply.text
    assert "23h" not in status(slack, channel)


def test_editing_incident_began_keeps_it_incident_began(slack, bot, channel, clock):
    refused = slack.command("alice", "/timeline", "edit 1 detected: alert", channel.name)
    assert "stays that" in refused.text
    assert milestones(bot, slack, channel) == [(Milestone.BEGAN, "09:39")]
    slack.command("alice", "/timeline", "edit 1 09:20 disk started filling", channel.name)
    assert milestones(bot, slack, channel) == [(Milestone.BEGAN, "09:20")]
    moved = slack.command("bob", "/timeline", "09:10 began: cron job wrote 40 GB", channel.name)
    assert moved.json["response_type"] == "in_channel" and "moved" in moved.text
    assert "cron job" not in moved.text, "the notice carries no entry text"
    assert milestones(bot, slack, channel) == [(Milestone.BEGAN, "09:10")]
    slack.command("bob", "/timeline", "09:15 a plain event", channel.name)
    refused = slack.command("alice", "/timeline", "edit 2 began: no", channel.name)
    assert "exactly one “Incident began”" in refused.text
    assert "stays" in slack.command("alice", "/timeline", "delete 1", channel.name).text


def test_resolved_keyword_moves_the_one_incident_closed_and_its_deadline(
    slack, bot, channel, clock
):
    open_refused = slack.command("bob", "/timeline", "resolved: all good", channel.name)
    assert "still open" in open_refused.text and "/incident resolve" in open_refused.text
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve", channel.name)
    assert incident(bot, slack, channel).deadline_at == clock.now + timedelta(hours=48)
    moved = slack.command(
        "bob", "/timeline", "10:30 resolved: error rate at baseline", channel.name
    )
    assert "moved “Incident closed”" in moved.text and "now due" in moved.text
    closed = [m for m in milestones(bot, slack, channel) if m[0] is Milestone.RESOLVED]
    assert closed == [(Milestone.RESOLVED, "10:30")]
    i = incident(bot, slack, channel)
    assert i.resolved_at == datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
    assert i.deadline_at == i.resolved_at + timedelta(hours=48)
    due = sorted(
        datetime.fromisoformat(r["due_at"])
        for r in bot.store.db.query("SELECT due_at FROM reminders WHERE status = 'pending'")
    )
    hours = [timedelta(hours=24), timedelta(hours=4), timedelta(0)]
    assert due == [i.deadline_at - h for h in hours], "the reminders follow the deadline"
    before_start = slack.command("bob", "/timeline", "08:00 resolved: x", channel.name)
    assert "cannot have been resolved before" in before_start.text


def test_reopen_takes_incident_closed_out_of_the_milestones(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve", channel.name)
    clock.now += timedelta(minutes=30)
    slack.command("alice", "/incident", "reopen", channel.name)
    assert Milestone.RESOLVED not in [m for m, _ in milestones(bot, slack, channel)]
    shown = status(slack, channel)
    assert "Incident closed" not in shown and "Duration of impact" not in shown
    i = incident(bot, slack, channel)
    texts = [e.text for e in bot.store.entries(slack.ws.team_id, i.id)]
    assert any(t.startswith("Declared resolved (reopened") for t in texts), "history is kept"
    clock.now += timedelta(minutes=30)
    slack.command("alice", "/incident", "resolve", channel.name)
    closed = [m for m in milestones(bot, slack, channel) if m[0] is Milestone.RESOLVED]
    assert closed == [(Milestone.RESOLVED, "11:39")]


def test_a_milestone_before_the_beginning_is_named_never_0s(slack, bot, channel, clock):
    reply = slack.command("bob", "/timeline", "09:20 detected: disk alert", channel.name)
    assert recorded(reply)
    bot.settle()
    echo = json.dumps(channel.messages[-1].blocks)
    assert "before the incident began" in echo and "/timeline edit 2 HH:MM" in echo
    shown = status(slack, channel)
    assert "*Time to detect* 0s" not in shown and "Time to detect* not computed" in shown
    assert "not computed" in shown
    assert "“First detection” (#2, 2026-11-30 09:20 UTC) is 19m before “Incident began”" in shown
    assert "/timeline edit N HH:MM" in shown


def test_the_readiness_check_names_it_too(slack, bot, channel, clock):
    slack.command("bob", "/timeline", "09:20 detected: disk alert", channel.name)
    postmortem, _, readiness = render_draft(bot.store, clock, incident(bot, slack, channel))
    assert any("First detection" in p and "before “Incident began”" in p for p in readiness)
    metrics = postmortem.split("not computed", 1)
    assert len(metrics) == 2 and "- **Time to detect**: 0s" not in postmortem


def test_an_entry_after_the_resolution_says_so(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve 10:00", channel.name)
    slack.command("bob", "/timeline", "10:20 restarted the last pod", channel.name)
    slack.command("bob", "/timeline", "10:25 monitoring: watching for recurrence", channel.name)
    bot.settle()
    blocks = json.dumps([m.blocks for m in channel.messages])
    assert blocks.count("after the incident was resolved") == 1, "monitoring belongs after it"


def test_warnings_follow_the_beginning_and_the_resolution_when_they_move(
    slack, bot, channel, clock
):
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/timeline", "09:30 detected: disk alert", channel.name)  # before 09:39
    bot.settle()
    message = next(m for m in channel.messages if "disk alert" in json.dumps(m.blocks))
    assert "before the incident began" in json.dumps(message.blocks)
    slack.command("bob", "/timeline", "09:10 began: cron job filled the disk", channel.name)
    bot.settle()
    assert "before the incident began" not in json.dumps(message.blocks), "a stale warning"

    slack.command("alice", "/incident", "resolve 10:00", channel.name)
    slack.command("bob", "/timeline", "10:20 restarted the last pod", channel.name)
    bot.settle()
    late = next(m for m in channel.messages if "restarted the last pod" in json.dumps(m.blocks))
    assert "after the incident was resolved" in json.dumps(late.blocks)
    slack.command("bob", "/timeline", "10:30 resolved: error rate at baseline", channel.name)
    bot.settle()
    assert "after the incident was resolved" not in json.dumps(late.blocks)
    checklist = incident(bot, slack, channel).checklist_ts
    shown = json.dumps(next(m for m in channel.messages if m.ts == checklist).blocks)
    assert "2026-12-02 10:30 UTC" in shown, "the checklist shows the moved deadline"

    clock.now += timedelta(minutes=30)
    slack.command("bob", "/timeline", "10:35 a straggler", channel.name)
    slack.command("alice", "/incident", "reopen", channel.name)
    bot.settle()
    straggler = next(m for m in channel.messages if "a straggler" in json.dumps(m.blocks))
    assert "after the incident was resolved" not in json.dumps(straggler.blocks)
    shown = json.dumps(next(m for m in channel.messages if m.ts == checklist).blocks)
    assert "due after resolution" in shown


def test_a_refused_resolution_says_how_the_time_was_read(slack, bot, channel, clock):
    slack.ws.user_named("alice").tz = "Europe/Berlin"
    clock.now = T0 + timedelta(minutes=30)
    reply = slack.command("alice", "/incident", "resolve 10:30", channel.name)  # 09:30 UTC
    assert "`10:30` (Europe/Berlin) is 2026-11-30 09:30 UTC, but the incident began" in reply.text
    assert "/timeline HH:MM began:" in reply.text


def test_two_resolutions_at_once_record_one(slack, bot, channel, clock):
    import threading

    clock.now = T0 + timedelta(hours=1)
    slack.api.delays["users.info"] = 1.0  # alice's time needs her zone: Slack is slow
    slow = threading.Thread(
        target=lambda: replies.append(
            slack.command("alice", "/incident", "resolve 10:30", channel.name)
        )
    )
    replies: list = []
    slow.start()
    time_to_start = 0.3
    import time

    time.sleep(time_to_start)
    fast = slack.command("bob", "/incident", "resolve", channel.name)
    slow.join(5)
    assert "resolved" in fast.text
    assert "was resolved a moment ago" in replies[0].text
    closed = [m for m in milestones(bot, slack, channel) if m[0] is Milestone.RESOLVED]
    assert closed == [(Milestone.RESOLVED, "10:39")]


def test_moving_the_resolution_while_someone_reopens_leaves_it_open(slack, bot, channel, clock):
    import threading
    import time

    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve", channel.name)
    slack.api.delays["users.info"] = 1.0
    replies: list = []
    move = threading.Thread(
        target=lambda: replies.append(
            slack.command("alice", "/timeline", "10:30 resolved: baseline", channel.name)
        )
    )
    move.start()
    time.sleep(0.3)
    assert "reopened" in slack.command("bob", "/incident", "reopen", channel.name).text
    move.join(5)
    assert "reopened a moment ago" in replies[0].text or "is still open" in replies[0].text
    i = incident(bot, slack, channel)
    assert (i.status.value, i.resolved_at, i.deadline_at) == ("open", None, None)
    pending = list(bot.store.db.query("SELECT id FROM reminders WHERE status = 'pending'"))
    assert pending == []


def test_the_store_refuses_a_resolution_move_after_a_reopen(store):
    """The window the test above cannot time: read, then someone reopens, then the write."""
    from bot.errors import Conflict
    from bot.incidents import Incidents
    from bot.models import Severity

    clock = Clock(T0)
    incidents = Incidents(store, clock)
    opened = incidents.start("T1", "U1", "db", Severity.SEV2, private=False)
    clock.now += timedelta(hours=1)
    resolved = incidents.resolve(opened, "U1", "", lambda: UTC)
    closed = next(e for e in store.entries("T1", opened.id) if e.milestone is Milestone.RESOLVED)
    incidents.reopen(resolved, "U2")
    with pytest.raises(Conflict):
        store.move_resolution(
            resolved, closed.id, at=T0, text="x", deadline_at=T0, by="U1", when=clock.now
        )
    with pytest.raises(Conflict):
        incidents.reopen(resolved, "U2")  # twice
    assert store.incident("T1", opened.id).resolved_at is None


def test_time_to_fix_does_not_fall_back_silently_past_a_contradiction(store):
    from bot.entries import Timeline
    from bot.incidents import Incidents
    from bot.models import Severity

    clock = Clock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    incidents = Incidents(store, clock)
    timeline = Timeline(store, clock, timedelta(hours=48))
    incident = incidents.start("T1", "U1", "db", Severity.SEV2, private=False)
    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    for text in ("09:10 detected: x", "09:30 deployed: y", "09:50 fix: z", "09:40 began: w"):
        timeline.record(incident, "U1", text, lambda: UTC)
    metrics = dict(incidents.report(incident).metrics())
    assert metrics["Time to fix"].startswith("not computed: “Fix deployed” (#3")
    assert metrics["Time to detect"].startswith("not computed")


def test_a_deadline_that_comes_back_gets_its_reminders_again(slack, bot, channel, clock):
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve", channel.name)
    slack.command("alice", "/incident", "reopen", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)  # the same moment: same keys
    bot.settle()  # reminders are planned after the ack
    pending = list(bot.store.db.query("SELECT key FROM reminders WHERE status = 'pending'"))
    assert len(pending) == 3, "two before the deadline and the overdue notice"


def test_reminders_are_not_planned_for_a_deadline_a_reopen_took_away(store):
    from bot.config import load_config
    from bot.errors import Conflict
    from bot.incidents import Incidents
    from bot.models import Severity
    from bot.reminders import Reminders
    from bot.slack.app import reminder_settings

    clock = Clock(T0)
    incidents = Incidents(store, clock)
    opened = incidents.start("T1", "U1", "db", Severity.SEV2, private=False)
    clock.now += timedelta(hours=1)
    resolved = incidents.resolve(opened, "U1", "", lambda: UTC)
    incidents.reopen(resolved, "U2")  # between the resolution and its reminders
    settings = reminder_settings(
        load_config({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_APP_TOKEN": "xapp-t"})
    )
    assert Reminders(store, settings, clock).plan_for(resolved) == []
    with pytest.raises(Conflict):
        incidents.publish(resolved, "U1")  # nor is a reopened incident published
    assert store.incident("T1", opened.id).published_at is None


def test_actions_without_any_teach_the_command_in_plain_text(slack, bot, channel):
    reply = slack.command("alice", "/incident", "actions", channel.name)
    assert "/incident action &lt;text&gt; @owner" in json.dumps(reply.json)
    # the emulator flags `<text>` in mrkdwn (Slack shows it as a link) at teardown


def test_a_reopen_right_after_a_move_leaves_the_checklist_without_a_deadline(
    slack, bot, channel, clock
):
    clock.now = T0 + timedelta(hours=1)
    for minute in (0, 10, 20):
        slack.command("bob", "/timeline", f"10:{minute:02d} step {minute}", channel.name)
    slack.command("alice", "/incident", "resolve 09:50", channel.name)  # echoes get warnings
    slack.command("bob", "/timeline", "10:30 resolved: later", channel.name)  # ... lose them
    slack.command("alice", "/incident", "reopen", channel.name)  # while those updates queue
    bot.settle()
    checklist = incident(bot, slack, channel).checklist_ts
    shown = json.dumps(next(m for m in channel.messages if m.ts == checklist).blocks)
    assert "due after resolution" in shown
