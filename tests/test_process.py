"""The real thing: `python -m bot run` as a process, against the emulator, stopped by SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bot.emulator import BOT_TOKEN, SIGNING_SECRET
from tests.conftest import wait_for


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


def test_run_serves_commands_over_http_and_stops_cleanly_on_sigterm(tmp_path, slack):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DATABASE_PATH": str(tmp_path / "deep" / "incidents.db"),
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
        assert wait_for(lambda: healthz(port), timeout=30, what="/healthz") == {
            "ok": True,
            "ready": True,
            "database": "ok",
        }
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        reply = slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
        assert reply.status == 200 and "hotfix-001" in reply.text
        channel = wait_for(
            lambda: next(
                (
                    c
                    for c in slack.ws.channels.values()
                    if c.name.startswith("inc-001") and c.messages
                ),
                None,
            ),
            what="the incident channel",
        )
        reply = slack.command("bob", "/timeline", "detected: alert fired", channel.name)
        assert reply.json["response_type"] == "in_channel"
        slack.wait_idle()
        time.sleep(0.2)  # let the bot finish what it does after its acks
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert (tmp_path / "deep" / "incidents.db").exists()
    assert "Traceback" not in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    assert "ready (HTTP)" in output
