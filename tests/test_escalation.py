"""Escalation (ESCALATE_AFTER, ESCALATE_TO): an overdue post-mortem or action item told once to a
person or a channel, through the real scheduler and the sandbox, on a clock moved across the
moment, across restarts; never after publishing or closing; a refusal told to the commander."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError
from bot.escalate_to import EscalateTo, parse_escalate_to
from bot.reminders import ESCALATE, Settings, escalation_key, plan_deadline
from bot.slack.app import replan_reminders
from bot.store import Store
from tests.conftest import START, Clock, RunningClock, make_config, mark_done_dm, wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import publish_anyway
from tests.test_reminders_restart import up

DAY = timedelta(days=1)
# deadline a day after resolution; no nudges, so what reaches ESCALATE_TO is the escalation
DAILY = {"POSTMORTEM_DEADLINE": "24h", "REMINDERS_BEFORE": "4h", "OVERDUE_NUDGE_EVERY": "off"}
ESCALATING = {**DAILY, "ESCALATE_AFTER": "1d"}


# --- the settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("U0123ABCD", EscalateTo("U0123ABCD", channel=False)),
        ("@U0123ABCD", EscalateTo("U0123ABCD", channel=False)),
        ("<@U0123ABCD>", EscalateTo("U0123ABCD", channel=False)),
        ("<@U0123ABCD|dave>", EscalateTo("U0123ABCD", channel=False)),
        ("W0123ABCD", EscalateTo("W0123ABCD", channel=False)),
        (" C0123456789 ", EscalateTo("C0123456789", channel=True)),
        ("G0123456789", EscalateTo("G0123456789", channel=True)),
    ],
)
def test_escalate_to_reads_a_user_id_its_mention_or_a_channel_id(text, expected):
    assert parse_escalate_to(text) == expected


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"ESCALATE_AFTER": "1d"}, "ESCALATE_AFTER: needs ESCALATE_TO"),
        ({"ESCALATE_TO": "C0123456789"}, "ESCALATE_TO: needs ESCALATE_AFTER"),
        ({"ESCALATE_AFTER": "1d", "ESCALATE_TO": "#managers"}, "ESCALATE_TO: '#managers' is not"),
        ({"ESCALATE_AFTER": "1d", "ESCALATE_TO": "@dave"}, "ESCALATE_TO: '@dave' is not"),
        ({"ESCALATE_AFTER": "1d", "ESCALATE_TO": "D0123456789"}, "ESCALATE_TO: 'D0123456789'"),
        ({"ESCALATE_AFTER": "soon", "ESCALATE_TO": "U0123ABCD"}, "ESCALATE_AFTER: expected a"),
        ({"ESCALATE_AFTER": "0s", "ESCALATE_TO": "U0123ABCD"}, "ESCALATE_AFTER: expected a"),
    ],
)
def test_config_errors_name_the_setting(tmp_path, slack, env, says):
    with pytest.raises(ConfigError) as refused:
        make_config(tmp_path, slack, **env)
    assert str(refused.value).startswith(says), str(refused.value)


def test_escalation_is_off_unless_both_are_set(tmp_path, slack):
    assert make_config(tmp_path, slack).escalate_after is None
    assert make_config(tmp_path, slack, ESCALATE_AFTER="off").escalate_after is None
    kept = make_config(tmp_path, slack, ESCALATE_AFTER="OFF", ESCALATE_TO="<@U0123ABCD>")
    assert (kept.escalate_after, kept.escalate_to) == (None, EscalateTo("U0123ABCD", False))
    on = make_config(tmp_path, slack, ESCALATE_AFTER="1d12h", ESCALATE_TO="C0123456789")
    assert (on.escalate_after, on.escalate_to) == (
        timedelta(hours=36),
        EscalateTo("C0123456789", True),
    )


def test_the_escalation_is_planned_after_the_deadline_keyed_by_it():
    deadline = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    planned = plan_deadline(deadline, Settings(escalate_after=DAY))
    (escalation,) = [p for p in planned if p.kind == ESCALATE]
    assert (escalation.key, escalation.due_at) == ("escalate@20261128T160000", deadline + DAY)
    assert escalation_key(deadline + timedelta(hours=1)) != escalation.key  # a re-resolve
    assert [p for p in plan_deadline(deadline, Settings()) if p.kind == ESCALATE] == []


# --- through the scheduler and the sandbox -----------------------------------------------------


def manager(slack):
    """Dave, whom ESCALATE_TO names: in no incident."""
    return slack.ws.add_user("dave", "Dave Manager")


def dms(slack, user_id):
    return slack.ws.im(user_id).messages


def escalations(messages):
    return [m for m in messages if "is overdue by" in m.text]


def deadline_of(store, slack, number=1):
    incident = store.incident_by_number(slack.ws.team_id, number)
    assert incident is not None and incident.deadline_at is not None
    return incident.deadline_at


def statuses(store, kind):
    return [
        r["status"] for r in store.db.query("SELECT status FROM reminders WHERE kind = ?", [kind])
    ]


def test_an_overdue_post_mortem_is_escalated_once_to_a_person(tmp_path, slack):
    dave = manager(slack)
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=f"<@{dave.id}>")
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        channel = open_incident(slack)
        slack.command("alice", "/incident", "owner @bob @carol", channel.name)
        slack.command("alice", "/incident", "resolve", channel.name)
    moment = deadline_of(store, slack) + DAY
    clock = RunningClock(moment - timedelta(seconds=2))  # the clock crosses the moment
    with up(slack, config, store, clock):
        assert escalations(dms(slack, dave.id)) == [], "not before ESCALATE_AFTER has passed"
        wait_for(lambda: escalations(dms(slack, dave.id)), timeout=10, what="the escalation")
        assert clock() >= moment
    (sent,) = escalations(dms(slack, dave.id))
    assert sent.text == "The hotfix-001 post-mortem is overdue by 1d"
    blocks = str(sent.blocks)
    assert "*hotfix-001* (Checkout API returning 500s)" in blocks
    assert f"*Owners:* <@{slack.user('bob')}>, <@{slack.user('carol')}>" in blocks
    assert f"*Commander:* <@{slack.user('alice')}>" in blocks
    assert "Still missing" in blocks and "is not written yet" in blocks  # the draft's points
    for later in (timedelta(minutes=1), 3 * DAY):  # restarts after it went
        with up(slack, config, store, RunningClock(moment + later)):
            pass
    assert len(escalations(dms(slack, dave.id))) == 1
    assert statuses(store, "escalate") == ["sent"]
    store.close()


def test_escalated_once_to_a_channel_and_a_private_incident_by_its_id_alone(tmp_path, slack):
    bob = slack.user("bob")
    room = slack.ws.add_channel("incident-managers", bob, members={bob})  # the bot is not in it
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=room.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        public = open_incident(slack)
        secret = open_incident(slack, text="start --private Signing keys leaked <!channel> sev1")
        slack.command("alice", "/timeline", "rotated the keys in vault-7", secret.name)
        for channel in (public, secret):
            slack.command("alice", "/incident", "resolve", channel.name)
    moment = max(deadline_of(store, slack, 1), deadline_of(store, slack, 2)) + DAY
    with up(slack, config, store, RunningClock(moment - timedelta(seconds=2))):
        wait_for(lambda: len(room.messages) == 2, timeout=10, what="both escalations")
    with up(slack, config, store, RunningClock(moment + DAY)):  # and after a restart
        pass
    assert sorted(m.text for m in room.messages) == [
        f"A private incident (hotfix-002) is overdue; its commander is <@{slack.user('alice')}>",
        "The hotfix-001 post-mortem is overdue by 1d",
    ]
    (private,) = [str((m.text, m.blocks)) for m in room.messages if "private" in m.text]
    for told in ("Signing", "keys", "vault", "<!channel>", "Still missing", "Owners"):
        assert told not in private, told
    assert "Checkout API returning 500s" in str([m.blocks for m in room.messages])
    store.close()


@pytest.mark.parametrize("member", [False, True], ids=["outside it", "in its channel"])
def test_a_person_hears_a_private_incidents_contents_only_from_inside_it(tmp_path, slack, member):
    dave = manager(slack)
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        secret = open_incident(slack, text="start --private Signing keys leaked sev1")
        if member:
            slack.command("alice", "/incident", "owner @dave", secret.name)  # invites him
        slack.command("alice", "/incident", "resolve", secret.name)
    moment = deadline_of(store, slack) + DAY
    with up(slack, config, store, RunningClock(moment + timedelta(minutes=1))):
        pass
    (sent,) = [m for m in dms(slack, dave.id) if "is overdue" in m.text]
    if member:
        assert sent.text == "The hotfix-001 post-mortem is overdue by 1d 1m"
        assert "Signing keys leaked" in str(sent.blocks)
    else:
        assert "Signing" not in str((sent.text, sent.blocks))
        assert sent.text.startswith("A private incident (hotfix-001) is overdue")
    store.close()


@pytest.mark.parametrize("stop", ["publish", "reopen"])
def test_no_escalation_once_published_or_reopened(tmp_path, slack, stop):
    dave = manager(slack)
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)) as running:
        channel = open_incident(slack)
        slack.command("alice", "/incident", "resolve", channel.name)
        running.settle()  # planned after the ack
        moment = deadline_of(store, slack) + DAY
        assert statuses(store, "escalate") == ["pending"]
        if stop == "publish":
            publish_anyway(slack, "alice", channel)
        else:
            slack.command("alice", "/incident", "reopen", channel.name)
    with up(slack, config, store, RunningClock(moment + timedelta(minutes=1))):
        pass
    assert dms(slack, dave.id) == []
    assert statuses(store, "escalate") == ["cancelled"]
    store.close()


def test_an_escalation_that_fires_after_publishing_or_closing_is_cancelled(tmp_path, slack):
    """The fire-time check: a row still pending (planned by another process, say) for a
    post-mortem since published, or an item since closed, goes nowhere."""
    from bot.action_words import ParsedAction
    from bot.incidents import Incidents
    from bot.models import Priority, Severity
    from bot.slack.app import create_client, create_reminder_sender

    dave = manager(slack)
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id)
    store = Store(config.database_path)
    clock = Clock(START)
    sender = create_reminder_sender(config, store, create_client(config), clock)
    incident = Incidents(store, clock).start(
        slack.ws.team_id, slack.user("alice"), "db", Severity.SEV2, private=False
    )
    incident = Incidents(store, clock).attach_channel(incident, slack.general.id, "general")
    incident = Incidents(store, clock).resolve(incident, slack.user("alice"), "", lambda: UTC)
    parsed = ParsedAction(
        "Add an index", slack.user("bob"), START.date(), Priority.SHORT_TERM, None
    )
    item, _ = sender.retro.add_action(incident, parsed, slack.user("alice"))
    rows = sender.reminders.plan_for(incident) + sender.reminders.plan_actions(
        incident, sender.retro.actions(incident)
    )
    by_kind = {r.kind: r for r in rows}
    store.update_incident(
        incident.team_id, incident.id, at=clock(), user_id="", published_at=clock()
    )
    sender.retro.mark_done(incident.team_id, item.id, slack.user("alice"))
    clock.now = START + 5 * DAY  # both are due
    for kind in ("escalate", "action_escalate"):
        assert sender.fire(by_kind[kind].id) == []
        assert sender.reminders.get(by_kind[kind].id).status == "cancelled", kind
    assert dms(slack, dave.id) == []
    store.close()


def test_an_overdue_action_item_is_escalated_once_and_closed_or_moved_ones_are_not(tmp_path, slack):
    dave = manager(slack)
    # REMINDER_HOURS at its default (mon-fri 09:00-18:00): an escalation does not wait for them
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id, REMINDER_HOURS="")
    store = Store(config.database_path)
    due = START.date() + DAY  # Friday; due by its end, escalated at 00:00 on Sunday
    moment = datetime.combine(due, datetime.min.time(), UTC) + 2 * DAY
    with up(slack, config, store, RunningClock(START)) as running:
        channel = open_incident(slack)
        for text in ("Rotate <keys> @bob", "Fix alerts @carol", "Add a runbook @bob"):
            slack.command("alice", "/incident", f"action {text} due {due}", channel.name)
            running.settle()  # each planned after its ack: in order
        slack.command("alice", "/incident", f"action AI-003 due {due + 7 * DAY}", channel.name)
        running.settle()
        slack.click("carol", mark_done_dm(slack, "carol"), "action_done")  # AI-002 done
    # planned as they change: AI-002's cancelled when closed, AI-003's moved with its due date
    assert statuses(store, "action_escalate") == ["pending", "cancelled", "cancelled", "pending"]
    with up(slack, config, store, RunningClock(moment - timedelta(seconds=2))):
        assert escalations(dms(slack, dave.id)) == []
        wait_for(lambda: escalations(dms(slack, dave.id)), timeout=10, what="the escalation")
    with up(slack, config, store, RunningClock(moment + DAY)):  # a restart: nothing again
        pass
    (sent,) = escalations(dms(slack, dave.id))
    assert sent.text == "AI-001 of hotfix-001 is overdue by 1d"
    blocks = str(sent.blocks)
    assert "Rotate &lt;keys&gt;" in blocks and f"it was due {due}" in blocks
    assert f"*Owner:* <@{slack.user('bob')}>" in blocks
    assert f"*Commander:* <@{slack.user('alice')}>" in blocks
    assert sorted(statuses(store, "action_escalate")) == [
        "cancelled",
        "cancelled",
        "pending",
        "sent",
    ]
    (pending,) = [r for r in store.pending_reminders() if r.kind == "action_escalate"]
    assert pending.due_at == moment + 7 * DAY, "AI-003's, a day after its new due date"
    store.close()


def test_down_across_the_moment_escalates_once_when_back_and_a_half_sent_one_is_not_repeated(
    tmp_path, slack
):
    dave = manager(slack)
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        channel = open_incident(slack)
        slack.command("alice", "/incident", "resolve", channel.name)
    moment = deadline_of(store, slack) + DAY
    with up(slack, config, store, RunningClock(moment + 3 * DAY)):  # down from Thu to Mon
        pass
    (sent,) = escalations(dms(slack, dave.id))
    assert sent.text == "The hotfix-001 post-mortem is overdue by 4d", "how late it really is"
    # killed after Slack took it and its delivery was written, before the row was finished
    with store.write() as db:
        db.execute("UPDATE reminders SET status = 'sending' WHERE kind = 'escalate'")
    with up(slack, config, store, RunningClock(moment + 4 * DAY)):
        pass
    assert len(escalations(dms(slack, dave.id))) == 1
    assert statuses(store, "escalate") == ["sent"]
    store.close()


@pytest.mark.parametrize("target", ["private channel", "unknown person"])
def test_a_refused_escalation_is_logged_and_told_to_the_commander_once(
    tmp_path, slack, caplog, target
):
    if target == "private channel":  # the bot is not in it: Slack says it does not exist
        to = slack.ws.add_channel("managers", slack.user("bob"), is_private=True).id
        error = "channel_not_found"
    else:
        to, error = "U0NOBODY1", "user_not_found"
    config = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=to)
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        channel = open_incident(slack)
        slack.command("alice", "/incident", "resolve", channel.name)
    moment = deadline_of(store, slack) + DAY
    for later in (timedelta(minutes=1), DAY):
        with up(slack, config, store, RunningClock(moment + later)):
            pass
    told = [m for m in dms(slack, slack.user("alice")) if "The escalation to" in m.text]
    assert len(told) == 1
    assert f"(`{to}`, the ESCALATE_TO setting) could not be delivered" in told[0].text
    assert f"(`{error}`)" in told[0].text and "the hotfix-001 post-mortem" in told[0].text
    logged = [r for r in caplog.records if r.levelname == "ERROR" and "ESCALATE_TO" in r.message]
    assert len(logged) == 1 and to in logged[0].message and error in logged[0].message
    assert statuses(store, "escalate") == ["failed"]
    store.close()


def test_changed_settings_replan_escalations_at_start(tmp_path, slack):
    """Turned on later: an unpublished post-mortem and a published one's open item get theirs;
    turned off before the moment: cancelled; a new ESCALATE_AFTER moves them."""
    dave = manager(slack)
    config = make_config(tmp_path, slack, **DAILY)  # no escalation yet
    store = Store(config.database_path)
    with up(slack, config, store, RunningClock(START)):
        first = open_incident(slack)
        slack.command(
            "alice", "/incident", f"action Add an index @bob due {START.date()}", first.name
        )
        slack.command("alice", "/incident", "resolve", first.name)
        publish_anyway(slack, "alice", first)
        second = open_incident(slack, text="start Search is slow")
        slack.command("alice", "/incident", "resolve", second.name)
    on = make_config(tmp_path, slack, **ESCALATING, ESCALATE_TO=dave.id)
    now = RunningClock(START + timedelta(minutes=5))
    replan_reminders(on, store, now)  # what `python -m bot run` does at start
    pending = {r.kind: r.due_at for r in store.pending_reminders() if "escalate" in r.kind}
    item_due = datetime.combine(START.date(), datetime.min.time(), UTC) + DAY
    assert pending == {
        "escalate": deadline_of(store, slack, 2) + DAY,
        "action_escalate": item_due + DAY,
    }
    replan_reminders(make_config(tmp_path, slack, **DAILY, ESCALATE_AFTER="off"), store, now)
    assert [r for r in store.pending_reminders() if "escalate" in r.kind] == []
    later = make_config(tmp_path, slack, **DAILY, ESCALATE_AFTER="2d", ESCALATE_TO=dave.id)
    replan_reminders(later, store, now)
    pending = {r.kind: r.due_at for r in store.pending_reminders() if "escalate" in r.kind}
    assert pending == {
        "escalate": deadline_of(store, slack, 2) + 2 * DAY,
        "action_escalate": item_due + 2 * DAY,
    }
    with up(slack, later, store, RunningClock(max(pending.values()) + timedelta(minutes=1))):
        pass
    told = sorted(m.text for m in escalations(dms(slack, dave.id)))
    assert len(told) == 2
    # the item was due by the end of Thursday, the post-mortem at 15:30 on Friday
    assert told[0].startswith("AI-001 of hotfix-001 is overdue by 2d 15h 3"), told
    assert told[1] == "The hotfix-002 post-mortem is overdue by 2d 1m"
    store.close()
