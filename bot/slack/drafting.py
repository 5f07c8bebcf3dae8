"""Posting drafts: names from Slack, the commit, the file upload saying where the draft really
is, the checklist kept current; requests that come together make one draft; and who hears it
when Slack or the repository says no (bot/slack/audience.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.drafts import Draft, Drafts
from bot.errors import BotError
from bot.models import Incident, Status
from bot.publish import Refused
from bot.publisher import Publisher
from bot.retro import Retro
from bot.reviews import FINAL
from bot.slack.audience import Asker, Audience
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.slack.repo_notices import Pending, RepoNotices
from bot.slack.retro_blocks import build_checklist, draft_summary
from bot.slack.text import escape, mention

logger = logging.getLogger(__name__)

GIT_WAIT_S = 10.0  # a draft waits this long for git, to say where it is; then it is posted
Request = tuple[Asker, bool]  # who asked, and whether for the final version


class Drafting:
    """The Web API and git work of a draft, done after the ack."""

    def __init__(
        self,
        drafts: Drafts,
        retro: Retro,
        publisher: Publisher,
        where: str,
        pacer: Pacer,
        repo: str = "",
    ) -> None:
        self.drafts = drafts
        self.pacer = pacer
        self.retro = retro
        self.store = drafts.store
        self.publisher = publisher
        self.where = where  # how people find the repository, e.g. "git@host:team/pm.git (main)"
        self.audience = Audience(pacer)
        self.notices = RepoNotices(self.store, self.audience, publisher.repo.workdir, where, repo)
        # review mode (bot/reviews.py): the branch each draft goes to; None: the base branch
        self.branch_for: Callable[[Incident], str | None] = lambda incident: None
        self.reviewing = False  # review mode: the checklist offers "Ready for review"
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, int], list[Request]] = {}  # incident -> next draft's
        self._told: set[tuple[str, int, str]] = set()  # checklist failures the commander knows
        self._posting = threading.Lock()
        # one checklist update at a time per incident, each from the state it reads: else an
        # update that read before a change could land after the change's own update
        self._updating: dict[tuple[str, int], threading.Lock] = {}

    def _learn_names(self, client: WebClient, incident: Incident) -> None:
        """Real names of everyone the draft mentions, asked of Slack once and kept."""
        pm = self.drafts.load(incident)
        ids = pm.participants() + [a.owner_id for a in pm.actions if a.owner_id]
        for user_id in self.store.missing_real_names(incident.team_id, ids):
            try:
                user = client.users_info(user=user_id)["user"]
            except FAILURES as exc:
                logger.warning("users.info %s: %s", user_id, reason(exc))
                continue
            real = user.get("real_name") or user.get("profile", {}).get("real_name") or user["name"]
            self.store.remember_user(incident.team_id, user_id, user["name"], real)

    def _learn_speakers(self, client: WebClient, incident: Incident) -> None:
        """People who spoke in the incident channel are participants too."""
        if not incident.channel_id:
            return
        try:
            history = client.conversations_history(channel=incident.channel_id, limit=1000)
        except FAILURES as exc:
            logger.warning("conversations.history: %s", reason(exc))
            return
        messages: list[dict[str, Any]] = history.get("messages", [])
        speakers = [
            m["user"]
            for m in messages
            if m.get("user") and not m.get("bot_id") and not m.get("subtype")
        ]
        self.drafts.add_speakers(incident, list(dict.fromkeys(reversed(speakers))))

    def post(
        self,
        client: WebClient,
        incident: Incident,
        user_id: str,
        final: bool = False,
        respond: Respond | None = None,
    ) -> None:
        """Render the draft, commit it, upload it with a summary that says where it is.

        Requests for an incident whose draft is being made wait and are made into the next
        draft, one for all of them (its message names who asked): none is lost, whatever comes
        at once. What Slack refuses reaches who asked (`respond`, their response_url, or a DM).
        """
        key = (incident.team_id, incident.id)
        batch: list[Request] = [(Asker(user_id, respond), final)]
        with self._lock:
            if key in self._waiting:  # a draft of it is being made: this one comes next
                self._waiting[key] += batch
                return
            self._waiting[key] = []
        while batch:
            try:
                incident = self.store.incident(*key) or incident  # as it is now
                self._draft(client, incident, batch)
            except Exception:  # the requests waiting behind this one still get their draft
                logger.exception("draft of %s failed", incident.hotfix_id)
                self.audience.tell(
                    client,
                    incident,
                    [asker for asker, _ in batch],
                    f":warning: The {incident.hotfix_id} draft failed on our side; nothing was "
                    "posted. `/incident draft` tries again.",
                )
            with self._lock:
                batch = self._waiting.pop(key)
                if batch:
                    self._waiting[key] = []

    def _draft(self, client: WebClient, incident: Incident, batch: list[Request]) -> None:
        askers = [asker for asker, _ in batch]
        final = any(final for _, final in batch)
        self._learn_speakers(client, incident)
        self._learn_names(client, incident)
        try:
            draft = self.drafts.make(incident, askers[0].user_id, final=final)
        except BotError as error:
            self.audience.post(
                client, incident, askers, f":warning: No draft: {escape(str(error))}"
            )
            return
        kind = "final post-mortem" if final else f"post-mortem draft {draft.version}"
        message = f"{incident.hotfix_id}: {kind}\n\n{incident.title}\n\nPosted by postmortem-bot."
        branch = self.branch_for(incident)
        if branch == FINAL:  # merged: the repository's file is final, never overwritten
            where = (
                f"Not committed: the merged `{incident.hotfix_id}/postmortem.md` in "
                f"{self.where} is the published version (`/incident reopen` starts a new review)."
            )
        else:
            pending = Pending()
            self.publisher.submit(
                draft.files,
                message,
                lambda outcome: self.notices.committed(client, incident, pending, outcome),
                branch,
            )
            where = self.notices.whereabouts(incident, pending.wait(GIT_WAIT_S))
        summary = draft_summary(draft, where)
        if len(batch) > 1:
            people = ", ".join(mention(u) for u in dict.fromkeys(a.user_id for a in askers))
            summary += (
                f"\nOne draft for {len(batch)} requests that came in together (from {people})."
            )
        self._upload(client, incident, draft, askers, summary, where)

    def _upload(
        self,
        client: WebClient,
        incident: Incident,
        draft: Draft,
        askers: list[Asker],
        summary: str,
        where: str,
    ) -> None:
        title = f"{incident.hotfix_id} post-mortem" + (
            "" if draft.final else f" (draft {draft.version})"
        )
        error = "no channel"  # Slack did not create it
        if incident.channel_id:
            try:
                client.files_upload_v2(
                    channel=incident.channel_id,
                    content=draft.postmortem,
                    filename=f"{incident.hotfix_id}-postmortem.md",
                    title=title,
                    initial_comment=summary,
                )
                return
            except FAILURES as exc:
                error = reason(exc)
        logger.warning("draft upload for %s failed: %s", incident.hotfix_id, error)
        why = self.audience.why(client, incident.channel_id or "", error)
        # each person who asked gets the file in their DM with the bot instead
        sent = [
            a.user_id
            for a in {a.user_id: a for a in askers}.values()
            if self._to_dm(client, a.user_id, draft, title, summary)
        ]
        instead = (
            "It is in your DM with me instead."
            if sent
            else f"`/incident draft {incident.hotfix_id}` in a DM with me sends it there."
        )
        self.audience.tell(
            client,
            incident,
            askers,
            f":warning: The {title} is not posted in the channel: {why}. {instead}\n{where}",
        )

    def _to_dm(
        self, client: WebClient, user_id: str, draft: Draft, title: str, summary: str
    ) -> bool:
        """The draft as a file in the DM between `user_id` and the bot; False if Slack says no."""
        try:
            dm = client.conversations_open(users=user_id)["channel"]["id"]
            client.files_upload_v2(
                channel=dm,
                content=draft.postmortem,
                filename=f"{draft.incident.hotfix_id}-postmortem.md",
                title=title,
                initial_comment=summary,
            )
            return True
        except FAILURES as exc:
            logger.warning("draft to the DM of %s failed: %s", user_id, reason(exc))
            return False

    def pushed(self, client: WebClient) -> None:
        """A delayed push went through (Publisher.on_pushed): see RepoNotices.pushed."""
        self.notices.pushed(client)

    def refused(self, client: WebClient, refused: Refused, times: int) -> None:
        """The remote refused a push (Publisher.on_refused): see RepoNotices.refused."""
        self.notices.refused(client, refused, times)

    def refresh_checklist(
        self, client: WebClient, incident: Incident, askers: list[Asker] | None = None
    ) -> None:
        """Update the checklist message in place. A resolved incident without one (Slack
        refused it, or the database was busy, when it was resolved) gets it posted now. If
        Slack refuses, the askers hear it; with none, the commander, once until an update
        works again."""
        with self._posting:  # two changes at once post one missing checklist
            incident = self.store.incident(incident.team_id, incident.id) or incident
            if not incident.channel_id:
                return
            if not incident.checklist_ts:
                if incident.status is Status.RESOLVED and incident.published_at is None:
                    self.post_checklist(client, incident, askers)
                return
        with self._lock:
            updating = self._updating.setdefault((incident.team_id, incident.id), threading.Lock())
        try:
            with updating:
                client.chat_update(
                    channel=incident.channel_id,
                    ts=incident.checklist_ts,
                    text=f"Post-mortem checklist of {incident.hotfix_id}",
                    blocks=self._checklist(incident),
                )
        except FAILURES as exc:
            error = reason(exc)
            logger.warning("checklist of %s not updated: %s", incident.hotfix_id, error)
            told = (incident.team_id, incident.id, error)
            if not askers and told in self._told:
                return
            self._told.add(told)
            why = self.audience.why(client, incident.channel_id, error)
            text = f":warning: The {incident.hotfix_id} post-mortem checklist is not up to date: "
            self.audience.tell(client, incident, askers or [], f"{text}{why}.")
            return
        self._told = {t for t in self._told if t[:2] != (incident.team_id, incident.id)}

    def _checklist(self, incident: Incident) -> list[dict[str, Any]]:
        reviewing = self.reviewing
        review = self.store.review(incident) if reviewing else None
        states, actions = self.retro.states(incident), self.retro.actions(incident)
        return build_checklist(incident, states, actions, review, reviewing)

    def post_checklist(
        self, client: WebClient, incident: Incident, askers: list[Asker] | None = None
    ) -> Incident:
        """Post the checklist and keep its ts; if Slack refuses, the askers (or the commander)
        hear why, and the incident is returned as it was."""
        assert incident.channel_id
        try:
            posted = self.pacer.post(
                client,
                channel=incident.channel_id,
                text=f"Post-mortem checklist of {incident.hotfix_id}",
                blocks=self._checklist(incident),
            )
        except FAILURES as exc:
            why = self.audience.why(client, incident.channel_id, reason(exc))
            self.audience.tell(
                client,
                incident,
                askers or [],
                f":warning: The {incident.hotfix_id} post-mortem checklist is not posted: {why}.",
            )
            return incident
        try:
            return self.store.update_incident(
                incident.team_id,
                incident.id,
                at=self.drafts.clock(),
                user_id="",
                checklist_ts=posted["ts"],
            )
        except BotError:  # not kept (a busy database): not left either, the next change posts it
            try:
                client.chat_delete(channel=incident.channel_id, ts=posted["ts"])
            except FAILURES as exc:
                logger.warning(
                    "checklist of %s not taken back: %s", incident.hotfix_id, reason(exc)
                )
            raise
