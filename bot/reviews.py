"""Review mode's workflow (POSTMORTEM_REVIEW=pull-request), no Slack: which branch a draft goes
to, the pull request's title, body and reviewers, and what the watcher finds on the git thread
(a merge publishes the post-mortem, once; a pull request closed unmerged is a draft again)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.branches import Branches, Merge, review_branch
from bot.errors import BotError
from bot.incidents import Incidents
from bot.models import Incident, Status
from bot.publish import GitError
from bot.store.reviews import MERGED, OPEN, Review

logger = logging.getLogger(__name__)

FINAL = ""  # no branch: the merged post-mortem is final, drafts are not committed
BODY_SUMMARY_CHARS = 3000  # the summary quoted in a pull request's body, at most


@dataclass(frozen=True)
class Merged:
    """A round's branch was merged, as `review` records it (merged_by, merged_at): `incident`
    as it is now (published, unless it was reopened before the merge was noticed)."""

    incident: Incident
    review: Review
    published: bool


@dataclass(frozen=True)
class Closed:
    """`review`'s pull request was closed without merging (its branch deleted, or the host
    says so): the post-mortem is a draft again."""

    incident: Incident
    review: Review
    how: str  # completes "the pull request was ...": "closed without merging", ...


Found = Merged | Closed
# How the host says the pull request ended without reaching the base branch ("closed without
# merging", "merged into `release`"), "" while it is open, None where the host has no word.
IsClosed = Callable[[Review], str | None]


class Reviews:
    """Review rounds of post-mortems; `accounts`: Slack user ID -> the host account asked to
    review (REVIEWER_ACCOUNTS)."""

    def __init__(self, incidents: Incidents, accounts: Mapping[str, str]) -> None:
        self.incidents = incidents
        self.store = incidents.store
        self.accounts = dict(accounts)

    def branch_for(self, incident: Incident) -> str:
        """The review branch the incident's next draft goes to: the current round's; a new
        round's after a merge and a reopen; FINAL while the merged post-mortem is published."""
        review = self.store.review(incident)
        if review is None:
            return self.store.start_review(incident, 1, review_branch(incident.hotfix_id)).branch
        if review.status != MERGED:
            return review.branch
        current = self.store.incident(incident.team_id, incident.id) or incident
        if current.published_at is not None:
            return FINAL
        round_ = review.round + 1
        return self.store.start_review(
            incident, round_, review_branch(incident.hotfix_id, round_)
        ).branch

    def reviewers(self, incident: Incident) -> tuple[list[str], list[str]]:
        """(host accounts to ask, Slack users without one): the post-mortem owners and the
        commander, in that order."""
        people = [*self.incidents.owners(incident), incident.commander_id]
        people = list(dict.fromkeys(people))
        asked = [self.accounts[p] for p in people if p in self.accounts]
        return list(dict.fromkeys(asked)), [p for p in people if p not in self.accounts]

    @staticmethod
    def title(incident: Incident) -> str:
        return f"{incident.hotfix_id} post-mortem: {incident.title}"

    @staticmethod
    def body(incident: Incident, postmortem: str, points: Sequence[str]) -> str:
        """The pull request's body (Markdown): the post-mortem's first section (its summary),
        the open points, and what merging does."""
        parts = postmortem.split("\n## ")
        summary = parts[1].strip() if len(parts) > 1 else ""
        if len(summary) > BODY_SUMMARY_CHARS:
            summary = summary[: BODY_SUMMARY_CHARS - 1] + "…"
        lines = [f"## {summary}" if summary else "", ""]
        if points:
            lines += [f"### Open points ({len(points)})", ""]
            lines += [f"- {p}" for p in points]
        else:
            lines += ["### Open points", "", "None: every section is written."]
        lines += [
            "",
            f"Merging this pull request publishes the {incident.hotfix_id} post-mortem "
            "(postmortem-bot notices the merge and tells the incident channel).",
        ]
        return "\n".join(lines).strip() + "\n"

    def opened(
        self, review: Review, number: int | None, url: str, by: str, at: datetime
    ) -> Review | None:
        return self.store.open_review(review, number=number, url=url, by=by, at=at)

    def watch(self, branches: Branches, is_closed: IsClosed) -> list[Found]:
        """On the git thread: fetch, then each round not merged yet: merged (any style), or,
        if its pull request is open, closed without merging (`is_closed`, the host's word;
        without one, its branch deleted). Each is recorded once, whoever else watches; a
        merge is published and told once, also when the process that noticed it stopped
        before it could."""
        reviews = self.store.watched_reviews()
        if reviews:
            try:
                branches.fetch()
            except GitError as exc:
                logger.warning("review watch: %s", exc)
                reviews = []
        found: list[Found] = []
        for review in reviews:
            incident = self.store.incident(review.team_id, review.incident_id)
            if incident is None:
                continue
            try:
                merge = branches.merged(review.branch, f"{incident.hotfix_id}/postmortem.md")
            except GitError as exc:
                logger.warning("review watch of %s: %s", review.branch, exc)
                continue
            if merge is not None:
                self._record(review, merge)
            elif review.status == OPEN:
                how = is_closed(review)
                if how is None and not branches.on_remote(review.branch):
                    how = "closed: its branch was deleted without a merge"
                if how and self.store.close_review(review, self.incidents.clock()):
                    found.append(Closed(incident, review, how))
        for review in self.store.unannounced_merges():
            if (done := self._publish(review)) is not None:
                found.append(done)
        return found

    def _record(self, review: Review, merge: Merge) -> None:
        now = self.incidents.clock()
        self.store.merge_review(review, commit=merge.commit, by=merge.by, at=merge.at, noticed=now)

    def _publish(self, review: Review) -> Merged | None:
        """A recorded merge: the post-mortem published (if the incident is resolved and not
        published yet), then told once."""
        incident = self.store.incident(review.team_id, review.incident_id)
        if incident is None:
            return None
        published = incident.published_at is not None
        if not published and incident.status is Status.RESOLVED:
            try:
                fresh = self.incidents.publish(incident, review.opened_by or "")
                incident, published = fresh or incident, fresh is not None
            except BotError as error:  # reopened or published a moment ago
                logger.info("merge of %s not published: %s", review.branch, error)
        if not self.store.claim_announcement(review):
            return None
        return Merged(incident, review, published)
