"""Helpers for the code host tests: a bare repository with pushed branches, and a client of
either host talking to the local fake host (bot/sandbox/githost.py) over real HTTP."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.hosts.github import GitHubHost
from bot.hosts.gitlab import GitLabHost
from bot.hosts.model import Host
from bot.hosts.urls import HostRepo
from bot.sandbox.githost import GitHost

HEAD = "postmortem/hotfix-001"
OTHER = "postmortem/hotfix-002"


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def bare_repo(tmp_path: Path, branches: tuple[str, ...] = (HEAD, OTHER)) -> Path:
    """A bare repository with `main` and each of `branches` (a commit of its own) pushed."""
    home = Path(tempfile.mkdtemp(prefix="host-", dir=tmp_path))
    bare, work = home / "remote.git", home / "work"
    git("init", "--bare", "-q", "-b", "main", str(bare))
    git("init", "-q", "-b", "main", str(work))
    for key, value in (("user.name", "Test"), ("user.email", "test@example.com")):
        git("config", key, value, cwd=work)
    (work / "README.md").write_text("post-mortems\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "start", cwd=work)
    git("push", "-q", str(bare), "main", cwd=work)
    for branch in branches:
        git("checkout", "-q", "-b", branch, "main", cwd=work)
        name = branch.rsplit("/", 1)[-1]
        (work / f"{name}.md").write_text(f"# {name}\n")
        git("add", ".", cwd=work)
        git("commit", "-qm", name, cwd=work)
        git("push", "-q", str(bare), branch, cwd=work)
    return bare


@dataclass
class Hosted:
    fake: GitHost
    client: Host

    @property
    def pr_word(self) -> str:
        return "pull request" if self.fake.flavor == "github" else "merge request"


def client_of(fake: GitHost, token: str, repo: str | None = None) -> Host:
    """A client for `repo` (the fake's own by default) on the fake host, as host_for makes it
    but with no pause between writes."""
    path = repo or fake.repo
    where = HostRepo("127.0.0.1", path, f"{fake.base_url}/{path}", fake.flavor)
    if fake.flavor == "github":
        clock = lambda: fake.clock().timestamp()  # noqa: E731
        return GitHubHost(where, token, api=fake.api_url, writes_apart_s=0, clock=clock)
    return GitLabHost(where, token, url=fake.api_url)
