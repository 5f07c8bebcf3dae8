"""`python -m bot demo --review`: the demo's incident ends in review mode. A bare repository
stands behind a local GitHub (bot/sandbox/githost.py; git reaches it through its own
`url.<path>.insteadOf`), alice puts the post-mortem up for review, bob comments on the pull
request, carol squash-merges it with git, and the bot announces the publication."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.sandbox import Emulator
from bot.sandbox.githost import TOKEN, GitHost

BRANCH = "postmortem/hotfix-001"
PERSON = ("-c", "user.name=Carol", "-c", "user.email=carol@example.com")


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _wait(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise RuntimeError("the demo waited too long for the bot")


class Reviewed:
    """The review half of the demo: the repository, the host, the settings that point the bot
    at them, and what people do there."""

    def __init__(self, folder: Path, slack: Emulator) -> None:
        self.folder = folder
        self.slack = slack
        self.remote = folder / "postmortems.git"
        _git("init", "--bare", "-q", "-b", "main", str(self.remote))
        seed = folder / "seed"
        _git("clone", "-q", str(self.remote), str(seed))
        (seed / "README.md").write_text("Our post-mortems\n")
        _git("add", ".", cwd=seed)
        _git(*PERSON, "commit", "-qm", "Our post-mortems", cwd=seed)
        _git("push", "-q", "origin", "main", cwd=seed)
        self.host = GitHost("github", self.remote)
        self._env: dict[str, str | None] = {}

    def __enter__(self) -> Reviewed:
        self.host.start()
        url = f"{self.host.web_url}.git"
        rewrite = {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{self.remote}.insteadOf",
            "GIT_CONFIG_VALUE_0": url,
        }
        self._env = {k: os.environ.get(k) for k in rewrite}
        os.environ.update(rewrite)
        people = f"{self.slack.user('carol')}=carol,{self.slack.user('alice')}=alice"
        self.settings = {
            "POSTMORTEM_REPO": url,
            "POSTMORTEM_REVIEW": "pull-request",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": self.host.api_url,
            "REVIEWER_ACCOUNTS": people,
        }
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.host.stop()
        for key, value in self._env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def finish(
        self, slack: Emulator, bot: Any, say: Callable[[str], None]
    ) -> Callable[[str], None]:
        """What ends the incident instead of `/incident publish` publishing at once."""

        def finish(name: str) -> None:
            channel = slack.channel(name)
            say("alice puts the post-mortem up for review: /incident publish opens a pull request")
            slack.command("alice", "/incident", "publish", name)
            announced = _wait(
                lambda: next((m for m in channel.messages if m.text.startswith(":mag:")), None)
            )
            say("bob comments on the pull request; the comment comes to the Slack thread")
            self.host.comment(
                1,
                "Should the root cause say why no check caught a pool size of 0?",
                by="bob",
                path="hotfix-001/postmortem.md",
                line=40,
            )
            bot.publisher.retry_now()  # the watcher's minute, now
            _wait(lambda: any(m.thread_ts == announced.ts != m.ts for m in channel.messages))
            say("carol squash-merges it with git; the bot notices the merge and publishes")
            clone = self.folder / "carol"
            _git("clone", "-q", str(self.remote), str(clone))
            _git(*PERSON, "merge", "--squash", "-q", f"origin/{BRANCH}", cwd=clone)
            _git(*PERSON, "commit", "-qm", "hotfix-001 post-mortem (#1)", cwd=clone)
            _git("push", "-q", "origin", "main", cwd=clone)
            self.host.merge(1, by="carol")
            bot.publisher.retry_now()
            _wait(lambda: any(m.text.startswith(":tada:") for m in channel.messages))

        return finish

    def summary(self) -> list[str]:
        """Where the post-mortem went: the branch, the pull request, the merge."""
        pull = self.host.pulls.get(1)
        log = _git("--git-dir", str(self.remote), "log", "--oneline", "main").splitlines()
        return [
            "",
            "The post-mortem went through review:",
            f"  branch   {BRANCH} (the drafts, pushed one by one)",
            f"  pull     #{pull.number} “{pull.title}”, {pull.state}"
            if pull
            else "  no pull request",
            f"  main     {log[0]}",
            f"  (git --git-dir {self.remote} log --oneline --all)",
        ]
