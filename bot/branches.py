"""Review branches in the bot's clone: each incident's post-mortem on a branch of its own
(`postmortem/hotfix-001`) from POSTMORTEM_BRANCH, and whether it was merged (any style). Git
alone. Reviewers' commits are kept: the bot's drafts form a local chain of their own
(`drafts/postmortem/hotfix-001`), and each new draft's change is cherry-picked onto the review
branch (a three-way merge: lines reviewers changed stay theirs). A draft that changes lines a
reviewer changed is not pushed (ReviewConflict). Runs on the publisher's one git thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.publish import GitError, Refused, Repo, Unreachable, push_failure

logger = logging.getLogger(__name__)

PREFIX = "postmortem/"  # review branches: postmortem/hotfix-001, postmortem/hotfix-001-2, ...
DRAFTS = "drafts/"  # the bot's own chain of drafts, local only
# Local refs the bot keeps of each review branch: where it began on the base branch, and the
# last commit the bot pushed (to tell its own new drafts from a branch a reviewer rewrote).
STARTED = "refs/postmortem-bot/started/"
PUSHED = "refs/postmortem-bot/pushed/"
SEEN = "refs/postmortem-bot/seen/"  # the branch as the remote last had it (kept once deleted)
# Who a host names as committer when a person merges in its web page: the author (the
# person, or the pull request's author for a squash) says more.
WEB_COMMITTERS = ("GitHub", "GitLab", "web-flow", "noreply@github.com")


class ReviewConflict(Refused):
    """A draft changes lines that reviewers changed on the review branch: it was not pushed;
    the branch keeps the reviewers' text."""

    def __init__(self, branch: str, said: str) -> None:
        super().__init__(
            "reviewers changed the same lines",
            said,
            f"Reviewers changed the same lines on `{branch}`: their text stays and this "
            "draft was not pushed there. Edit the post-mortem in the pull request.",
        )


def review_branch(hotfix_id: str, round_: int = 1) -> str:
    """`postmortem/hotfix-001` for the first review, `postmortem/hotfix-001-2` after a reopen."""
    return f"{PREFIX}{hotfix_id}" + (f"-{round_}" if round_ > 1 else "")


@dataclass(frozen=True)
class Merge:
    """How a review branch reached the base branch: the commit that brought the post-mortem
    there (a merge commit, a squash, or the last rebased commit), who made it and when (UTC),
    and the post-mortem as merged (the final text)."""

    commit: str
    by: str
    at: datetime
    postmortem: str


class Branches:
    """Review branches of one clone (`repo`), based on `repo.branch`."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    @property
    def base(self) -> str:
        return self.repo.branch

    def _ref(self, ref: str) -> str | None:
        done = self.repo.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def blob(self, ref: str, path: str) -> str | None:
        """The id of `path`'s content at `ref`, or None where it is not there."""
        done = self.repo.git("rev-parse", "--verify", "--quiet", f"{ref}:{path}", check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def show(self, ref: str, path: str) -> str:
        return self.repo.git("show", f"{ref}:{path}").stdout

    def fetch(self) -> None:
        """The base branch and every review branch as the remote has them now (branches
        deleted there are forgotten here). Raises Unreachable."""
        self.repo.ensure()
        if not self.repo.remote:
            return
        done = self.repo.git(
            "fetch",
            "--quiet",
            "--prune",
            "--",
            "origin",
            f"+refs/heads/{self.base}:refs/remotes/origin/{self.base}",
            f"+refs/heads/{PREFIX}*:refs/remotes/origin/{PREFIX}*",
            check=False,
        )
        if done.returncode != 0:
            raise Unreachable(f"git fetch: {' '.join(done.stderr.split())}")
        heads = self.repo.git(
            "for-each-ref", "--format=%(objectname) %(refname)", f"refs/remotes/origin/{PREFIX}"
        ).stdout.splitlines()
        updates = "".join(
            f"update {SEEN}{ref.removeprefix('refs/remotes/origin/')} {sha}\n"
            for sha, ref in (line.split(" ", 1) for line in heads)
        )
        if updates:
            self.repo.git("update-ref", "--stdin", stdin=updates)

    def _start(self) -> str | None:
        """Where a new branch starts: the remote's base branch, else the local one."""
        return self._ref(f"origin/{self.base}") or self._ref(self.base)

    def commit(self, branch: str, files: dict[str, str], message: str) -> str | None:
        """Write `files` as the bot's next draft for `branch` and put that change on the review
        branch; None when the draft changed nothing there. Raises ReviewConflict (the change
        touches lines reviewers changed: the review branch is left as the remote has it),
        GitError."""
        try:
            self.fetch()
        except Unreachable as exc:  # drafted offline; pushed when the remote answers
            logger.info("drafting %s without fetching: %s", branch, exc)
        chain = DRAFTS + branch
        start = self._ref(chain) or self._ref(f"origin/{branch}") or self._start()
        self.repo.checkout(chain, start)
        sha = self.repo.write_and_commit(files, message)
        if sha is None:
            return None
        remote = self._ref(f"origin/{branch}")
        local = self._ref(branch)
        if remote is None and local is None:  # a new review branch: the bot's drafts
            self.repo.git("branch", "--force", "--", branch, sha)
            if start:
                self.repo.git("update-ref", STARTED + branch, start)
            return sha
        path = next((p for p in files if p.endswith("/postmortem.md")), None)
        if path and self.merged(branch, path):
            return None  # merged meanwhile: the watcher publishes it; nothing goes after it
        ahead = local and remote and not self._contains(remote, local)  # unpushed drafts
        self.repo.checkout(branch, local if ahead or remote is None else remote)
        picked = self.repo.git("cherry-pick", "--no-commit", sha, check=False)
        if picked.returncode != 0:
            self.repo.git("reset", "--hard", "--quiet", check=False)
            self._give_way(branch, remote or local)
            raise ReviewConflict(branch, " ".join(picked.stdout.split())[:200])
        if self.repo.git("diff", "--cached", "--quiet", check=False).returncode == 0:
            return None  # the reviewers' text says it already
        self.repo.git("commit", "--quiet", "-m", message)
        return self._ref("HEAD")

    def _give_way(self, branch: str, theirs: str | None) -> None:
        """The reviewers' text stays: the branch is as the remote has it, nothing to push."""
        self.repo.checkout(branch, theirs)
        if theirs:
            self.repo.git("update-ref", PUSHED + branch, theirs)

    def _contains(self, later: str, earlier: str) -> bool:
        """Whether commit `earlier` is in `later`'s history."""
        done = self.repo.git("merge-base", "--is-ancestor", earlier, later, check=False)
        return done.returncode == 0

    def unpushed(self) -> list[str]:
        """The review branches with drafts the bot has not pushed yet. A branch whose drafts
        were all pushed is not pushed again, whatever the remote did with it since (deleted
        after its merge or to close its review, rewritten by a reviewer)."""
        if not self.repo.remote or not (self.repo.workdir / ".git").exists():
            return []
        heads = self.repo.git(
            "for-each-ref", "--format=%(refname:short)", f"refs/heads/{PREFIX}"
        ).stdout.split()
        return [b for b in heads if self._ref(b) != self._ref(PUSHED + b)]

    def push(self, branch: str) -> str:
        """Push the review branch; returns its commit. Reviewers pushed meanwhile: the bot's
        commits are rebased onto theirs (three ways) and pushed again; a conflict leaves the
        branch as the remote has it and raises ReviewConflict. Raises Refused, Unreachable."""
        done = self._push(branch)
        if isinstance(done, Refused) and done.behind:
            self.fetch()
            upstream, pushed = f"origin/{branch}", self._ref(PUSHED + branch)
            if pushed and self._ref(upstream) and not self._contains(upstream, pushed):
                # a reviewer rewrote the branch: only the drafts made since go onto theirs
                args = ["rebase", "--quiet", "--onto", upstream, pushed, branch]
            else:
                args = ["rebase", "--quiet", upstream, branch]
            rebased = self.repo.git(*args, check=False)
            if rebased.returncode != 0:
                self.repo.git("rebase", "--abort", check=False)
                self._give_way(branch, self._ref(upstream))
                raise ReviewConflict(branch, " ".join(rebased.stdout.split())[:200])
            done = self._push(branch)
        if isinstance(done, GitError):
            raise done
        self.repo.git(
            "fetch",
            "--quiet",
            "--",
            "origin",
            f"+{branch}:refs/remotes/origin/{branch}",
            check=False,
        )
        return done

    def _push(self, branch: str) -> str | Refused | Unreachable:
        done = self.repo.git(
            "push",
            "--porcelain",
            "--",
            "origin",
            f"refs/heads/{branch}:refs/heads/{branch}",
            check=False,
        )
        if done.returncode != 0:
            return push_failure(done.stdout, done.stderr, branch)
        sha = self._ref(branch) or ""
        self.repo.git("update-ref", PUSHED + branch, sha)
        return sha

    def on_remote(self, branch: str) -> bool:
        """Whether the remote has `branch` (as of the last fetch)."""
        return self._ref(f"origin/{branch}") is not None

    def merged(self, branch: str, path: str) -> Merge | None:
        """Whether `branch` reached the base branch (as of the last fetch): a commit of the
        branch's own line (its first parents since it began) is in the base's history (a merge
        commit, a fast-forward, even with drafts pushed after it), or `path` there is now a
        text the branch had (a squash, a rebase). An edit of `path` on the base alone, or the
        base merged into the branch, is no merge. None while neither."""
        base = f"origin/{self.base}" if self.repo.remote else self.base
        now = self.blob(base, path)
        head = self._ref(f"origin/{branch}") or self._ref(SEEN + branch) or self._ref(branch)
        if now is None or head is None:
            return None
        fork = self._ref(STARTED + branch) or self._git_line("merge-base", head, base)
        if not fork:
            return None
        own = self.repo.git("rev-list", "--first-parent", head, f"^{fork}").stdout.split()
        if not own:
            return None
        outside = self.repo.git("rev-list", "--first-parent", head, f"^{fork}", f"^{base}")
        if len(outside.stdout.split()) == len(own):  # none of its commits is in the base
            texts = {self.blob(c, path) for c in own}
            if now == self.blob(fork, path) or now not in texts:
                return None
        fields = (
            self.repo.git(
                "log",
                "-1",
                "--first-parent",
                "--format=%H%x1f%cn%x1f%ce%x1f%an%x1f%cI",
                base,
                "--",
                path,
            )
            .stdout.strip()
            .split("\x1f")
        )
        commit, committer, email, author, at = fields
        by = author if committer in WEB_COMMITTERS or email in WEB_COMMITTERS else committer
        if by == self.repo.author[0]:  # a host's rebase or fast-forward: the bot's own commits
            by = ""
        when = datetime.fromisoformat(at).astimezone(UTC)
        return Merge(commit, by, when, self.show(base, path))

    def _git_line(self, *args: str) -> str:
        done = self.repo.git(*args, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""
