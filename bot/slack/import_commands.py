"""`/timeline import`: the commander reviews the incident channel's history in a modal, page by
page, and keeps the messages ticked, with their own times and authors."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.access import check_may_change
from bot.entries import Timeline
from bot.errors import BotError, NotAllowed, UsageError
from bot.incidents import Incidents
from bot.models import Incident
from bot.proposals import Proposal, propose
from bot.slack.audience import Asker
from bot.slack.directory import Directory
from bot.slack.drafting import Drafting
from bot.slack.failures import FAILURES, Told, reason
from bot.slack.history import HistoryRefused, posted, read_channel
from bot.slack.import_blocks import build_note, build_page, build_reading, paginate, ticked
from bot.slack.payloads import Command, error_text, team_of
from bot.slack.text import mention
from bot.slack.views import open_view
from bot.store_imports import Import

logger = logging.getLogger(__name__)

AGAIN = "Type `/timeline import` again."


def is_import(body: dict[str, Any]) -> bool:
    """Bolt matcher: `/timeline import` (and nothing after it: `/timeline import the dump`
    is an entry)."""
    return str(body.get("text") or "").strip().lower() == "import"


def is_not_import(body: dict[str, Any]) -> bool:
    """Bolt matcher of every other `/timeline` (each request goes to one listener)."""
    return not is_import(body)


def check_commander(incident: Incident, user_id: str) -> None:
    """NotAllowed naming the commander unless `user_id` commands the incident now."""
    if user_id != incident.commander_id:
        raise NotAllowed(
            f"<@{incident.commander_id}> commands {incident.hotfix_id}; only they can import "
            "the channel's history into the timeline. Ask them, or keep one message with the "
            "*Add to timeline* shortcut."
        )


class TimelineImport:
    def __init__(self, incidents: Incidents, timeline: Timeline, drafting: Drafting) -> None:
        self.incidents = incidents
        self.store = incidents.store
        self.timeline = timeline
        self.drafting = drafting

    # --- the command: read, propose, show page 1 ---------------------------------------------

    def handle_import(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """`/timeline import`: the form opens at once; the history is read after the ack,
        and the form then shows the first page of proposals. Failures reach the person
        (the form says so too, if it is still open)."""
        command = Command.from_body(body, self.store)
        try:
            incident = self.incidents.in_channel(
                command.team_id, command.channel_id, "`/timeline import`", user_id=command.user_id
            )
            check_commander(incident, command.user_id)
        except BotError as error:
            ack(response_type="ephemeral", text=f":warning: {error_text(error)}")
            return
        since = min(self.timeline.began(incident), incident.started_at)
        ack()
        view_id = open_view(
            client, command.trigger_id, build_reading(command.channel_id, since), AGAIN
        )
        import_id = self.store.start_import(
            incident.team_id, incident.id, command.user_id, self.incidents.clock()
        )
        self.store.import_view(incident.team_id, import_id, view_id)
        try:
            messages = read_channel(client, command.channel_id, since)
        except HistoryRefused as refused:
            self.store.end_import(incident.team_id, import_id, "failed", self.incidents.clock())
            self._show(client, view_id, build_note(str(refused)), quiet=True)
            raise
        directory = Directory(self.store, client, incident.team_id)
        kept = self.store.in_timeline(incident.team_id, incident.id, command.channel_id)
        proposals = propose(
            posted(messages, directory, (context.bot_id, context.bot_user_id)),
            kept,
            {e.milestone for e in self.timeline.entries(incident) if e.milestone},
        )
        pages = paginate(proposals)
        if not self.store.save_proposals(incident.team_id, import_id, pages):
            return  # a newer `/timeline import` replaced this one: its form shows
        if not proposals:
            self.store.end_import(incident.team_id, import_id, "done", self.incidents.clock())
            self._show(
                client,
                view_id,
                build_note(
                    f"Nothing to propose: of the {len(messages):,} messages since "
                    f"{since:%H:%M} UTC, none is someone's message or an alert that is not "
                    "in the timeline already. `/timeline` lists the entries."
                ),
            )
            return
        state = self.store.get_import(incident.team_id, import_id)
        assert state is not None
        self._show(client, view_id, self._page(state, incident, 1))

    def _show(
        self, client: WebClient, view_id: str, view: dict[str, Any], quiet: bool = False
    ) -> None:
        """views.update of the import's form. Told (the person hears it) when Slack refuses,
        unless `quiet` (the person hears about a failure already)."""
        try:
            client.views_update(view_id=view_id, view=view)
        except FAILURES as exc:
            why = reason(exc)
            logger.warning("views.update of the import refused: %s", why)
            if not quiet:
                raise Told(
                    f":warning: The messages to import were read, but the form could not show "
                    f"them (Slack said `{why}`; closed already?). {AGAIN}"
                ) from exc

    def _page(self, state: Import, incident: Incident, page: int) -> dict[str, Any]:
        rows = self.store.proposals_on(state.id, page)
        before = self.store.proposals_on(state.id, page - 1)[-1:] if page > 1 else []
        continued = bool(before and rows) and (
            before[0][1].at.replace(minute=0, second=0, microsecond=0)
            == rows[0][1].at.replace(minute=0, second=0, microsecond=0)
        )
        meta = {"import": state.id, "page": page, "channel": incident.channel_id}
        return build_page(
            meta,
            incident.hotfix_id,
            rows,
            state.pages,
            self.store.proposal_counts(state.id, page),
            continued,
        )

    # --- a page submitted ---------------------------------------------------------------------

    def handle_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        """A page's submission: what is ticked on it is chosen, and the next page shows; or
        (the last page, "keep the pre-selected of the rest", "nothing more") the chosen
        messages are kept. Checked now: the import still open at this page (a stale or
        repeated submission changes nothing), the person still its incident's commander."""
        team_id = team_of(body)
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        state = self.store.get_import(team_id, int(meta.get("import", 0)))
        incident = self.store.incident(team_id, state.incident_id) if state else None
        if state is None or incident is None:
            raise UsageError("That incident is gone: there is nothing to import into.")
        check_may_change(self.store, incident, user_id)
        check_commander(incident, user_id)
        page = int(meta.get("page", 0))
        on_page = {position for position, _ in self.store.proposals_on(state.id, page)}
        positions, then = ticked(view)
        now = self.store.submit_page(
            team_id,
            state.id,
            page,
            positions & on_page,
            then if then in ("rest", "stop") else "next",  # type: ignore[arg-type]
        )
        if now is None:  # stale: already submitted (a double click), replaced or finished
            current = self.store.get_import(team_id, state.id)
            if current and current.status == "open" and current.page > page:
                ack(response_action="update", view=self._page(current, incident, current.page))
                return
            raise UsageError(
                "This form is out of date (its page was submitted already, or a newer "
                "`/timeline import` replaced it); nothing was kept twice. Close it; "
                f"`/timeline` lists the entries. {AGAIN}"
            )
        if now.status == "open":
            ack(response_action="update", view=self._page(now, incident, now.page))
            return
        ack()
        self._keep(client, now, incident, user_id)

    def _keep(self, client: WebClient, state: Import, incident: Incident, user_id: str) -> None:
        """Keep the chosen messages (own times and authors; milestones suggested marked), say
        so once in the channel, and answer the commander."""
        chosen = self.store.chosen(state.id)
        added: list[Proposal] = []
        for proposal in chosen:
            # keep_message marks the milestone a text starts with (`root-cause: ...`), and keeps
            # the text after it: the message's own words
            text = (
                f"{proposal.milestone.value}: {proposal.text}"
                if proposal.milestone
                else proposal.text
            )
            _, new = self.timeline.keep_message(
                incident,
                author_id=proposal.author_id,
                at=proposal.at,
                text=text,
                message_ts=proposal.ts,
                by=user_id,
            )
            if new:
                added.append(proposal)
        self.store.end_import(
            incident.team_id, state.id, "done", self.incidents.clock(), kept=len(added)
        )
        marked = [p.milestone.label for p in added if p.milestone]
        milestones = f" ({len(marked)} marked: {', '.join(marked)})" if marked else ""
        if added:
            self.drafting.audience.post(
                client,
                incident,
                [Asker(user_id)],
                f":inbox_tray: {mention(user_id)} kept {len(added):,} message(s) of this channel "
                f"in {incident.hotfix_id}'s timeline, with their own times and authors"
                f"{milestones}. `/timeline` lists them.",
            )
        answer = (
            f":white_check_mark: Kept {len(added):,} of the {len(chosen):,} message(s) you chose"
            f"{milestones}."
            if added
            else ":information_source: Nothing was kept: no message was chosen (or they were "
            "in the timeline already)."
        )
        self._answer(client, incident, user_id, answer)

    def _answer(self, client: WebClient, incident: Incident, user_id: str, text: str) -> None:
        """Only the commander sees it: in the channel, else by DM."""
        try:
            client.chat_postEphemeral(channel=incident.channel_id or "", user=user_id, text=text)
        except FAILURES as exc:
            logger.warning("the import's answer: %s", reason(exc))
            self.drafting.audience.tell(client, incident, [Asker(user_id)], text)
