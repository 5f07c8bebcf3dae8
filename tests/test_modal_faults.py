"""Modals Slack will not open, and the same submission twice (issue 12)."""

import pytest

from tests.conftest import make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_retrospective import checklist as _checklist

FAST = {"POSTMORTEM_DEADLINE": "4s", "REMINDERS_BEFORE": "3s", "OVERDUE_NUDGE_EVERY": "off"}


@pytest.fixture
def config(tmp_path, slack):
    return make_config(tmp_path, slack, **FAST)


def checklist(channel):
    """The checklist message, once posted (None before)."""
    try:
        return _checklist(channel)
    except StopIteration:
        return None


def told(slack, who, words, before=0):
    return wait_for(
        lambda: next((e for e in slack.ephemerals(who)[before:] if words in e.text), None),
        what=f"{who} is told {words!r}",
    )


def test_an_expired_trigger_id_is_told_to_the_person_wherever_a_form_opens(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "resolve", channel.name)
    listed = wait_for(lambda: checklist(channel), what="the checklist")
    for do, again in [
        (lambda: slack.command("bob", "/incident", "write", channel.name), "/incident write"),
        (lambda: slack.command("bob", "/incident", "action", channel.name), "/incident action"),
        (lambda: slack.click("bob", listed, "write_section", "summary"), "Click the button"),
        (lambda: slack.click("bob", listed, "add_action"), "Click the button"),
    ]:
        seen = len(slack.ephemerals("bob"))
        slack.fail("views.open", "expired_trigger_id")
        do()
        note = told(slack, "bob", "The form did not open", seen)
        assert "expired_trigger_id" in note.text and again in note.text, note.text
        assert slack.modal("bob", wait=0) is None
    dm = wait_for(
        lambda: [m for m in slack.ws.im(slack.user("alice")).messages if m.blocks],
        what="alice's reminder",
    )[0]
    seen = len(slack.ephemerals("alice"))
    slack.fail("views.open", "expired_trigger_id")
    slack.click("alice", dm, "reminder_write")
    assert "Click the button again" in told(slack, "alice", "did not open", seen).text
    slack.click("alice", dm, "reminder_write")  # and clicking again opens it
    assert slack.modal("alice") is not None


def test_the_same_action_modal_submitted_twice_makes_one_item_and_one_dm(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "resolve", channel.name)
    slack.click("carol", wait_for(lambda: checklist(channel)), "add_action")
    slack.submit(
        "carol",
        {
            "text": "Alert on config pushes",
            "owner": slack.user("bob"),
            "due": "2027-02-01",
            "priority": "short-term",
            "why": None,
        },
        times=2,
    )
    bot.settle()
    items = list(bot.store.db.query("SELECT number, text FROM action_items"))
    assert items == [{"number": 1, "text": "Alert on config pushes"}]
    assigned = [m for m in slack.ws.im(slack.user("bob")).messages if "AI-00" in m.text]
    assert len(assigned) == 1, [m.text for m in assigned]
    assert len([m for m in channel.messages if "Action item added" in m.text]) == 1
