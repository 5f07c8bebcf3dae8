"""Socket Mode end to end: the bot opens a WebSocket to the emulator and answers envelopes."""

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.publish import Publisher
from bot.sandbox import APP_TOKEN, BOT_TOKEN
from bot.slack.app import create_app, repo_for
from tests.conftest import make_config, recorded, wait_for
from tests.test_process import bot_process, healthz


@pytest.fixture
def socket_bot(tmp_path, slack, store):
    config = make_config(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    assert config.socket_mode
    publisher = Publisher(repo_for(config)).start()
    handler = SocketModeHandler(create_app(config, store, publisher), APP_TOKEN)
    handler.connect()
    wait_for(lambda: slack.socket_connected, what="the Socket Mode connection")
    yield store
    slack.wait_idle()
    publisher.stop()
    handler.close()


def test_commands_shortcuts_and_events_over_the_socket(slack, socket_bot):
    assert slack.app_url is None  # nothing is sent over HTTP
    reply = slack.command("alice", "/incident", "start --private vault sealed sev1")
    assert reply.status == 200 and "hotfix-001" in reply.text
    channel = slack.posted_channel("inc-001")
    assert channel.is_private

    reply = slack.command("bob", "/timeline", "detected: seal alarms", channel.name)
    assert recorded(reply)
    wait_for(lambda: "First detection" in str(channel.messages[-1].blocks), what="the echo")

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
    with bot_process(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN) as bot:
        assert healthz(bot.port)["ready"]
        wait_for(lambda: slack.socket_connected, what="the Socket Mode connection")
        reply = slack.command("alice", "/incident", "start db down")
        assert reply.status == 200 and "hotfix-001" in reply.text
        wait_for(lambda: any(c.name == "inc-001-db-down" for c in slack.ws.channels.values()))
        wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")))
        slack.wait_idle()  # the bot's last step is done and Slack's events are delivered
    assert bot.process.returncode == 0, bot.output
    assert "ready (Socket Mode)" in bot.output and "Traceback" not in bot.output
    assert APP_TOKEN not in bot.output and BOT_TOKEN not in bot.output
