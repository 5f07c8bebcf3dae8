"""Hostile text through every Slack surface the bot writes to: nobody is pinged, nothing is
double-escaped, nothing runs. What people typed shows as they typed it."""

import re

from tests.conftest import wait_for
from tests.test_incident_commands import open_incident
from tests.test_markdown import html_of

HOSTILE = "<!channel> <!here> @everyone & <b>x</b> {{ config }} | *bold* `code` \u202eevil"
# kept as typed but for the right-to-left override, which would make it display reordered
KEPT = HOSTILE.replace("\u202e", "")


def mrkdwn(blocks) -> list[str]:
    """The texts Slack parses for mentions and links: mrkdwn objects (plain_text shows as is)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def everything_the_bot_wrote(slack) -> str:
    """Every text Slack would parse, and every file, that the bot sent anyone."""
    parts = []
    for channel in slack.ws.channels.values():
        parts.append(channel.topic)
        for message in channel.messages:
            if message.bot_id:
                parts += [message.text, *mrkdwn(message.blocks or [])]
                parts += [html_of(file["content"].decode()) for file in message.files or []]
    for ephemeral in slack.ws.ephemerals:
        parts += [ephemeral.text, *mrkdwn(ephemeral.blocks or [])]
    for view in [*slack.api.views.values(), *slack.api.home.values()]:
        parts += mrkdwn(view["blocks"])
    return "\n".join(parts)


def test_hostile_text_everywhere(slack, bot):
    channel = open_incident(slack, text=f"start {HOSTILE}")
    slack.command("alice", "/timeline", f"detected: {HOSTILE}", channel.name)
    slack.command("alice", "/incident", f"action {HOSTILE} @bob due 2027-01-01", channel.name)
    message = slack.say("carol", channel.name, HOSTILE)
    slack.shortcut("alice", "add_to_timeline", channel.name, message)
    slack.command("alice", "/incident", "resolve", channel.name)
    wait_for(lambda: any(m.files for m in channel.messages), what="the draft")
    slack.command("alice", "/incident", "write", channel.name)
    slack.submit("alice", {"text": HOSTILE})
    slack.command("alice", "/incident", "status", channel.name)
    slack.command("alice", "/timeline", "", channel.name)
    slack.command("alice", "/incident", "list", channel.name)
    slack.command("alice", "/incident", "draft", channel.name)
    wait_for(lambda: sum(bool(m.files) for m in channel.messages) == 2, what="the second draft")
    bot.settle()

    written = everything_the_bot_wrote(slack)
    for ping in ("<!channel>", "<!here>", "<!everyone>"):
        assert ping not in written, f"{ping} would notify people"
    assert "&amp;lt;" not in written and "&amp;amp;" not in written, "double-escaped"
    assert "&lt;!channel&gt;" in written, "the text is shown as typed"
    assert "<b>" not in written, "HTML passed through"
    header = next(
        m.blocks[0] for m in channel.messages if m.blocks and m.blocks[0]["type"] == "header"
    )
    assert KEPT in header["text"]["text"], "plain_text shows the title as typed"
    assert "\u202e" not in written, "no text displays in another order than it reads"
    assert "{{ config }}" in written, "template syntax stays literal"
    stored = [e.text for e in bot.store.entries(slack.ws.team_id, 1)]
    assert any(KEPT in text for text in stored), "stored as typed"


CONTROLS = "a\x00b\x07c\x1b[31mred\x1b[0m\x7fd\x08e\x85f\x0cg\x1ch"
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_control_characters_reach_no_one(slack, bot):
    """A NUL would make git take the post-mortem for a binary file, an ESC sequence recolours
    the terminal that prints it, a form feed or NEL splits a line: they are dropped on the way
    in, from commands, messages and modals alike; the visible text stays."""
    channel = open_incident(slack, text=f"start ctl {CONTROLS}")
    slack.command("alice", "/timeline", f"detected: {CONTROLS}", channel.name)
    slack.command("alice", "/incident", f"action {CONTROLS} @bob", channel.name)
    message = slack.say("carol", channel.name, f"said {CONTROLS}")
    slack.shortcut("alice", "add_to_timeline", channel.name, message)
    slack.command("alice", "/incident", "resolve", channel.name)
    wait_for(lambda: any(m.files for m in channel.messages), what="the draft")
    slack.command("alice", "/incident", "write", channel.name)
    slack.submit("alice", {"text": f"section {CONTROLS}"})
    slack.command("alice", "/incident", "draft", channel.name)
    wait_for(lambda: sum(bool(m.files) for m in channel.messages) == 2, what="the second draft")
    bot.settle()

    written = everything_the_bot_wrote(slack)
    assert not CONTROL_RE.search(written), "a control character reached Slack or the draft"
    store = bot.store
    incident = store.incident_by_channel(slack.ws.team_id, channel.id)
    kept = [incident.title, *(e.text for e in store.entries(slack.ws.team_id, incident.id))]
    kept += [row["text"] for row in store.db.query("SELECT text FROM action_items")]
    kept += [row["value"] for row in store.db.query("SELECT value FROM section_values")]
    assert not CONTROL_RE.search("\n".join(kept)), kept
    visible = "abc[31mred[0mde"  # what follows was split at the line-breaking controls
    assert sum(visible in text for text in kept) >= 5, kept  # title, entries, item, section
    assert f"section {visible}" in written, "the modal's text, in the draft"


def test_100_kb_of_text_gets_a_short_refusal_and_stores_nothing(slack, bot):
    huge = "x" * 100_000
    channel = open_incident(slack)
    replies = [
        slack.command("alice", "/incident", f"start {huge}"),
        slack.command("alice", "/timeline", huge, channel.name),
        slack.command("alice", "/incident", f"action {huge} @bob", channel.name),
        slack.command("alice", "/incident", f"commander {huge}", channel.name),
    ]
    for reply in replies:
        assert reply.status == 200 and reply.json["response_type"] == "ephemeral", reply.body
        assert len(reply.body) < 400, "the refusal does not echo the text back"
    assert "limit is 3,000" in replies[1].text and "100,000 characters" in replies[0].text
    bot.settle()
    store = bot.store
    assert [i.number for i in store.open_incidents(slack.ws.team_id)] == [1]
    assert len(store.entries(slack.ws.team_id, 1)) == 1  # "Incident began" only
    assert not list(store.db.query("SELECT id FROM action_items"))
