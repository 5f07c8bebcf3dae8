"""`python -m bot run` with a setting that cannot work: one line naming it and what to do, exit 2;
Slack out of reach for a while is waited for; settings may come from a .env file."""

import json
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

from bot.manifest import manifest_scopes
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator
from tests.conftest import wait_for
from tests.test_incident_commands import open_incident
from tests.test_process import bot_process, free_port, healthz


def run_until_exit(tmp_path, api_url, timeout=60, **settings):
    """`python -m bot run` that is expected to stop by itself: (exit code, its stderr lines)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(free_port()),
        "DATABASE_PATH": str(tmp_path / "data" / "incidents.db"),
        **settings,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""
    return done.returncode, done.stderr.strip().splitlines()


def assert_one_line(returncode, lines, setting, *words):
    assert returncode == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"postmortem-bot: {setting}: "), lines[0]
    for word in words:
        assert word in lines[0]


def test_a_bot_token_slack_refuses(tmp_path, slack):
    returncode, lines = run_until_exit(tmp_path, slack.api_url, SLACK_BOT_TOKEN="xoxb-revoked-1")
    assert_one_line(returncode, lines, "SLACK_BOT_TOKEN", "invalid_auth", "OAuth & Permissions")
    assert "xoxb-revoked-1" not in lines[0]


def test_an_app_token_slack_refuses(tmp_path, slack):
    returncode, lines = run_until_exit(tmp_path, slack.api_url, SLACK_APP_TOKEN="xapp-revoked-1")
    assert_one_line(returncode, lines, "SLACK_APP_TOKEN", "invalid_auth", "connections:write")
    assert not slack.socket_connected


def test_a_log_level_that_is_no_level(tmp_path, slack):
    returncode, lines = run_until_exit(tmp_path, slack.api_url, LOG_LEVEL="chatty")
    assert_one_line(returncode, lines, "LOG_LEVEL", "'chatty'", "DEBUG, INFO, WARNING or ERROR")


def test_a_database_folder_that_cannot_be_created(tmp_path, slack):
    (tmp_path / "volume").write_text("a file where the folder should be")
    database = tmp_path / "volume" / "data" / "incidents.db"
    returncode, lines = run_until_exit(tmp_path, slack.api_url, DATABASE_PATH=str(database))
    assert_one_line(returncode, lines, "DATABASE_PATH", str(database), "Not a directory")


def test_slack_out_of_reach_is_tried_again_then_one_line(tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    returncode, lines = run_until_exit(tmp_path, nowhere)
    assert returncode == 2
    *retries, last = lines
    waits = [json.loads(line)["msg"] for line in retries]  # the log says so, one line a try
    assert waits == [
        f"Slack is not reachable at {nowhere} (Connection refused); trying again in {s} s"
        for s in (1, 2, 4, 8)
    ]
    assert last.startswith("postmortem-bot: SLACK_API_URL: Slack did not answer at ")
    assert "(Connection refused) in 5 tries: check SLACK_API_URL" in last


def test_slack_back_within_the_retries_and_the_bot_starts(tmp_path):
    port = free_port()
    late: list[Emulator] = []

    def slack_comes_back():
        time.sleep(2)  # the bot has found nobody there once, and waits
        late.append(Emulator(port=port, scopes=manifest_scopes()).start())

    comes_back = threading.Thread(target=slack_comes_back)
    comes_back.start()
    try:
        where = SimpleNamespace(api_url=f"http://127.0.0.1:{port}/api/")
        with bot_process(tmp_path, where, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
            assert healthz(bot.port)["ready"]
    finally:
        comes_back.join()
        late[0].stop()
    assert bot.process.returncode == 0, bot.output
    assert "Slack is not reachable" in bot.output and "ready (HTTP)" in bot.output
    assert "Traceback" not in bot.output


def test_settings_from_a_dotenv_file_the_environment_first(tmp_path, slack):
    (tmp_path / ".env").write_text(
        "# as the README shows it: no quotes, spaces and <> in the value\n"
        "POSTMORTEM_GIT_AUTHOR=Incident Bot <incidents@example.com>\n"
        "SLACK_SIGNING_SECRET=an-old-secret  # the environment's wins\n"
    )
    with bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
        slack.app_url = f"http://127.0.0.1:{bot.port}/slack/events"
        channel = open_incident(slack)  # signed with the environment's secret: accepted
        reply = slack.command("alice", "/incident", "draft", channel.name)
        assert reply.status == 200
        wait_for(lambda: [m for m in channel.messages if m.files], what="the draft")
        slack.wait_idle()
    assert bot.process.returncode == 0, bot.output
    repo = tmp_path / "deep" / "postmortems"
    authors = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%an <%ae>"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert authors[0] == "Incident Bot <incidents@example.com>"
