"""Any message can be kept, as it was: alerting tools' attachments, files, rich text, line
breaks, mentions as names, apps named as apps, and never the bot's own echo twice."""

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import Clock, render_draft, wait_for

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)

PAGERDUTY = [
    {
        "color": "#d62728",
        "fallback": "[Triggered] #4521 checkout 5xx > 5%",
        "title": "[Triggered] #4521 checkout 5xx > 5%",
        "title_link": "https://acme.pagerduty.com/incidents/Q1",
        "fields": [
            {"title": "Service", "value": "checkout-api", "short": True},
            {"title": "Urgency", "value": "high", "short": True},
        ],
    }
]


@pytest.fixture
def clock():
    return Clock(T0)


def keep(slack, bot, channel, message, who="alice"):
    """`who` keeps the message; returns the entry it became."""
    before = {e.id for e in kept(bot, slack, channel)}
    assert slack.shortcut(who, "add_to_timeline", channel.name, message).status == 200
    bot.settle()
    return wait_for(lambda: [e for e in kept(bot, slack, channel) if e.id not in before])[0]


def kept(bot, slack, channel):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    return [e for e in bot.store.entries(slack.ws.team_id, incident.id) if e.source == "message"]


def draft(bot, slack, channel):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    postmortem, hotfix, _ = render_draft(bot.store, Clock(T0), incident)
    return postmortem, hotfix


def test_an_alert_with_attachments_only_is_kept_and_its_app_named(slack, bot, channel):
    alert = slack.app_posts("PagerDuty", channel.name, "", attachments=PAGERDUTY)
    entry = keep(slack, bot, channel, alert)
    assert "[Triggered] #4521 checkout 5xx > 5%" in entry.text
    assert "Service: checkout-api" in entry.text and "Urgency: high" in entry.text
    assert entry.author_id == alert.bot_id
    assert bot.store.is_app(slack.ws.team_id, alert.bot_id)
    echo = json.dumps(channel.messages[-1].blocks)
    assert "kept from a message of PagerDuty" in echo and alert.bot_id not in echo
    postmortem, hotfix = draft(bot, slack, channel)
    participants = next(ln for ln in postmortem.splitlines() if ln.startswith("**Participants"))
    assert "PagerDuty" not in participants and alert.bot_id not in participants
    assert "| PagerDuty |" in postmortem, "named in the timeline table, not by its B… id"
    assert alert.bot_id not in postmortem + hotfix


def test_an_app_without_a_profile_in_the_message_is_named_by_bots_info(slack, bot, channel):
    alert = slack.app_posts("Grafana", channel.name, "", attachments=PAGERDUTY, profile=False)
    keep(slack, bot, channel, alert)
    assert ("bots.info", {"bot": alert.bot_id}) in [
        (m, {k: v for k, v in a.items() if k == "bot"}) for m, a in slack.api.calls
    ]
    _, hotfix = draft(bot, slack, channel)
    assert "| Grafana |" in hotfix


def test_a_file_share_keeps_the_file_name_and_link(slack, bot, channel):
    message = slack.ws.post(channel, slack.user("carol"), "")
    message.files = [
        {
            "id": "F1",
            "name": "p99-graph.png",
            "title": "p99 graph",
            "permalink": "https://acme.slack.com/files/U1/F1/p99-graph.png",
        }
    ]
    entry = keep(slack, bot, channel, message)
    assert "p99 graph" in entry.text
    assert "https://acme.slack.com/files/U1/F1/p99-graph.png" in entry.text


def test_rich_text_keeps_its_line_breaks_into_the_incident_log(slack, bot, channel):
    blocks = [
        {
            "type": "rich_text",
            "block_id": "b1",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [{"type": "text", "text": "Rolled back:\n"}],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": "api"}],
                        },
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": "web"}],
                        },
                    ],
                },
            ],
        }
    ]
    message = slack.ws.post(channel, slack.user("bob"), "", blocks)
    entry = keep(slack, bot, channel, message)
    assert entry.text.splitlines() == ["Rolled back:", "• api", "• web"]
    postmortem, hotfix = draft(bot, slack, channel)
    assert "Rolled back:<br>• api<br>• web" in hotfix
    assert "Rolled back:<br>• api<br>• web" in postmortem


def test_mentions_of_anyone_in_the_workspace_become_names(slack, bot, channel):
    erin = slack.ws.add_user("erin", "Erin Schmidt")  # never used the bot
    message = slack.ws.post(
        channel, slack.user("carol"), f"<@{erin.id}> please restart the pods in <#{channel.id}>"
    )
    entry = keep(slack, bot, channel, message)
    assert entry.text == f"@Erin Schmidt please restart the pods in #{channel.name}"
    assert erin.id not in json.dumps(draft(bot, slack, channel))


def test_a_message_with_nothing_readable_gets_a_clear_answer(slack, bot, channel):
    message = slack.ws.post(channel, slack.user("carol"), "", [{"type": "divider"}])
    slack.shortcut("alice", "add_to_timeline", channel.name, message)
    wait_for(lambda: any("nothing I can read" in e.text for e in slack.ephemerals("alice")))
    assert kept(bot, slack, channel) == []


def test_the_bots_own_echo_is_already_in_the_timeline(slack, bot, channel):
    slack.command("bob", "/timeline", "detected: queue depth alarm", channel.name)
    bot.settle()
    echo = channel.messages[-1]
    slack.shortcut("alice", "add_to_timeline", channel.name, echo)
    wait_for(lambda: any("already in the timeline" in e.text for e in slack.ephemerals("alice")))
    assert kept(bot, slack, channel) == []


def test_a_deleted_kept_message_comes_back_under_its_number(slack, bot, channel):
    message = slack.say("carol", channel.name, "restarted the consumer")
    entry = keep(slack, bot, channel, message)
    reply = slack.command("alice", "/timeline", f"delete {entry.number}", channel.name)
    assert "Deleted" in reply.text, "the one who kept it may take it out"
    assert kept(bot, slack, channel) == []
    again = keep(slack, bot, channel, message)
    assert (again.id, again.number) == (entry.id, entry.number)
    bot.settle()
    blocks = json.dumps([m.blocks for m in channel.messages])
    assert (
        "restarted the consumer" in blocks and blocks.count(f"timeline_entry_{entry.number}") == 1
    )


def test_the_bots_other_messages_are_not_kept_either(slack, bot, channel):
    kickoff = channel.messages[0]
    slack.shortcut("alice", "add_to_timeline", channel.name, kickoff)
    wait_for(lambda: any("bot's own messages" in e.text for e in slack.ephemerals("alice")))
    assert kept(bot, slack, channel) == []


def test_a_long_alert_is_kept_cut_with_a_note(slack, bot, channel):
    lines = [{"title": f"host-{n}", "value": "disk 97%", "short": True} for n in range(400)]
    alert = slack.app_posts(
        "Datadog", channel.name, "", attachments=[{"title": "Disk full", "fields": lines}]
    )
    entry = keep(slack, bot, channel, alert)
    assert len(entry.text) <= 3000 and entry.text.startswith("Disk full")
    assert "… (cut here:" in entry.text and "more characters in the message)" in entry.text


def test_a_mention_of_nobody_is_asked_of_slack_once(slack, bot, channel):
    ghost = "U0GHOST"
    message = slack.ws.post(
        channel, slack.user("carol"), " ".join(f"<@{ghost}>" for _ in range(50))
    )
    keep(slack, bot, channel, message)
    asked = [a for m, a in slack.api.calls if m == "users.info" and a.get("user") == ghost]
    assert len(asked) == 1
