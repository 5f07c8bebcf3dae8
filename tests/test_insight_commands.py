"""`/incident insights` through the running bot and the strict Slack emulator: the ack first,
then the chart (a real PNG with its alt text) and the figures, to the person's DM or, with
`public`, to the channel; what cannot be read is told to the person alone."""

from tests.conftest import wait_for
from tests.test_incident_commands import open_incident


def dm(slack, who):
    return slack.ws.im(slack.user(who))


def uploads(channel):
    return [m for m in channel.messages if m.files]


def test_insights_come_to_the_persons_dm_as_a_chart_with_alt_text(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/timeline", "-5m detected: PagerDuty alert on 5xx", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    reply = slack.command("bob", "/incident", "insights 30d sev2", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "Working out the insights since" in reply.text and "in your DM with me" in reply.text
    posted = wait_for(lambda: uploads(dm(slack, "bob")), timeout=30, what="the chart")
    (file,) = posted[0].files
    stored = slack.api.files[file["id"]]
    assert stored["content"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "1 incident" in stored["alt_txt"] or "One incident" in stored["alt_txt"]
    assert posted[0].text  # the figures, in words
    assert not uploads(channel) or all(
        "insights" not in f["name"] for m in uploads(channel) for f in m.files
    )
    assert slack.problems == []


def test_public_posts_in_the_channel(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "insights quarter public", channel.name)
    posted = wait_for(
        lambda: [m for m in uploads(channel) if m.files[0]["name"].startswith("insights-")],
        timeout=30,
        what="the chart in the channel",
    )
    assert posted and slack.problems == []


def test_what_cannot_be_read_is_told_with_what_to_type(slack, bot):
    channel = open_incident(slack)
    reply = slack.command("alice", "/incident", "insights last-tuesday", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "`last-tuesday` is not a period" in reply.text and "`30d`" in reply.text
    reply = slack.command("alice", "/incident", "insights 30d 90d", channel.name)
    assert "is not a period, a severity or `public`" in reply.text
    assert not uploads(dm(slack, "alice"))
