"""What people hear about the post-mortem repository: where a draft really is (in the
repository only once the remote has it), a push that is late or that the remote refused, the
commander when it keeps refusing, and the channel when the draft finally got there."""

from __future__ import annotations

import threading
from pathlib import Path

from slack_sdk import WebClient

from bot.models import Incident
from bot.publish import Outcome, Refused
from bot.slack.audience import Audience
from bot.slack.text import escape
from bot.store import Store

REFUSALS_BEFORE_COMMANDER = 3  # pushes refused in a row (the draft's, then retries) before a DM


class Pending:
    """A draft's git outcome, handed from the git thread to the thread posting the draft."""

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._lock = threading.Lock()
        self._outcome: Outcome | None = None
        self._gave_up = False

    def arrive(self, outcome: Outcome) -> bool:
        """From the git thread: True if the draft is still waiting (its message says it)."""
        with self._lock:
            self._outcome = outcome
            in_time = not self._gave_up
        self._arrived.set()
        return in_time

    def wait(self, timeout: float) -> Outcome | None:
        """The outcome, or None if git has not finished within `timeout` seconds."""
        self._arrived.wait(timeout)
        with self._lock:
            self._gave_up = self._outcome is None
            return self._outcome


class RepoNotices:
    """Texts and notices about the repository; `where` is how people find it (e.g.
    "`git@host:team/pm.git` (branch `main`)", its credentials hidden), `workdir` the bot's clone."""

    def __init__(
        self, store: Store, audience: Audience, workdir: Path, where: str, repo: str = ""
    ) -> None:
        self.store = store
        self.audience = audience
        self.workdir = workdir
        self.where = where
        self.repo = repo or where  # the repository alone, e.g. "`git@host:team/pm.git`"

    def whereabouts(self, incident: Incident, outcome: Outcome | None) -> str:
        """Where a draft is, for people: in the repository only once the remote has it; else
        where it really is, what git or the remote said, and what happens next."""
        path = f"`{incident.hotfix_id}/postmortem.md`"
        if outcome is None:
            return (
                f"Being committed to {self.where} as {path} (git is slow to answer); this "
                "channel hears if it does not get there."
            )
        if outcome.pushed and outcome.branch:
            return f"In the repository: {path} on branch `{outcome.branch}` of {self.repo}"
        if outcome.pushed:
            return f"In the repository: {path} in {self.where}"
        if outcome.branch and outcome.refused and not outcome.committed:  # reviewers' lines
            return (
                f":pencil2: *Not on `{outcome.branch}`*: {escape(outcome.refused.advice)} "
                "The draft above is the bot's; the pull request has the reviewers' text."
            )
        error = escape(" ".join((outcome.error or "").split())[:300])
        if not outcome.committed:
            return (
                f":warning: *Not in the repository*: git could not commit {path} ({error}). "
                "The next draft tries again."
            )
        clone = f"{path} is committed in the bot's clone (`{self.workdir}`)"
        if outcome.refused is not None and outcome.branch:
            return (
                f":no_entry: *Not in the repository*: {clone} on `{outcome.branch}`, but "
                f"{self.repo} refused the push{self._said(outcome.refused)} The bot keeps "
                "trying and says here when it is in."
            )
        if outcome.refused is not None:
            return (
                f":no_entry: *Not in the repository*: {clone}, but {self.where} refused the "
                f"push{self._said(outcome.refused)} The bot keeps trying and says here when "
                "it is in."
            )
        return (
            f":warning: *Not in the repository yet*: {clone}; the repository is not reachable "
            f"right now ({error}). It is pushed as soon as it is; nothing is lost."
        )

    @staticmethod
    def _said(refused: Refused) -> str:
        """` (hook declined): “what the remote said”. What to do.`, escaped for Slack."""
        said = f": “{escape(refused.said)}”" if refused.said else ""
        return f" ({escape(refused.reason)}){said}. {escape(refused.advice)}"

    def committed(
        self, client: WebClient, incident: Incident, pending: Pending, outcome: Outcome
    ) -> None:
        """On the git thread, once the draft is committed (and pushed, or not): a draft whose
        message could not say so yet has the channel told once until a push succeeds."""
        in_time = pending.arrive(outcome)
        if outcome.pushed:
            return
        first = outcome.committed and self.store.mark_repo_warned(incident)
        if not in_time and (first or not outcome.committed):
            self.audience.post(client, incident, [], self.whereabouts(incident, outcome))

    def pushed(self, client: WebClient) -> None:
        """A delayed push went through: tell the channels that were told it had not."""
        for incident in self.store.take_repo_warnings():
            self.audience.post(
                client,
                incident,
                [],
                f":white_check_mark: The {incident.hotfix_id} post-mortem is now in the "
                f"repository: `{incident.hotfix_id}/postmortem.md` in {self.where}.",
            )

    def refused(self, client: WebClient, refused: Refused, times: int) -> None:
        """The remote keeps refusing pushes: after REFUSALS_BEFORE_COMMANDER in a row, each
        commander of an incident with a draft waiting hears it by DM, once until it is in."""
        if times < REFUSALS_BEFORE_COMMANDER:
            return
        for incident in self.store.repo_refusal_to_tell():
            self.audience.tell(
                client,
                incident,
                [],
                f":no_entry: {self.where} has refused the bot's last {times} pushes"
                f"{self._said(refused)} The {incident.hotfix_id} post-mortem is committed in "
                f"the bot's clone (`{self.workdir}`), not in the repository. The "
                f"bot keeps trying and tells <#{incident.channel_id}> when it is in.",
            )
