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
from bot.slack.import_blocks import (
    Threads,
    build_note,
    build_page,
    build_reading,
    build_waiting,
    paginate,
    ticked,
)
from bot.slack.import_threads import STOPPED, Job, ThreadReaders, read_first
from bot.slack.payloads import Command, error_text, team_of
from bot.slack.text import mention
from bot.slack.views import open_view
from bot.store.imports import Import

logger = logging.getLogger(__name__)

AGAIN = "Type `/timeline import` again."
REPLACED = (
    "A newer `/timeline import` replaced this one: its form shows the messages to keep. "
    "You can close this one."
)


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
        self.readers = ThreadReaders(self.store, incidents.clock)

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
            messages, parents = read_channel(client, command.channel_id, since)
        except HistoryRefused as refused:
            self.store.end_import(incident.team_id, import_id, "failed", self.incidents.clock())
            self._show(client, view_id, build_note(str(refused)), quiet=True)
            raise
        first = read_first(client, command.channel_id, parents)
        own = (context.bot_id, context.bot_user_id)
        directory = Directory(self.store, client, incident.team_id)
        kept = self.store.in_timeline(incident.team_id, incident.id, command.channel_id)
        proposals = propose(
            posted(messages + first.replies, directory, own),
            kept,
            {e.milestone for e in self.timeline.entries(incident) if e.milestone},
        )
        pages = paginate(proposals)
        if not self.store.save_proposals(
            incident.team_id, import_id, pages, len(first.left), first.unread
        ):
            self._show(client, view_id, build_note(REPLACED), quiet=True)
            return
        if not proposals and not first.left:
            self.store.end_import(incident.team_id, import_id, "done", self.incidents.clock())
            unread = first.unread[0]
            self._show(
                client,
                view_id,
                build_note(
                    f"Nothing to propose: of the {len(messages):,} messages since "
                    f"{since:%H:%M} UTC, none is someone's message or an alert that is not "
                    "in the timeline already. `/timeline` lists the entries."
                    + (
                        f" ({unread:,} thread(s) could not be read: `{first.unread[1]}`.)"
                        if unread
                        else ""
                    )
                ),
            )
            return
        state = self.store.get_import(incident.team_id, import_id)
        assert state is not None
        self._show(client, view_id, self._page(state, incident, 1))
        if first.left:
            self.readers.start(
                Job(
                    client,
                    incident.team_id,
                    import_id,
                    command.channel_id,
                    first.left,
                    lambda replies: self._later(incident, import_id, replies, directory, own),
                    lambda now, _: self._moved(client, now, incident),
                )
            )

    def _later(
        self,
        incident: Incident,
        import_id: int,
        replies: list[dict[str, Any]],
        directory: Directory,
        own: tuple[str | None, str | None],
    ) -> list[list[Proposal]]:
        """Pages of the thread replies read after page 1 that are worth proposing and not
        proposed yet (nor in the timeline by now)."""
        proposed, suggested = self.store.proposed(import_id)
        kept = self.store.in_timeline(incident.team_id, incident.id, incident.channel_id or "")
        milestones = {e.milestone for e in self.timeline.entries(incident) if e.milestone}
        found = propose(posted(replies, directory, own), kept | proposed, milestones | suggested)
        return [page for page in paginate(found) if page]

    def _moved(self, client: WebClient, state: Import, incident: Incident) -> None:
        """The import stopped waiting for thread replies: its form shows the next page, or
        (nothing more to show, or the rest kept as chosen) the chosen messages are kept."""
        if state.status == "open":
            self._show(client, state.view_id or "", self._page(state, incident, state.page), True)
        elif state.status == "keeping":
            answer = self._keep(client, state, incident, state.user_id)
            if answer:
                self._show(client, state.view_id or "", build_note(answer), True)

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
        threads = Threads(
            state.threads_left,
            state.threads_unread,
            state.unread_why,
            later=page > state.first_pages,
        )
        if state.status == "waiting":
            chosen = len(self.store.chosen(state.id))
            return build_waiting(meta, chosen, threads, state.rest)
        return build_page(
            meta,
            incident.hotfix_id,
            rows,
            state.pages,
            self.store.proposal_counts(state.id, page),
            continued,
            threads,
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
        if state.threads_left and not self.readers.alive(state.id):
            lost = self.store.lose_threads(team_id, state.id, STOPPED)
            state = lost[0] if lost else state
        if meta.get("waiting"):
            self._check(ack, client, state, incident, page)
            return
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
        if now.status in ("open", "waiting"):
            ack(response_action="update", view=self._page(now, incident, now.page))
            return
        ack()
        self._keep(client, now, incident, user_id)

    def _check(
        self, ack: Ack, client: WebClient, state: Import, incident: Incident, page: int
    ) -> None:
        """ "Check now" on the waiting form: the next page if its replies came, the waiting
        form again while they are read, or (nothing more comes) the chosen ones kept."""
        if state.status in ("open", "waiting") and state.page == page:
            ack(response_action="update", view=self._page(state, incident, page))
        elif state.status == "keeping":
            ack()
            self._keep(client, state, incident, state.user_id)
        else:
            raise UsageError(
                "This form is out of date (the import was kept, stopped or replaced); nothing "
                f"was kept twice. Close it; `/timeline` lists the entries. {AGAIN}"
            )

    def _keep(
        self, client: WebClient, state: Import, incident: Incident, user_id: str
    ) -> str | None:
        """Keep the chosen messages (own times and authors; milestones suggested marked), say
        so once in the channel, and answer the commander (and say so in the form, if it
        waits). Once per import, whoever gets here first."""
        if not self.store.start_keeping(incident.team_id, state.id):
            return None
        chosen = self.store.chosen(state.id)
        added: list[Proposal] = []
        for proposal in chosen:
            kept = self.timeline.keep_message(
                incident,
                author_id=proposal.author_id,
                at=proposal.at,
                text=proposal.text,
                message_ts=proposal.ts,
                by=user_id,
                how="import",
                milestone=proposal.milestone,
            )
            if kept.new:
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
        now = self.store.get_import(incident.team_id, state.id) or state
        if now.threads_unread:
            answer += (
                f" {now.threads_unread:,} thread(s) were not read ({now.unread_why}): type "
                "`/timeline import` again to have their replies proposed."
            )
        self.drafting.audience.whisper(client, incident.channel_id or "", user_id, answer)
        return answer
