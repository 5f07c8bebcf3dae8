"""Attack: what the bot tells someone who works from a DM (`/incident write hotfix-001`,
`/incident publish hotfix-001`, as README's "An archived incident channel" teaches) to type
next. A hint typed where it was given must work there."""

import re

from tests import test_publish_flow as flow
from tests.conftest import wait_for
from tests.test_publish_flow import click, confirmation

clock, config, remote, resolved = flow.clock, flow.config, flow.remote, flow.resolved


def dm(slack, who):
    return slack.ws.im(slack.user(who)).id


def commands_in(text):
    return re.findall(r"`(/incident[^`]*)`", text)


def test_a_form_that_did_not_open_from_a_dm_names_a_command_that_fails_in_that_dm(
    slack, bot, resolved
):
    resolved.is_archived = True  # the reason to work from a DM at all
    slack.fail("views.open", "expired_trigger_id")
    slack.command("alice", "/incident", "write hotfix-001 summary", dm(slack, "alice"))
    told = wait_for(
        lambda: next((e for e in slack.ephemerals("alice") if "did not open" in e.text), None),
        what="the form did not open",
    )
    (again,) = commands_in(told.text)
    retried = slack.command(
        "alice", "/incident", again.removeprefix("/incident "), dm(slack, "alice")
    )
    bot.settle()
    assert slack.modal("alice", wait=1) is not None, (
        f"the bot said {told.text!r}; typed in the DM it answers {retried.text!r}"
    )


def test_keep_writing_clicked_in_a_dm_points_to_commands_that_fail_in_that_dm(slack, bot, resolved):
    resolved.is_archived = True
    slack.command("alice", "/incident", "publish hotfix-001", dm(slack, "alice"))
    shown = click(slack, "alice", confirmation(slack, "alice"), "keep_writing")
    wait_for(lambda: "keep_writing" not in str(shown.blocks), what="the answer")
    hints = commands_in(shown.text)
    assert hints, shown.text
    for hint in hints:
        reply = slack.command(
            "alice", "/incident", hint.removeprefix("/incident "), dm(slack, "alice")
        )
        bot.settle()
        assert "works only in an incident channel" not in reply.text, (
            f"Keep writing (in the DM) says {shown.text!r}; `{hint}` there answers {reply.text!r}"
        )


def test_a_draft_asked_for_from_a_dm_once_the_channel_is_archived_reaches_nobody(
    slack, bot, resolved
):
    resolved.is_archived = True  # README: `draft hotfix-001` works from a DM then
    slack.command("alice", "/incident", "write hotfix-001 summary", dm(slack, "alice"))
    slack.submit("alice", {"text": "Checkout failed for 55 minutes after a bad config push."})
    bot.settle()
    reply = slack.command("alice", "/incident", "draft hotfix-001", dm(slack, "alice"))
    flow.quiet(bot)
    im = slack.ws.im(slack.user("alice"))
    files = [f for m in im.messages for f in (m.files or [])]
    told = [e.text for e in slack.ephemerals("alice") if "not posted" in e.text]
    assert files, (
        f"alice asked for the draft in her DM ({reply.text!r}) and reads only {told}: the "
        "draft is in no place she can open, and `/incident draft` 'once I can' never will "
        "for an archived channel (the reminder DM's 'Latest draft' button shows the bot can "
        "upload it to her DM)"
    )
