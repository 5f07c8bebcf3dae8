"""manifest.yml is a valid Slack app manifest and stays in step with the registered listeners."""

import json
from pathlib import Path

import pytest
import yaml

from bot.slack.app import COMMANDS, EVENTS, SHORTCUTS
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SHARED / "slack" / "manifest-schema" / "schemas" / "manifest.schema.1.0.0.json"


def manifest():
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_against_slacks_schema():
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at hand ({SCHEMA}); validated where it is")
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(manifest()), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_schema_check_would_catch_a_broken_manifest():
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not at hand ({SCHEMA})")
    jsonschema = pytest.importorskip("jsonschema")
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "incident"  # no leading slash
    assert list(jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(broken))


def test_manifest_declares_exactly_the_route_table():
    m = manifest()
    assert [c["command"] for c in m["features"]["slash_commands"]] == list(COMMANDS)
    assert all(c["should_escape"] for c in m["features"]["slash_commands"])
    assert [s["callback_id"] for s in m["features"]["shortcuts"]] == list(SHORTCUTS)
    assert m["settings"]["event_subscriptions"]["bot_events"] == list(EVENTS)


def test_every_declared_listener_is_handled_by_the_running_app(slack, bot):
    """Bolt answers 404 to a request no listener matches: nothing declared may get one."""
    m = manifest()
    for command in m["features"]["slash_commands"]:
        assert slack.command("alice", command["command"], "help").status == 200
    message = slack.say("bob", "general", "something happened")
    for shortcut in m["features"]["shortcuts"]:
        assert slack.shortcut("alice", shortcut["callback_id"], "general", message).status == 200
    for event in m["settings"]["event_subscriptions"]["bot_events"]:
        body = {
            "type": "event_callback",
            "team_id": slack.ws.team_id,
            "api_app_id": "A0",
            "event_id": f"Ev{event}",
            "event_time": 1,
            "event": {
                "type": event,
                "user": slack.user("bob"),
                "channel": "C0NONE",
                "team": slack.ws.team_id,
                "event_ts": "1.0",
            },
        }
        assert slack.send(json.dumps(body).encode(), "application/json").status == 200, event
    unknown = slack.command("alice", "/undeclared", "x")
    assert unknown.status == 404  # the check above can fail
    slack.problems.clear()


def test_the_emulator_gives_the_bot_exactly_the_manifests_scopes(slack):
    assert slack.api.scopes == set(manifest()["oauth_config"]["scopes"]["bot"])


def test_every_request_url_points_at_the_events_path():
    m = manifest()
    urls = [c["url"] for c in m["features"]["slash_commands"]]
    urls += [
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
    ]
    assert all(u.endswith("/slack/events") for u in urls)
    assert m["settings"]["socket_mode_enabled"] is False
