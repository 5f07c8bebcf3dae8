"""The team's post-mortem repository through the bot's working clone: commits, pushes, and
what a refused or unanswered push means (bot/publisher.py runs them on one thread).

Uses the `git` command line: it rebases and merges, and speaks every transport and credential
helper the team already uses.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.private import PRIVATE_DIR, private_dir, private_file, redact

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 60
GIT_UMASK = 0o077  # what git makes in the clone (`.git/config` holds the URL) is the bot's only
SAID_LINES = 3  # how much of what the remote said a refusal quotes: its first lines ...
SAID_CHARS = 300  # ... up to this many characters
# Words of a push that reached the remote and was not allowed in (no ref line to go by: git
# stops before that when HTTPS answers 401/403 or SSH refuses the key).
_DENIED = re.compile(
    r"permission denied|denied to|authentication failed|returned error: 40[13]|"
    r"could not read username|terminal prompts disabled",
    re.IGNORECASE,
)
# What git itself prints through the remote's channel, rather than what the remote said.
_NOISE = re.compile(
    r"^(error: )?hook declined to update|^(Counting|Compressing|Enumerating|Resolving|Total) |"
    r"\d+% \(",
)
_BEHIND = ("non-fast-forward", "fetch first")


class GitError(Exception):
    """A git command failed; the message has git's own words."""


class Unreachable(GitError):
    """A push or fetch got no answer from the remote (network, DNS, a missing repository, a
    timeout). Passing: the publisher tries again."""


class Refused(GitError):
    """The remote answered and said no: a hook declined the push (a pre-receive hook, a
    protected branch), the bot's credentials may not write there, or its branch moved on in a
    way that integrating did not fix. The publisher tries again, but a person has to act.

    `reason`: git's short reason (`pre-receive hook declined`, `non-fast-forward`,
    `permission denied`); `said`: the remote's own first lines (`remote: ...`), trimmed, one
    line, at most SAID_CHARS characters, or ""; `advice`: what a person can do, plain text.
    """

    def __init__(self, reason: str, said: str, advice: str) -> None:
        super().__init__(f"git push refused ({reason})" + (f": {said}" if said else ""))
        self.reason = reason
        self.said = said
        self.advice = advice

    @property
    def behind(self) -> bool:
        """The remote has commits the clone lacks: integrating them may be all it takes."""
        return self.reason in _BEHIND


def remote_said(stderr: str) -> str:
    """The remote's own words in git's output (its `remote:` lines, without git's progress or
    its own "hook declined" line), trimmed and joined on one line; "" if it said nothing."""
    lines = [
        said
        for line in stderr.splitlines()
        if line.startswith("remote:")
        and (said := " ".join(line[len("remote:") :].split()))
        and not _NOISE.search(said)
    ]
    text = " ".join(lines[:SAID_LINES])
    return text if len(text) <= SAID_CHARS else text[: SAID_CHARS - 1] + "…"


def push_failure(stdout: str, stderr: str, branch: str) -> Refused | Unreachable:
    """What a failed `git push --porcelain` means. A rejected ref (`!` in the porcelain lines
    on stdout) or a denial of access is a Refused: the remote answered. Anything else (no
    answer) is Unreachable, with git's own words."""
    rejected = [line.split("\t") for line in stdout.splitlines() if line.startswith("!\t")]
    said = remote_said(stderr)
    words = " ".join(stderr.split())
    if rejected:
        summary = rejected[0][-1]
        reason = summary[summary.find("(") + 1 : summary.rfind(")")] if "(" in summary else ""
        reason = reason or summary.strip("[] ") or "rejected"
        if reason in _BEHIND:
            advice = (
                f"`{branch}` there has commits the bot could not build on (rewritten history, "
                "or pushes racing it): look at that branch's history."
            )
        else:
            advice = (
                f"Whoever looks after the repository can let the bot push to `{branch}`, or "
                "set POSTMORTEM_BRANCH to a branch it may push to."
            )
        return Refused(reason, said, advice)
    if _DENIED.search(stderr):
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        return Refused(
            "permission denied",
            said or first[:SAID_CHARS],
            "Give the bot's git credentials write access to the repository.",
        )
    return Unreachable(f"git push: {words}")


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication."""

    sha: str | None  # the new commit, or None when nothing changed (or the commit failed)
    pushed: bool  # the remote has it (always True without a remote)
    error: str | None = None  # why it is not pushed (or not committed) yet, in git's words
    refused: Refused | None = None  # the remote said no (else: not reachable, or no commit)
    committed: bool = True  # False: the commit itself failed; the clone has nothing new
    branch: str | None = None  # a review branch (bot/branches.py); None: the base branch


class Repo:
    """The bot's working clone of the post-mortem repository."""

    def __init__(
        self, workdir: Path, remote: str | None, branch: str, author: tuple[str, str]
    ) -> None:
        self.workdir = workdir
        self.remote = remote
        self.branch = branch
        self.author = author

    def git(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run git in the clone, its files made private; what git printed comes back with the
        credentials of any URL in it replaced (bot/private.py `redact`). Raises GitError with
        git's words when it fails and `check`."""
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
            input=stdin,
            timeout=GIT_TIMEOUT_S,
            check=False,
            umask=GIT_UMASK,
        )
        done.stdout, done.stderr = redact(done.stdout), redact(done.stderr)
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]}: {(done.stderr or done.stdout).strip()}")
        return done

    def ensure(self) -> None:
        """Clone (or create) the working copy once; later calls only keep it private: the
        folder 0700 and `.git/config` (which holds the remote's URL) 0600, whatever the umask.
        Settings reach git after `--` or as `--option=value`, never where git reads options."""
        if (self.workdir / ".git").exists():
            self._keep_private()
            return
        if shutil.which("git") is None:
            raise GitError("git is not installed on this machine (install the `git` package)")
        private_dir(self.workdir)
        if self.remote:
            cloned = self.git(
                "clone", f"--branch={self.branch}", "--", self.remote, ".", check=False
            )
            if cloned.returncode == 0:
                self._keep_private()
                return
            logger.info(
                "clone of the post-mortem repo failed, starting empty: %s",
                " ".join(cloned.stderr.split()),
            )
        self.git("init", f"--initial-branch={self.branch}")
        if self.remote:
            self.git("remote", "add", "--", "origin", self.remote)
        self._keep_private()

    def _keep_private(self) -> None:
        self.workdir.chmod(PRIVATE_DIR)
        private_file(self.workdir / ".git" / "config", create=False)

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Write the files and commit them on the branch; None when they were already as
        given."""
        self.ensure()
        head = self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
        if head != self.branch:  # a review branch was checked out (bot/branches.py)
            known = self.git("rev-parse", "--verify", "--quiet", self.branch, check=False)
            self.checkout(self.branch, self.branch if known.returncode == 0 else None)
        return self.write_and_commit(files, message)

    def checkout(self, branch: str, start: str | None) -> None:
        """`branch` checked out at `start` (created, or moved there: the working tree follows),
        or, with no `start`, as a new branch with no commits yet."""
        if start is None:
            self.git("checkout", "--quiet", "--orphan", branch)
            self.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", ".", check=False)
            return
        self.git("checkout", "--quiet", "--force", "-B", branch, start)

    def write_and_commit(self, files: dict[str, str], message: str) -> str | None:
        """Write the files and commit them on the branch checked out; None when they were
        already as given."""
        for relative, content in files.items():
            path = self.workdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        self.git("add", "--", *files)
        if self.git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return None
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def unpushed(self) -> int:
        """How many local commits the remote does not have yet."""
        if not self.remote or not (self.workdir / ".git").exists():
            return 0
        mine = f"refs/heads/{self.branch}"  # not HEAD: a review branch may be checked out
        if self.git("rev-parse", "--verify", "--quiet", mine, check=False).returncode:
            return 0
        upstream = f"origin/{self.branch}"
        if self.git("rev-parse", "--verify", "--quiet", upstream, check=False).returncode:
            return int(self.git("rev-list", "--count", mine).stdout)
        return int(self.git("rev-list", "--count", f"{upstream}..{mine}").stdout)

    def push(self) -> None:
        """Push; if the remote moved on, integrate its commits and push again. Raises Refused
        (the remote said no, also when it is still behind after integrating), Unreachable (no
        answer), or GitError (integrating failed in the clone)."""
        if not self.remote or self.unpushed() == 0:
            return
        try:
            self._push()
        except Refused as refused:
            if not refused.behind:
                raise
            self._integrate()
            self._push()
        self.git("fetch", "--quiet", "--", "origin", self.branch, check=False)

    def _push(self) -> None:
        done = self.git(
            "push",
            "--porcelain",
            "--quiet",
            "--",
            "origin",
            f"refs/heads/{self.branch}:refs/heads/{self.branch}",
            check=False,
        )
        if done.returncode != 0:
            raise push_failure(done.stdout, done.stderr, self.branch)

    def _integrate(self) -> None:
        """Rebase the clone's commits on the remote's (merging, ours first, if that fails)."""
        fetched = self.git("fetch", "--quiet", "--", "origin", self.branch, check=False)
        if fetched.returncode != 0:
            raise Unreachable(f"git fetch: {' '.join(fetched.stderr.split())}")
        upstream = f"origin/{self.branch}"
        self.checkout(self.branch, self.branch)
        if self.git("rebase", "--quiet", upstream, check=False).returncode != 0:
            self.git("rebase", "--abort", check=False)
            self.git(
                "merge",
                "--quiet",
                "--no-edit",
                "--allow-unrelated-histories",
                "-X",
                "ours",
                upstream,
            )
