"""Forged, replayed and cross-workspace requests are refused or scoped; /healthz answers."""

import json
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from bot.sandbox import sign
from tests.test_incident_commands import open_incident


def command_body(team_id, channel_id, user_id, text, command="/incident"):
    return urlencode(
        {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "user_name": "eve",
            "command": command,
            "text": text,
            "response_url": "http://127.0.0.1:9/nowhere",
            "trigger_id": "1.2.3",
            "api_app_id": "A0POSTMORTEM",
        }
    ).encode()


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("forgery", ["wrong secret", "bad signature", "stale", "future", "none"])
def test_forged_or_replayed_requests_get_401_and_change_nothing(slack, bot, forgery):
    body = command_body(slack.ws.team_id, slack.general.id, slack.user("alice"), "start forged")
    now = int(time.time())
    if forgery == "wrong secret":
        reply = slack.send(body, FORM, signature=sign("not-the-secret", str(now), body))
    elif forgery == "bad signature":
        reply = slack.send(body, FORM, signature="v0=" + "0" * 64)
    elif forgery in ("stale", "future"):
        ts = str(now - 301 if forgery == "stale" else now + 301)
        reply = slack.send(body, FORM, timestamp=ts, signature=sign(slack.signing_secret, ts, body))
    else:
        reply = slack.send(body, FORM, signature="")
    assert reply.status == 401
    assert bot.store.open_incidents(slack.ws.team_id) == []
    assert not any(c.name.startswith("inc-") for c in slack.ws.channels.values())


def test_the_same_body_correctly_signed_gets_in(slack, bot):
    """The control for the refusals above: they fail for the signature, not the body."""
    body = command_body(slack.ws.team_id, slack.general.id, slack.user("alice"), "help")
    assert slack.send(body, FORM).status == 200


def test_another_workspace_never_sees_or_changes_this_ones_incidents(slack, bot):
    channel = open_incident(slack)
    other = "T0OTHER"
    listing = slack.send(command_body(other, "C0THEIRS", "U0EVE", "list"), FORM)
    assert "No open incidents" in listing.body
    for text, command in (
        ("status", "/incident"),
        ("resolve", "/incident"),
        ("pwned", "/timeline"),
        ("delete 1", "/timeline"),
    ):
        reply = slack.send(command_body(other, channel.id, "U0EVE", text, command), FORM)
        assert reply.status == 200
        assert "only in an incident channel" in json.loads(reply.body)["text"], text
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert incident.status.value == "open"
    assert len(bot.store.entries(slack.ws.team_id, incident.id)) == 1


def test_healthz_reports_ready_and_the_database(bot):
    with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "ready": True, "database": "ok"}
