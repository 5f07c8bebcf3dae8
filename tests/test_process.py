"""The real thing: `python -m bot run` as a process, against the emulator, stopped by SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass

from bot.sandbox import BOT_TOKEN, SIGNING_SECRET
from tests.conftest import recorded, wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError):
        return None


@dataclass
class BotProcess:
    port: int
    process: subprocess.Popen
    output: str = ""


@contextmanager
def bot_process(tmp_path, slack, **settings):
    """Run `python -m bot run` with these settings; on exit SIGTERM it and collect its output."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DATABASE_PATH": str(tmp_path / "deep" / "incidents.db"),
        "REMINDER_HOURS": "always",  # the wall clock's hour must not hold reminders back
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = BotProcess(port, process)
    try:
        wait_for(lambda: healthz(port) or process.poll() is not None, timeout=30, what="/healthz")
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        running.output, _ = process.communicate(timeout=20)


def test_run_serves_commands_over_http_and_stops_cleanly_on_sigterm(tmp_path, slack):
    with bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
        assert healthz(bot.port) == {
            "ok": True,
            "ready": True,
            "database": "ok",
            "scheduler": {"running": True, "sends_reminders": True},
        }
        slack.app_url = f"http://127.0.0.1:{bot.port}/slack/events"
        reply = slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
        assert reply.status == 200 and "hotfix-001" in reply.text
        channel = slack.posted_channel("inc-001")
        reply = slack.command("bob", "/timeline", "detected: alert fired", channel.name)
        assert recorded(reply)
        wait_for(lambda: any("alert fired" in m.text for m in channel.messages), what="the echo")
        wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")))
        slack.wait_idle()  # the bot's last step is done and Slack's events are delivered
    assert bot.process.returncode == 0, bot.output
    assert (tmp_path / "deep" / "incidents.db").exists()
    assert "ready (HTTP)" in bot.output and "Traceback" not in bot.output
    assert BOT_TOKEN not in bot.output and SIGNING_SECRET not in bot.output
    lines = [json.loads(line) for line in bot.output.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(bot.output.splitlines()), "one JSON object per line"
    request = next(entry for entry in lines if entry["msg"].startswith("slack /incident"))
    opened = next(entry for entry in lines if entry["msg"].startswith("incident opened"))
    assert opened["request_id"] == request["request_id"] and opened["incident"] == "hotfix-001"
    assert {entry["level"] for entry in lines} <= {"info", "warning"}
