"""Helpers for the review mode tests: a bare post-mortem repository with a first commit, a
colleague's clone, an incident resolved with its first draft, and the watcher's minute."""

import subprocess
from datetime import UTC, datetime, timedelta

from tests.conftest import wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import quiet

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
BRANCH = "postmortem/hotfix-001"
PM = "hotfix-001/postmortem.md"


def git(*args, cwd=None):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def as_person(cwd, *args):
    return git("-c", "user.name=Dana Reviewer", "-c", "user.email=dana@example.com", *args, cwd=cwd)


def make_remote(tmp_path):
    path = tmp_path / "postmortems.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    seed = tmp_path / "seed"
    git("clone", "-q", str(path), str(seed))
    (seed / "README.md").write_text("Post-mortems\n")
    git("add", ".", cwd=seed)
    as_person(seed, "commit", "-qm", "readme")
    git("push", "-q", "origin", "main", cwd=seed)
    return path


def make_colleague(tmp_path, remote):
    path = tmp_path / "dana"
    git("clone", "-q", str(remote), str(path))
    return path


def watch(bot):
    """The watcher's minute, now."""
    bot.publisher.retry_now()
    quiet(bot)


def on_remote(remote, ref, path=PM):
    done = subprocess.run(
        ["git", "--git-dir", str(remote), "show", f"{ref}:{path}"], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else None


def said(channel, start):
    return [m for m in channel.messages if m.text.startswith(start)]


def resolve(slack, bot, clock):
    """hotfix-001 opened and resolved; its first draft posted, git done with it."""
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/timeline", "15:35 detected: PagerDuty alert on 5xx", channel.name)
    slack.command("alice", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the first draft")
    quiet(bot)
    return channel


def put_up_for_review(slack, bot, channel, who="alice"):
    reply = slack.command(who, "/incident", "publish", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "Putting the hotfix-001 post-mortem up for review" in reply.text
    wait_for(lambda: said(channel, ":mag:"), what="the review announcement")
    quiet(bot)
    return said(channel, ":mag:")[-1]
