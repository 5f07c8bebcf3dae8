"""Socket Mode end to end: the bot opens a WebSocket to the emulator and answers envelopes."""

import os
import signal
import subprocess
import sys

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.emulator import APP_TOKEN, BOT_TOKEN
from bot.slack.app import create_app
from tests.conftest import make_config, wait_for
from tests.test_process import free_port, healthz


@pytest.fixture
def socket_bot(tmp_path, slack, store):
    config = make_config(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    assert config.socket_mode
    handler = SocketModeHandler(create_app(config, store), APP_TOKEN)
    handler.connect()
    wait_for(lambda: slack.socket_connected, what="the Socket Mode connection")
    yield store
    slack.wait_idle()
    handler.close()


def test_commands_shortcuts_and_events_over_the_socket(slack, socket_bot):
    assert slack.app_url is None  # nothing is sent over HTTP
    reply = slack.command("alice", "/incident", "start --private vault sealed sev1")
    assert reply.status == 200 and "hotfix-001" in reply.text
    channel = wait_for(
        lambda: next(
            (c for c in slack.ws.channels.values() if c.name.startswith("inc-001") and c.messages),
            None,
        ),
        what="the incident channel",
    )
    assert channel.is_private

    reply = slack.command("bob", "/timeline", "detected: seal alarms", channel.name)
    assert "First detection" in str(reply.json["blocks"])  # bob is not a member: no channel echo

    message = slack.say("alice", channel.name, "unsealed with 3 of 5 keys")
    assert slack.shortcut("alice", "add_to_timeline", channel.name, message).status == 200
    wait_for(
        lambda: any(
            e.source == "message"
            for e in socket_bot.entries(
                slack.ws.team_id, socket_bot.incident_by_channel(slack.ws.team_id, channel.id).id
            )
        )
    )

    assert "vault sealed" not in slack.command("carol", "/incident", "list").text + str(
        slack.command("carol", "/incident", "list").json
    )
    slack.join("carol", channel.name)  # member_joined_channel travels as an events_api envelope
    slack.wait_idle()
    assert "vault sealed" in str(slack.command("carol", "/incident", "list").json)


def test_run_in_socket_mode_as_a_process(tmp_path, slack):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DATABASE_PATH": str(tmp_path / "incidents.db"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: healthz(port), timeout=30, what="/healthz")
        wait_for(lambda: slack.socket_connected, what="the Socket Mode connection")
        reply = slack.command("alice", "/incident", "start db down")
        assert reply.status == 200 and "hotfix-001" in reply.text
        wait_for(lambda: any(c.name == "inc-001-db-down" for c in slack.ws.channels.values()))
        slack.wait_idle()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "ready (Socket Mode)" in output and "Traceback" not in output
    assert APP_TOKEN not in output and BOT_TOKEN not in output
