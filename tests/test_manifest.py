"""manifest.yml is a valid Slack app manifest and stays in step with the registered listeners."""

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from bot.slack.app import COMMANDS, EVENTS, MESSAGE_EVENTS, SHORTCUTS
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SHARED / "slack" / "manifest-schema" / "schemas" / "manifest.schema.1.0.0.json"
REFERENCE = SHARED / "slack" / "slack-api-ref"


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
    assert m["settings"]["event_subscriptions"]["bot_events"] == subscriptions(EVENTS)


def subscriptions(events):
    """The manifest's bot_events for the listeners' events: `message` is subscribed as
    message.channels and message.groups (incident channels are public or private)."""
    return [n for e in events for n in (MESSAGE_EVENTS if e == "message" else (e,))]


def test_a_listener_without_its_subscription_would_fail_the_check():
    assert (
        subscriptions((*EVENTS, "reaction_added"))
        != manifest()["settings"]["event_subscriptions"]["bot_events"]
    )
    assert subscriptions(EVENTS[:-1]) != manifest()["settings"]["event_subscriptions"]["bot_events"]


def web_api_methods():
    """The Web API methods the bot calls (`client.chat_postMessage(` -> chat.postMessage),
    found in bot/ (the emulator aside) through slack_sdk's own method table."""
    names = {}
    for name, method in inspect.getmembers(WebClient, inspect.isfunction):
        found = re.search(r'api_call\(\s*"([a-zA-Z.]+)"', inspect.getsource(method))
        if found:
            names[name] = found[1]
    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in names:
                called.add(names[node.attr])
    return called


def scopes_for(kind, name):
    """The bot scopes Slack's reference names for a method or an event (one of them is
    enough: conversations.history takes channels:history or groups:history); None if none."""
    path = REFERENCE / ("docs.slack.dev/methods" if kind == "method" else "events") / f"{name}.json"
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    scopes = doc.get("scope") or doc.get("scopes")
    if isinstance(scopes, dict):
        scopes = scopes.get("bot")
    return set(scopes or []) or None


def missing_scopes(granted):
    missing = []
    for method in sorted(web_api_methods()):
        wanted = scopes_for("method", method)
        if wanted and method != "apps.connections.open" and not wanted & granted:
            missing.append(f"{method} needs one of {sorted(wanted)}")
    for event in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        wanted = scopes_for("event", event)
        if wanted and not wanted & granted:
            missing.append(f"event {event} needs one of {sorted(wanted)}")
    return missing


def test_every_method_called_and_event_subscribed_has_its_scope():
    if not REFERENCE.exists():
        pytest.skip(f"Slack's reference is not at hand ({REFERENCE})")
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {"reactions.add", "reactions.remove", "conversations.replies"} <= web_api_methods()
    assert missing_scopes(granted) == []
    assert "reactions.add needs one of ['reactions:write']" in missing_scopes(
        granted - {"reactions:write"}
    )  # the check above can fail
    assert any("reaction_added" in m for m in missing_scopes(granted - {"reactions:read"}))


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
                "type": event.split(".")[0],  # message.channels arrives as type `message`
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
