"""Attack on the insights (issue 16): periods nobody means, asked in Slack and of the CLI, and
the weekly digest when the database is busy just as Slack takes it."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.store import Store
from tests.test_digest import started
from tests.test_insights_cli import ROOT

# --- periods -----------------------------------------------------------------------------------


def test_a_date_period_centuries_long_is_refused_at_once(slack, bot):
    """`/incident insights 0001-01-01` drew 24,311 monthly bars (three minutes of a listener's
    CPU, the whole bot slowed): a date is held to the ten years `30d`-style periods are."""
    for text in ("insights 1900-01-01 public", "insights 0001-01-01"):
        reply = slack.command("alice", "/incident", text)
        assert reply.json["response_type"] == "ephemeral"
        assert "is not a period people ask for" in reply.text, reply.text
        assert "Working out" not in reply.text
    assert [m for m in slack.general.messages if m.files] == []


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "insights", *args],
        env={**env, "DATABASE_PATH": str(tmp_path / "incidents.db")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_says_what_to_change_for_an_end_at_the_edge_of_the_calendar(tmp_path):
    """An `--until` near year 1 or 9999 ended in an OverflowError's traceback."""
    store = Store(tmp_path / "incidents.db")
    started(store, "x", datetime(2026, 11, 2, tzinfo=UTC))
    store.close()
    for until in ("0001-01-05", "9999-12-31T23:59:59"):
        done = cli(tmp_path, "--since", "30d", "--until", until)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("postmortem-bot: "), done.stderr
