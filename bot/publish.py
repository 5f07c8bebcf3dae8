"""Publishing drafts to the team's git repository: a working clone, commits, pushes that wait.

Uses the `git` command line: it rebases and merges, and speaks every transport and credential
helper the team already uses. One worker thread does all git work, so nothing in Slack waits
on it and no two git commands race in the clone.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 60


class GitError(Exception):
    """A git command failed; the message has git's own words."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication."""

    sha: str | None  # the new commit, or None when nothing changed
    pushed: bool  # the remote has it (always True without a remote)
    error: str | None = None  # why it is not pushed yet


class Repo:
    """The bot's working clone of the post-mortem repository."""

    def __init__(
        self, workdir: Path, remote: str | None, branch: str, author: tuple[str, str]
    ) -> None:
        self.workdir = workdir
        self.remote = remote
        self.branch = branch
        self.author = author

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        name, email = self.author
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "LC_ALL": "C",
        }
        done = subprocess.run(
            ["git", *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]}: {(done.stderr or done.stdout).strip()}")
        return done

    def ensure(self) -> None:
        """Clone (or create) the working copy once; later calls do nothing."""
        if (self.workdir / ".git").exists():
            return
        if shutil.which("git") is None:
            raise GitError("git is not installed on this machine (install the `git` package)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.remote:
            cloned = self._git("clone", "--branch", self.branch, self.remote, ".", check=False)
            if cloned.returncode == 0:
                return
            logger.info(
                "clone of the post-mortem repo failed, starting empty: %s",
                " ".join(cloned.stderr.split()),
            )
        self._git("init", "--initial-branch", self.branch)
        if self.remote:
            self._git("remote", "add", "origin", self.remote)

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Write the files and commit them; None when they were already as given."""
        self.ensure()
        for relative, content in files.items():
            path = self.workdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        self._git("add", "--", *files)
        if self._git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return None
        self._git("commit", "--quiet", "-m", message)
        return self._git("rev-parse", "HEAD").stdout.strip()

    def unpushed(self) -> int:
        """How many local commits the remote does not have yet."""
        if not self.remote or not (self.workdir / ".git").exists():
            return 0
        if self._git("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode:
            return 0
        upstream = f"origin/{self.branch}"
        if self._git("rev-parse", "--verify", "--quiet", upstream, check=False).returncode:
            return int(self._git("rev-list", "--count", "HEAD").stdout)
        return int(self._git("rev-list", "--count", f"{upstream}..HEAD").stdout)

    def push(self) -> None:
        """Push; if the remote moved on, integrate its commits and push again."""
        if not self.remote or self.unpushed() == 0:
            return
        first = self._git("push", "--quiet", "origin", f"HEAD:{self.branch}", check=False)
        if first.returncode == 0:
            self._git("fetch", "--quiet", "origin", self.branch, check=False)
            return
        if "non-fast-forward" not in first.stderr and "fetch first" not in first.stderr:
            # not "the remote moved on" (a hook, permissions, the network): say git's words
            raise GitError(f"git push: {' '.join(first.stderr.split())}")
        self._git("fetch", "--quiet", "origin", self.branch)
        upstream = f"origin/{self.branch}"
        if self._git("rebase", "--quiet", upstream, check=False).returncode != 0:
            self._git("rebase", "--abort", check=False)
            self._git(
                "merge",
                "--quiet",
                "--no-edit",
                "--allow-unrelated-histories",
                "-X",
                "ours",
                upstream,
            )
        self._git("push", "--quiet", "origin", f"HEAD:{self.branch}")
        self._git("fetch", "--quiet", "origin", self.branch, check=False)


Job = tuple[dict[str, str] | None, str, Callable[[Outcome], None]]  # files None: retry a push


class Publisher:
    """Runs every git operation on one background thread; retries unpushed commits."""

    def __init__(self, repo: Repo, retry_every_s: float = 60.0) -> None:
        self.repo = repo
        self.retry_every_s = retry_every_s
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self.on_pushed: Callable[[], None] = lambda: None

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def submit(
        self,
        files: dict[str, str],
        message: str,
        done: Callable[[Outcome], None] = lambda outcome: None,
    ) -> None:
        """Queue a commit of these files; `done` is called on the worker thread afterwards."""
        self._jobs.put((files, message, done))

    def retry_now(self) -> None:
        """Try the unpushed commits now rather than at the next retry."""
        self._jobs.put((None, "", lambda outcome: None))

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every queued job has run (for tests and orderly shutdown)."""
        finished = threading.Event()
        self._jobs.put(({}, "", lambda outcome: finished.set()))
        finished.wait(timeout)

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self.retry_every_s)
            except queue.Empty:
                self._retry()
                continue
            if job is None:
                return
            files, message, done = job
            if files is None:
                self._retry()
            done(self._publish(files, message) if files else Outcome(None, True))

    def _publish(self, files: dict[str, str], message: str) -> Outcome:
        try:
            sha = self.repo.commit(files, message)
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            logger.error("commit failed: %s", exc)
            return Outcome(None, False, str(exc))
        try:
            had_unpushed = self.repo.unpushed() > (1 if sha else 0)
            self.repo.push()
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("push failed, will retry: %s", exc)
            return Outcome(sha, False, str(exc))
        if had_unpushed:
            self.on_pushed()
        return Outcome(sha, True)

    def _retry(self) -> None:
        try:
            if self.repo.unpushed():
                self.repo.push()
                self.on_pushed()
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            logger.info("post-mortem repo still unreachable: %s", exc)
