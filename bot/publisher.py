"""The publisher: one background thread does all git work (commits, pushes, retries of the
pushes that wait, the review watcher), so nothing in Slack waits on git and no two git
commands race in the clone."""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.branches import Branches
from bot.publish import GitError, Outcome, Refused, Repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One piece of git work: commit `files` (to `branch`, a review branch, or the base) and
    push; `files` None: retry the pushes waiting; `work`: run it on the git thread."""

    files: dict[str, str] | None
    message: str = ""
    done: Callable[[Outcome], None] = lambda outcome: None
    branch: str | None = None
    work: Callable[[], None] | None = None


class Publisher:
    """Runs every git operation on one background thread; retries unpushed commits.

    `on_pushed()` is called (on that thread) when commits that had waited reached the remote;
    `on_refused(refused, times)` each time the remote refuses a push, with how many pushes in a
    row it has refused. Neither may stop the thread: what they raise is logged.
    """

    def __init__(self, repo: Repo, retry_every_s: float = 60.0) -> None:
        self.repo = repo
        self.branches = Branches(repo)
        self.retry_every_s = retry_every_s
        self.watch: Callable[[], None] = lambda: None  # run on the git thread at each retry
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self.on_pushed: Callable[[], None] = lambda: None
        self.on_refused: Callable[[Refused, int], None] = lambda refused, times: None
        self.refusals = 0  # pushes refused in a row (0 once one goes through)

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
        branch: str | None = None,
    ) -> None:
        """Queue a commit of these files, to review branch `branch` (bot/branches.py) or the
        base branch; `done` is called on the worker thread afterwards."""
        self._jobs.put(Job(files, message, done, branch))

    def run(self, work: Callable[[], None]) -> None:
        """Queue `work` for the git thread (what it raises is logged)."""
        self._jobs.put(Job({}, work=work))

    def retry_now(self) -> None:
        """Try the unpushed commits now, and watch, rather than at the next retry."""
        self._jobs.put(Job(None))

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every queued job has run (for tests and orderly shutdown)."""
        finished = threading.Event()
        self._jobs.put(Job({}, done=lambda outcome: finished.set()))
        finished.wait(timeout)

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            wait = max(0.0, last + self.retry_every_s - time.monotonic())
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = Job(None)  # the retry's (and the watcher's) turn, busy or not
            if job is None:
                return
            if job.files is None:
                last = time.monotonic()
            if job.work is not None:
                self._call(job.work)
            if job.files is None:
                self._retry()
            elif job.branch:
                self._call(job.done, self._review(job.files, job.message, job.branch))
            else:
                files, message = job.files, job.message
                self._call(
                    job.done, self._publish(files, message) if files else Outcome(None, True)
                )

    def _call(self, callback: Callable[..., None], *args: object) -> None:
        """A callback's failure (Slack down, a busy database) is logged; git work goes on."""
        try:
            callback(*args)
        except Exception:
            logger.exception("after git work, %s failed", getattr(callback, "__name__", "a step"))

    def _publish(self, files: dict[str, str], message: str) -> Outcome:
        try:
            sha = self.repo.commit(files, message)
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            logger.error("commit failed: %s", exc)
            return Outcome(None, False, str(exc), committed=False)
        try:
            had_unpushed = self.repo.unpushed() > (1 if sha else 0)
            self.repo.push()
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            return Outcome(sha, False, str(exc), self._failed(exc))
        self._pushed(had_unpushed)
        return Outcome(sha, True)

    def _review(self, files: dict[str, str], message: str, branch: str) -> Outcome:
        """A draft to its review branch, pushed (bot/branches.py)."""
        try:
            sha = self.branches.commit(branch, files, message)
        except Refused as refused:  # reviewers changed the same lines: theirs stay
            return Outcome(None, False, str(refused), refused, committed=False, branch=branch)
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            logger.error("commit to %s failed: %s", branch, exc)
            return Outcome(None, False, str(exc), committed=False, branch=branch)
        try:
            had_unpushed = len(self.branches.unpushed()) > (1 if sha else 0)
            if branch in self.branches.unpushed():
                self.branches.push(branch)
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            return Outcome(sha, False, str(exc), self._failed(exc), branch=branch)
        self._pushed(had_unpushed)
        return Outcome(sha, True, branch=branch)

    def _retry(self) -> None:
        try:
            waiting = self.repo.unpushed()
            branches = self.branches.unpushed()
            if waiting:
                self.repo.push()
            for branch in branches:
                self.branches.push(branch)
        except (GitError, OSError, subprocess.TimeoutExpired) as exc:
            self._failed(exc)
        else:
            if waiting or branches:
                self._pushed(True)
        self._call(self.watch)

    def _failed(self, exc: Exception) -> Refused | None:
        if not isinstance(exc, Refused):
            logger.warning("post-mortem repo not reachable, will retry: %s", exc)
            return None
        self.refusals += 1
        logger.warning("post-mortem repo refused the push (%d in a row): %s", self.refusals, exc)
        self._call(self.on_refused, exc, self.refusals)
        return exc

    def _pushed(self, waited: bool) -> None:
        self.refusals = 0
        if waited:
            self._call(self.on_pushed)
