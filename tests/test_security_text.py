"""Security: text people type reaches Slack escaped, and reaches the store and git cleaned and
within its limit, through every path. All through the running bot, the strict Slack emulator
and a real git repository (a bare one in tmp_path)."""

import contextlib
import json
import shutil
import subprocess
from typing import Any

import pytest

from bot.postmortem import DEFAULT_TEMPLATES
from bot.sections import load_sections
from tests import test_publish_flow
from tests.conftest import make_config, wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import publish_anyway

# What, typed into any field, must never reach anyone live: a ping of the whole channel, of
# everyone online, of a chosen person, and a disguised link.
HOSTILE = "<!channel> <!here> <@U0EVIL> <https://evil.example/login|click to reset>"
LIVE = ("<!channel>", "<!here>", "<@U0EVIL>", "<https://evil.example")
SECTIONS = tuple(load_sections(DEFAULT_TEMPLATES))


remote = test_publish_flow.remote


@pytest.fixture
def config(tmp_path, slack, remote):
    """Every optional setting on, the reminders seconds apart (on the running clock)."""
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    return make_config(
        tmp_path,
        slack,
        ANNOUNCE_CHANNEL=slack.general.id,
        POSTMORTEM_REPO=str(remote),
        POSTMORTEM_BRANCH="main",
        POSTMORTEM_GIT_AUTHOR="Incident Bot <bot@example.com>",
        POSTMORTEM_DEADLINE="4s",
        REMINDERS_BEFORE="3s,1s",
        OVERDUE_NUDGE_EVERY="1s",
        ACTION_REMINDER_BEFORE="30d",
        TIMELINE_TIME_ZONE="utc",
        TEMPLATES_DIR=str(templates),
        INCIDENT_CHANNEL_PREFIX="sec-",
    )


def git_show(remote, path):
    return subprocess.run(
        ["git", "--git-dir", str(remote), "show", f"main:{path}"],
        capture_output=True,
        check=True,
    ).stdout


def dms(slack, who):
    return slack.ws.im(slack.user(who)).messages


def everything_sent(slack) -> list[tuple[str, str]]:
    """(where, string) for every string the bot sent to Slack that Slack reads as markup: each
    Web API call's arguments (JSON-encoded ones opened), each ack body and each response_url
    post. Left out are what Slack shows as it is: a `plain_text` object (only `mrkdwn` "accepts
    any of the standard text formatting markup", Block Kit's text object reference) and an
    input's `initial_value` (the person's own text given back to edit)."""
    found: list[tuple[str, str]] = []

    def walk(where: str, value: Any) -> None:
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, dict) and value.get("type") == "plain_text":
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "initial_value":
                    walk(where, item)
        elif isinstance(value, list):
            for item in value:
                walk(where, item)
        elif isinstance(value, str):
            found.append((where, value))

    with slack.ws.lock:
        calls = list(slack.api.calls)
    for method, args in calls:
        walk(method, args)
    for kind, body in list(slack.answers):
        walk(kind, body)
    return found


def test_no_message_the_bot_sends_carries_typed_markup_live(slack, bot, remote, clock):
    """A whole incident with hostile text in every field a person fills: nothing the bot
    sends anywhere (announcement, channel, ephemerals, DMs, updates, modals, App Home,
    response_url replies) pings anyone or shows a disguised link."""
    today = clock().date()
    channel = open_incident(slack, text=f"start {HOSTILE} checkout down sev2")
    wait_for(lambda: slack.messages("general"), what="the announcement")
    name = channel.name
    slack.command("bob", "/timeline", f"{HOSTILE} entry", name)
    slack.command("bob", "/timeline", f"-5m detected: {HOSTILE}", name)
    bot.settle()
    slack.command("bob", "/timeline", f"edit 2 {HOSTILE} edited", name)
    slack.command("bob", "/timeline", "", name)
    said = slack.say("carol", name, f"{HOSTILE} said carol")
    assert slack.shortcut("carol", "add_to_timeline", name, said).status == 200
    slack.command("alice", "/incident", "owner @bob @carol", name)
    slack.command("alice", "/incident", "severity sev1", name)
    added = slack.command(
        "alice",
        "/incident",
        f"action {HOSTILE} fix @bob due {today} immediate why: {HOSTILE}",
        name,
    )
    assert "AI-001" in added.text and f"<@{slack.user('bob')}>" in added.text  # not U0EVIL
    slack.command("alice", "/incident", "action", name)
    slack.submit(
        "alice",
        {"text": f"{HOSTILE} modal", "owner": slack.user("carol"), "why": HOSTILE},
    )
    bot.settle()
    slack.command("alice", "/timeline", f"root-cause: {HOSTILE}", name)
    slack.command("alice", "/timeline", f"fix: {HOSTILE}", name)
    slack.command("alice", "/incident", "resolve", name)
    bot.settle()
    slack.command("alice", "/timeline", f"resolved: {HOSTILE} confirmed", name)
    reminder = wait_for(
        lambda: [m for m in dms(slack, "bob") if "reminder_write" in str(m.blocks)],
        timeout=6,
        what="a reminder",
    )[0]
    slack.click("bob", reminder, "reminder_write")
    slack.submit("bob", {"text": f"{HOSTILE} summary"})
    slack.click("bob", reminder, "reminder_draft")
    wait_for(
        lambda: any("overdue" in m.text for m in channel.messages),
        timeout=6,
        what="the overdue notice",
    )
    for section in SECTIONS:
        slack.command("carol", "/incident", f"write {section.key}", name)
        fields = [b["block_id"] for b in slack.modal("carol")["blocks"] if b["type"] == "input"]
        slack.submit("carol", {key: f"{HOSTILE} {key}" for key in fields})
        bot.settle()
    for command in ("list", "status", "actions", "help", "draft"):
        slack.command("alice", "/incident", command, name)
    action_dm = next(m for m in dms(slack, "bob") if m.text.startswith("You own AI-001"))
    slack.click("bob", action_dm, "action_done")
    slack.open_home("bob")
    publish_anyway(slack, "alice", channel)
    bot.settle()
    bot.publisher.wait_idle()
    bot.settle()

    sent = everything_sent(slack)
    assert any("&lt;!channel&gt;" in text for _, text in sent)  # the text went everywhere ...
    live = [(where, text) for where, text in sent if any(token in text for token in LIVE)]
    assert live == []  # ... escaped
    postmortem = git_show(remote, "hotfix-001/postmortem.md").decode()
    assert "evil.example/login|click to reset> checkout down" in postmortem  # the words kept


# --- free text: cleaned and capped in one place, through every path -------------------------

# ... and the bidirectional override and isolates that reorder how text displays (Trojan Source)
CONTROLS = "a\x00b\x07c\x1b[31mred\x1b[0m\x7fd\x08e\x85f\x0cg\x1ch\u202ei\u2066j\u2069k"
CLEAN = "abc[31mred[0mdefghijk"  # what is left of CONTROLS
WORDS = "abc[31mred[0mde f g hijk"  # in a command's words: NEL, FF and FS separate them
BIG = 100_000


def rows(bot, sql):
    return [tuple(row.values()) for row in bot.store.db.query(sql)]


def refusal(length, limit):
    """The words every refusal of text over its limit shares."""
    return f"is {length:,} characters; the limit is {limit:,}."


def test_control_characters_reach_neither_the_rows_nor_the_committed_postmortem(slack, bot, remote):
    """A NUL makes git treat the post-mortem as binary: through the command's `why:`, the
    action modal's "why" field, a section's modal, `/timeline` and a kept message, control
    characters are dropped before anything is stored, tabs and line breaks kept."""
    channel = open_incident(slack)
    name = channel.name
    slack.command("alice", "/incident", f"action Rotate keys @bob why: cmd {CONTROLS}", name)
    slack.command("alice", "/incident", "action", name)
    reply = slack.submit(
        "alice", {"text": f"Add alerts {CONTROLS}", "why": f"modal {CONTROLS}\n\tsecond line"}
    )
    assert reply.status == 200 and reply.body == ""
    slack.command("alice", "/timeline", f"detected: {CONTROLS}", name)
    said = slack.say("carol", name, f"said {CONTROLS}")
    assert slack.shortcut("carol", "add_to_timeline", name, said).status == 200
    slack.command("alice", "/incident", "write summary", name)
    slack.submit("alice", {"text": f"section {CONTROLS}"})
    bot.settle()
    slack.command("alice", "/incident", "draft", name)
    wait_for(lambda: any(m.files for m in channel.messages), what="the draft")
    bot.settle()
    bot.publisher.wait_idle()

    items = rows(bot, "SELECT text, why FROM action_items ORDER BY number")
    assert items == [
        ("Rotate keys", f"cmd {WORDS}"),
        (f"Add alerts {CLEAN}", f"modal {CLEAN}\n\tsecond line"),
    ]
    kept = [e.text for e in bot.store.entries(slack.ws.team_id, 1)]
    assert f"said {CLEAN}" in kept and CLEAN in kept
    assert rows(bot, "SELECT value FROM section_values") == [(f"section {CLEAN}",)]
    postmortem = git_show(remote, "hotfix-001/postmortem.md")
    assert f"modal {CLEAN}".encode() in postmortem
    assert not any(ch in postmortem for ch in b"\x00\x07\x08\x0c\x1b\x7f")
    assert not any(ch.encode() in postmortem for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2069")
    numstat = subprocess.run(
        ["git", "--git-dir", str(remote), "log", "--numstat", "--format=", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-\t-\thotfix-001/postmortem.md" not in numstat, "git took it for a binary file"


def test_text_over_its_limit_is_refused_with_the_same_words_and_nothing_stored(slack, bot):
    """Through the command (title, entry, action item, `why:`), the action modal (its text
    and "why") and a section's modal: a short refusal naming the limit, nothing stored, never
    text cut short."""
    channel = open_incident(slack)
    name = channel.name
    commands = {
        f"start {'t' * 300}": (300, 200),
        f"action {'a' * 600} @bob": (600, 500),
        f"action Rotate keys @bob why: {'w' * BIG}": (BIG, 3000),
    }
    for text, (length, limit) in commands.items():
        reply = slack.command("alice", "/incident", text, name)
        assert reply.json["response_type"] == "ephemeral", reply.body
        assert refusal(length, limit) in reply.text and len(reply.text) < 200, reply.text
    reply = slack.command("alice", "/timeline", "e" * 3001, name)
    assert refusal(3001, 3000) in reply.text

    slack.command("alice", "/incident", "action", name)
    for field, value, limit in (("why", "w" * BIG, 3000), ("text", "a" * 600, 500)):
        given = {"text": "Rotate keys", "why": "", field: value}
        reply = slack.submit("alice", given)
        assert reply.json["response_action"] == "errors", reply.body
        assert refusal(len(value), limit) in reply.json["errors"][field]
    slack.api.open_views[slack.user("alice")].clear()  # she closes the modal
    slack.command("alice", "/incident", "write summary", name)
    reply = slack.submit("alice", {"text": "s" * BIG})
    assert refusal(BIG, 3000) in reply.json["errors"]["text"]
    bot.settle()

    assert [i.number for i in bot.store.open_incidents(slack.ws.team_id)] == [1]
    assert rows(bot, "SELECT id FROM action_items") == []
    assert rows(bot, "SELECT value FROM section_values") == []
    assert len(bot.store.entries(slack.ws.team_id, 1)) == 1  # "Incident began" only
