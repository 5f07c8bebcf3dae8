"""Review mode in Slack (POSTMORTEM_REVIEW=pull-request): `/incident publish` and the checklist's
"Ready for review" open the pull request (with a host token) or give the page that opens one;
the watcher's findings reach the channel: a merge publishes (who, when, the link), a pull
request closed unmerged makes it a draft again, and reviewers' comments come to its thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import BotError, UsageError
from bot.hosts import Host, HostError, HostRepo, new_pull_request_link
from bot.models import Incident, Status
from bot.publish import GitError
from bot.publisher import Publisher
from bot.reminders import Reminders
from bot.reviews import FINAL, Closed, Merged, Reviews
from bot.slack.audience import Asker
from bot.slack.drafting import Drafting
from bot.slack.failures import FAILURES, reason
from bot.slack.payloads import Command, error_text, team_of
from bot.slack.text import date, escape, mention
from bot.store.reviews import MERGED, OPEN, Review

logger = logging.getLogger(__name__)

GIT_WAIT_S = 30.0  # how long opening a pull request waits for the draft's push
COMMENT_CHARS = 1500  # a relayed comment's words, at most

RefreshHome = Callable[[WebClient, str, str], None]  # client, team_id, user_id


class Reviewing:
    """`base`: the branch pull requests go to; `host` the host's API (a token given) and
    `where` the repository on its host (for the page that opens a pull request), each None
    where unknown."""

    def __init__(
        self,
        reviews: Reviews,
        drafting: Drafting,
        reminders: Reminders,
        publisher: Publisher,
        host: Host | None,
        where: HostRepo | None,
        refresh_home: RefreshHome = lambda client, team_id, user_id: None,
    ) -> None:
        self.reviews = reviews
        self.incidents = reviews.incidents
        self.store = reviews.store
        self.drafting = drafting
        self.reminders = reminders
        self.publisher = publisher
        self.base = publisher.repo.branch
        self.host = host
        self.where = where
        self.refresh_home = refresh_home

    # --- opening ---------------------------------------------------------------------------

    def publish(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        """`/incident publish` in review mode: the draft goes to its branch, then the pull
        request opens (or its page is given). Nothing is published until it is merged."""
        incident, _ = self.incidents.about(
            command.team_id, command.channel_id, command.user_id, command.args[1:], "`/incident`"
        )
        refusal = self._may_open(incident, command.user_id)
        if refusal:
            raise UsageError(refusal)
        ack(
            response_type="ephemeral",
            text=f":hourglass_flowing_sand: Putting the {incident.hotfix_id} post-mortem up for "
            "review: its draft goes to its branch, then the pull request opens.",
        )
        self.open(client, incident, command.user_id, respond)

    def handle_ready_button(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """The checklist's "Ready for review": as `/incident publish`, decided as things are
        at the click (who clicks, the incident's state), not as they were when it was shown."""
        ack()
        user_id = body["user"]["id"]
        try:
            incident = self.incidents.in_channel(team_of(body), body["channel"]["id"])
        except BotError as error:
            respond(response_type="ephemeral", replace_original=False, text=error_text(error))
            return
        refusal = self._may_open(incident, user_id)
        if refusal:
            respond(response_type="ephemeral", replace_original=False, text=f":warning: {refusal}")
            return
        self.open(client, incident, user_id, respond)

    def _may_open(self, incident: Incident, user_id: str) -> str | None:
        channel = incident.channel_id
        if not (channel and self.store.is_member(incident.team_id, channel, user_id)):
            return (
                f"Only people in the incident channel can put the {incident.hotfix_id} "
                "post-mortem up for review; nothing was done."
            )
        if incident.status is not Status.RESOLVED:
            return "Resolve the incident first (`/incident resolve`), then `/incident publish`."
        review = self.store.review(incident)
        if review and review.status == OPEN:
            return (
                f"The {incident.hotfix_id} post-mortem is in review already: {review.url}. "
                "Merging it publishes the post-mortem."
            )
        if review and review.status == MERGED and incident.published_at:
            return (
                f"The {incident.hotfix_id} post-mortem was merged and published "
                f"({date(incident.published_at)}). `/incident reopen` starts a new review."
            )
        return None

    def open(
        self, client: WebClient, incident: Incident, user_id: str, respond: Respond | None
    ) -> None:
        """After the ack: the latest draft to its branch, the branch checked on the remote,
        then the pull request. Whatever fails reaches the person who asked."""
        askers = [Asker(user_id, respond)]
        self.drafting.post(client, incident, user_id, respond=respond)
        branch = self.reviews.branch_for(incident)
        review = self.store.review(incident)
        if branch == FINAL or review is None:
            return
        pushed: Future[bool] = Future()
        self.publisher.run(lambda: pushed.set_result(self._on_remote(branch)))
        try:
            on_remote = pushed.result(GIT_WAIT_S)
        except TimeoutError:
            on_remote = False
        if not on_remote:
            self.drafting.audience.tell(
                client,
                incident,
                askers,
                f":warning: `{branch}` is not in the repository (yet): no pull request was "
                "opened. The draft's message says why; `/incident publish` again once it is.",
            )
            return
        try:
            number, url, note = self._pull_request(incident, branch)
        except HostError as error:
            self.drafting.audience.tell(
                client,
                incident,
                askers,
                f":warning: No pull request was opened for `{branch}`: {escape(str(error))}",
            )
            return
        opened = self.reviews.opened(review, number, url, user_id, self.incidents.clock())
        if opened is None:  # opened a moment ago by someone else: their message says so
            return
        self._announce(client, incident, opened, user_id, note, askers)

    def _on_remote(self, branch: str) -> bool:  # on the git thread
        try:
            self.publisher.branches.fetch()
        except GitError as exc:  # unreachable: the person hears no pull request was opened
            logger.warning("fetch before the pull request: %s", exc)
            return False
        return self.publisher.branches.on_remote(branch)

    def _pull_request(self, incident: Incident, branch: str) -> tuple[int | None, str, str]:
        """(number, url, a note for the channel). Raises HostError."""
        accounts, unmapped = self.reviews.reviewers(incident)
        if self.host is None:
            url = new_pull_request_link(self.where, branch, self.base) if self.where else None
            note = (
                "Open it, ask the reviewers, and merge it when the team agrees."
                if url
                else f"Open a pull request from `{branch}` to `{self.base}` on your git host."
            )
            return None, url or "", note
        final, _, points = self.drafting.drafts.render(incident)
        pr = self.host.open_pull_request(
            head=branch,
            base=self.base,
            title=self.reviews.title(incident),
            body=self.reviews.body(incident, final, points),
            reviewers=accounts,
        )
        asked = [a for a in accounts if a not in pr.refused_reviewers]
        note = (
            f"Reviewers asked: {', '.join(f'`{a}`' for a in asked)}."
            if asked
            else ("No reviewers asked: the repository's code owners rules choose them.")
        )
        if pr.review_error:
            note += f" Not asked: {', '.join(pr.refused_reviewers)} ({pr.review_error})."
        elif pr.refused_reviewers:
            note += f" Not asked (the host refused): {', '.join(pr.refused_reviewers)}."
        if unmapped and accounts:
            note += " (Others have no account in REVIEWER_ACCOUNTS.)"
        return pr.number, pr.url, note

    def _announce(
        self,
        client: WebClient,
        incident: Incident,
        review: Review,
        user_id: str,
        note: str,
        askers: list[Asker],
    ) -> None:
        route = f"`{review.branch}` → `{self.base}`"
        if review.number:
            where = f": <{review.url}|pull request #{review.number}> ({route})"
        elif review.url:
            where = f" on `{review.branch}`: <{review.url}|open its pull request> (→ `{self.base}`)"
        else:
            where = f" on `{review.branch}`"
        text = (
            f":mag: {mention(user_id)} put the {incident.hotfix_id} post-mortem up for review"
            f"{where}. {escape(note)}\n"
            "Nothing is published yet: *merging it publishes the post-mortem*"
            + ("; review comments come to this thread." if self.host else ".")
        )
        try:
            posted = self.drafting.pacer.post(client, channel=incident.channel_id, text=text)
            self.store.announced_review(review, str(posted["ts"]))
        except FAILURES as exc:
            logger.warning("review announcement refused: %s", reason(exc))
            self.drafting.audience.tell(client, incident, askers, text)
        self.drafting.refresh_checklist(client, incident, askers)

    # --- what the watcher found ------------------------------------------------------------

    def watch(self, client: WebClient) -> None:
        """On the git thread, each minute or so: merges and closings reach the channel, and
        reviewers' comments their thread."""
        if self.host is not None:  # first: comments made just before a merge still come
            for review in self.store.watched_reviews():
                if review.status == OPEN and review.number and review.thread_ts:
                    self._relay(client, review)
        for found in self.reviews.watch(self.publisher.branches, self._closed_on_host):
            if isinstance(found, Merged):
                self._merged(client, found)
            elif isinstance(found, Closed):
                self._closed(client, found)

    def _closed_on_host(self, review: Review) -> str | None:
        """How the host says the pull request ended without reaching the base branch, ""
        while it has not, None without a token (or while the host does not answer: "")."""
        if self.host is None or not review.number:
            return None
        try:
            pr = self.host.pull_request(review.number)
        except HostError as error:
            logger.warning("pull request %s: %s", review.number, error)
            return ""
        if pr.state == "closed":
            return "closed without merging"
        if pr.state == "merged" and pr.base != self.base:
            return f"merged into `{escape(pr.base)}`, not `{self.base}`, so nothing was published"
        return ""

    def _merged(self, client: WebClient, found: Merged) -> None:
        incident, review = found.incident, found.review
        by = self._merged_by(review) or review.merged_by or "someone on the host"
        at = review.merged_at
        link = f" (<{review.url}|pull request #{review.number}>)" if review.number else ""
        merged = f"{escape(by)} merged `{review.branch}` into `{self.base}`" + (
            f" {date(at)}" if at else ""
        )
        if found.published:
            self.reminders.cancel_deadline(incident)
            text = (
                f":tada: The {incident.hotfix_id} post-mortem is *published*: {merged}{link}. "
                f"The merged `{incident.hotfix_id}/postmortem.md` is the final version, "
                "reviewers' edits included; the bot will not change it."
            )
        else:
            text = (
                f":information_source: {merged}{link}, but {incident.hotfix_id} is open again, "
                "so nothing was published. Resolve it; `/incident publish` opens a new review."
            )
        self.drafting.audience.post(client, incident, [], text)
        self.drafting.refresh_checklist(client, incident)
        for user_id in {incident.commander_id, *self.incidents.owners(incident)}:
            self.refresh_home(client, incident.team_id, user_id)

    def _merged_by(self, review: Review) -> str | None:
        """The account that merged, as the host says (git records the pull request's author
        as a squash's author, and the host as committer): None without a token."""
        if self.host is None or not review.number:
            return None
        try:
            return self.host.pull_request(review.number).merged_by
        except HostError as error:
            logger.warning("pull request %s: %s", review.number, error)
            return None

    def _closed(self, client: WebClient, found: Closed) -> None:
        incident, how = found.incident, found.how
        self.drafting.audience.post(
            client,
            incident,
            [],
            f":leftwards_arrow_with_hook: The pull request for the {incident.hotfix_id} "
            f"post-mortem was {how}: it is a draft again. `/incident publish` opens a new one.",
        )
        self.drafting.refresh_checklist(client, incident)

    def _relay(self, client: WebClient, review: Review) -> None:
        assert self.host is not None and review.number and review.thread_ts
        incident = self.store.incident(review.team_id, review.incident_id)
        if incident is None or not incident.channel_id:
            return
        try:
            relayed = self.store.relayed_comments(review)
            comments = [c for c in self.host.comments(review.number) if c.id not in relayed]
        except HostError as error:
            logger.warning("comments of pull request %s: %s", review.number, error)
            return
        for comment in comments:
            where = f" on `{escape(comment.path)}`" if comment.path else ""
            where += f" line {comment.line}" if comment.path and comment.line else ""
            words = (
                comment.body
                if len(comment.body) <= COMMENT_CHARS
                else (comment.body[: COMMENT_CHARS - 1] + "…")
            )
            text = f"*{escape(comment.author)}*{where} (<{comment.url}|comment>):\n{escape(words)}"
            try:
                self.drafting.pacer.post(
                    client, channel=incident.channel_id, thread_ts=review.thread_ts, text=text
                )
            except FAILURES as exc:
                logger.warning("comment relay refused: %s", reason(exc))
                return  # tried again at the next watch
            self.store.relayed_comment(review, comment.id)
