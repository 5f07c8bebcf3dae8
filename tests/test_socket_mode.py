"""Socket Mode end to end: the bot opens a WebSocket to the emulator and answers envelopes;
a connection the network drops, or Slack asks to refresh, is replaced at once."""

import os
import time
from pathlib import Path

import pytest

from bot.manifest import manifest_scopes
from bot.publisher import Publisher
from bot.sandbox import APP_TOKEN, BOT_TOKEN, Emulator
from bot.slack.app import create_app, repo_for
from bot.slack.socket_mode import SocketMode
from tests.conftest import make_config, recorded, wait_for
from tests.test_process import bot_process, free_port, healthz


@pytest.fixture
def socket_bot(tmp_path, slack, store):
    config = make_config(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    assert config.socket_mode
    publisher = Publisher(repo_for(config)).start()
    handler = SocketMode(create_app(config, store, publisher), APP_TOKEN, config.api_url)
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

    slack.join("bob", channel.name)  # only the channel's members type there
    slack.wait_idle()
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


def test_the_emoji_and_the_pin_over_the_socket(slack, socket_bot):
    reply = slack.command("alice", "/incident", "start queue backlog sev2")
    assert reply.status == 200
    channel = slack.posted_channel("inc-001")
    reacted = slack.say("bob", channel.name, "consumers scaled to 40")
    pinned = slack.say("carol", channel.name, "backlog draining")
    slack.react("alice", channel.name, reacted.ts, "pushpin")
    slack.pin("bob", channel.name, pinned.ts)
    incident = wait_for(lambda: socket_bot.incident_by_channel(slack.ws.team_id, channel.id))
    wait_for(
        lambda: (
            {
                e.text
                for e in socket_bot.entries(slack.ws.team_id, incident.id)
                if e.source == "message"
            }
            == {"consumers scaled to 40", "backlog draining"}
        ),
        what="both kept",
    )
    for message in (reacted, pinned):
        wait_for(lambda m=message: slack.ws.bot.id in m.reactions.get("memo", []))
    assert slack.app_url is None


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


def cpu_seconds(pid):
    """User and system CPU time the process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
@pytest.mark.parametrize("how, within", [("reset", 5), ("close", 5), ("silent", 8)])
def test_a_connection_the_network_drops_is_replaced_within_seconds_at_rest(
    tmp_path, slack, how, within
):
    with bot_process(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN) as bot:
        first = wait_for(lambda: slack.socket_connected and slack.socket, what="a connection")
        used, dropped = cpu_seconds(bot.process.pid), time.monotonic()
        slack.drop_socket(how)  # no close frame: a reset, a FIN, or nothing at all
        time.sleep(5)
        assert cpu_seconds(bot.process.pid) - used < 0.5, "idle means idle, connected or not"
        again = wait_for(
            lambda: slack.socket is not first and slack.socket_connected and slack.socket,
            timeout=max(0.1, dropped + within - time.monotonic()),
            what=f"a new Socket Mode connection within {within} s",
        )
        assert again.opened_at - dropped < within  # silence: the bot's pings tell it (2 s)
        reply = slack.command("alice", "/incident", "list")  # over the new connection
        assert reply.status == 200 and reply.seconds < 1
    assert bot.process.returncode == 0, bot.output
    assert "Reconnecting" in bot.output and "Traceback" not in bot.output


def test_after_slack_asks_for_a_refresh_the_new_connection_acks_at_once(tmp_path, slack):
    with bot_process(tmp_path, slack, SLACK_APP_TOKEN=APP_TOKEN) as bot:
        first = wait_for(lambda: slack.socket_connected and slack.socket, what="a connection")
        assert slack.command("alice", "/incident", "list").status == 200
        slack.refresh_socket()  # Slack's `disconnect` (refresh_requested)
        wait_for(lambda: slack.socket is not first and slack.socket_connected, what="the new one")
        reply = slack.command("alice", "/incident", "list")
        assert reply.status == 200 and reply.seconds < 1  # Slack gives 3 s; it takes ~10 ms
        wait_for(lambda: not first.open, what="the bot to close the old connection")
    assert bot.process.returncode == 0, bot.output
    assert "Traceback" not in bot.output


def test_slack_away_for_a_while_the_bot_connects_again_when_it_is_back(tmp_path):
    port = free_port()
    before = Emulator(port=port, scopes=manifest_scopes()).start()
    back: list[Emulator] = []
    try:
        with bot_process(tmp_path, before, SLACK_APP_TOKEN=APP_TOKEN) as bot:
            wait_for(lambda: before.socket_connected, what="a connection")
            before.drop_socket("reset")
            before.stop()  # and the Web API with it: apps.connections.open fails too
            time.sleep(4)
            back.append(after := Emulator(port=port, scopes=manifest_scopes()).start())
            wait_for(lambda: after.socket_connected, timeout=5, what="a connection once back")
            assert after.command("alice", "/incident", "list").status == 200
    finally:
        for emulator in back:
            emulator.stop()
    assert bot.process.returncode == 0, bot.output
    assert "Reconnecting" in bot.output and "Traceback" not in bot.output
