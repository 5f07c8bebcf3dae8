"""Attack on the insights (issue 16): periods nobody means, asked in Slack and of the CLI, and
the weekly digest when the database is busy just as Slack takes it."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import Severity
from bot.sandbox.harness import serve
from bot.slack.app import replan_reminders
from bot.store import Store
from tests.conftest import Clock, RunningClock, make_config, wait_for
from tests.test_busy_database import held
from tests.test_digest import MONDAY, charts_in, digest_room, digests_in, started
from tests.test_incident_commands import open_incident
from tests.test_insights_cli import ROOT
from tests.test_reminders_restart import up

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


# --- the weekly digest -------------------------------------------------------------------------


def sending(database: Path) -> bool:
    """The digest's row is claimed (its message goes next)."""
    with closing(sqlite3.connect(database)) as conn:
        row = conn.execute("SELECT status FROM reminders WHERE kind = 'digest'").fetchone()
    return bool(row and row[0] == "sending")


def message_recorded(database: Path) -> bool:
    """The digest's message is in Slack and recorded (its chart goes next)."""
    with closing(sqlite3.connect(database)) as conn:
        row = conn.execute("SELECT 1 FROM reminder_deliveries WHERE user_id = 'digest'").fetchone()
    return row is not None


@pytest.mark.parametrize(
    ("held_after", "slow"),
    [(sending, "chat.postMessage"), (message_recorded, "files.completeUploadExternal")],
    ids=["message", "chart"],
)
def test_a_digest_slack_took_while_the_database_was_held_is_not_posted_again(
    tmp_path, slack, caplog, held_after, slow
):
    """A backup holds the database as the digest goes: Slack takes the message (or the
    chart), its record waits out the lock and fails, the row is tried again. The channel got
    the digest (or the chart) twice."""
    room = digest_room(slack)
    config = make_config(tmp_path, slack, DIGEST_CHANNEL=room.id)
    store = Store(config.database_path, after_ack_wait_s=1.0)  # background writes wait 1 s
    incident = store.create_incident(
        team_id=slack.ws.team_id,
        title="Checkout down",
        severity=Severity.SEV2,
        private=False,
        user_id=slack.user("alice"),
        started_at=MONDAY - timedelta(days=2),
    )
    store.attach_channel(incident, "C0FAKE", "inc-001", MONDAY - timedelta(days=2))
    slack.api.delays[slow] = 0.5  # Slack takes its time: the lock is held before the record

    def hold_when_the_digest_goes() -> None:
        wait_for(lambda: held_after(config.database_path), timeout=15, what="the moment")
        with held(config.database_path):  # until the record has given up
            wait_for(
                lambda: "failed; it will be tried again" in caplog.text,
                timeout=15,
                what="the digest's record refused",
            )

    clock = RunningClock(MONDAY - timedelta(seconds=2))
    assert replan_reminders(config, store, clock) == 1  # at start, as `python -m bot` does
    holder = threading.Thread(target=hold_when_the_digest_goes)
    holder.start()
    with up(slack, config, store, clock):
        holder.join(timeout=20)
        wait_for(lambda: charts_in(room), timeout=20, what="the digest's chart")
        time.sleep(1.5)  # a second digest would come now
    slack.api.delays.clear()
    assert len(digests_in(room)) == 1, [m.text for m in digests_in(room)]
    assert len(charts_in(room)) == 1
    store.close()


def test_quarter_at_the_first_instant_of_one_is_the_quarter_just_ended(slack, config, store):
    """`quarter` typed at 00:00:00 UTC on January 1st (or `--until 2026-04-01`, the end of a
    quarter as people write it) was an empty period: "The period ends before it starts"."""
    started(store, "Checkout down", datetime(2026, 2, 2, tzinfo=UTC))  # of another workspace
    with serve(slack, config, store, Clock(datetime(2027, 1, 1, tzinfo=UTC))):
        reply = slack.command("alice", "/incident", "insights quarter")
        assert "since 2026-10-01" in reply.text, reply.text
        wait_for(lambda: [m for m in slack.ws.im(slack.user("alice")).messages if m.files])
    assert "before it starts" not in str(slack.answers)
    done = cli(config.database_path.parent, "--since", "quarter", "--until", "2026-04-01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Incidents that began 2026-01-01 00:00 to 2026-04-01 00:00")


def test_public_insights_in_a_private_incidents_channel_are_for_its_members(slack, bot):
    """A request naming a private incident's channel proves nothing: mallory, not in it, is
    refused and nothing is posted there; alice, in it, gets the chart there."""
    channel = open_incident(slack, text="start --private vault sealed sev1")
    slack.ws.add_user("mallory")
    refused = slack.command("mallory", "/incident", "insights public", channel.name)
    bot.settle()
    assert "an incident you cannot see" in refused.text
    assert not [m for m in channel.messages if m.files]
    slack.command("alice", "/incident", "insights public", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], 15, "the chart, for alice")
