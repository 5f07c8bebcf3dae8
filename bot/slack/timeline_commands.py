"""`/timeline` and the "Add to timeline" message shortcut."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.entries import EDIT_USAGE, Recorded, Timeline
from bot.errors import BotError, UsageError
from bot.incidents import Incidents
from bot.models import Entry, Incident, Milestone
from bot.reminders import Reminders
from bot.slack import timeline_blocks
from bot.slack.directory import Directory
from bot.slack.drafting import Drafting
from bot.slack.echoes import Echoes
from bot.slack.limits import page_number
from bot.slack.lookups import link_message
from bot.slack.messages import message_author, message_text
from bot.slack.payloads import Command, error_text, replies_errors, team_of
from bot.slack.text import date, decode, mention
from bot.slack.zones import Zones

logger = logging.getLogger(__name__)

WORD_HINT = (
    " To record text that starts with the word “{word}”, put the time first: "
    "`/timeline 14:05 {word} …`."
)


def _is_page(args: list[str]) -> bool:
    """`/timeline page 2` lists page 2; `/timeline page the DBA` is an entry."""
    return len(args) == 2 and args[0].lower() == "page" and args[1].isascii() and args[1].isdigit()


class TimelineCommands:
    def __init__(
        self,
        incidents: Incidents,
        timeline: Timeline,
        zones: Zones,
        echoes: Echoes,
        reminders: Reminders,
        drafting: Drafting,
    ) -> None:
        self.incidents = incidents
        self.drafting = drafting
        self.timeline = timeline
        self.store = incidents.store
        self.zones = zones
        self.echoes = echoes
        self.reminders = reminders

    def _apps(self, incident: Incident, entries: list[Entry]) -> dict[str, str]:
        team = incident.team_id
        return {
            e.author_id: self.store.real_name(team, e.author_id) or "an app"
            for e in entries
            if self.store.is_app(team, e.author_id)
        }

    @replies_errors
    def handle_timeline(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """Record (`/timeline [time] [milestone:] text`), list, edit or delete entries."""
        command = Command.from_body(body, self.store)
        args = command.args
        verb = args[0].lower() if args else ""
        incident = self.incidents.in_channel(
            command.team_id,
            command.channel_id,
            "`/timeline`",
            as_last_read=True,
            user_id=command.user_id,
        )
        zone = self.zones.source(client, command.team_id, command.user_id)
        if not args or (verb == "list" and len(args) == 1) or _is_page(args):
            entries = self.timeline.entries(incident)
            ack(
                response_type="ephemeral",
                text=f"Timeline of {incident.hotfix_id}",
                blocks=timeline_blocks.build_timeline(
                    incident,
                    entries,
                    self.store.deleted_numbers(incident),
                    self._apps(incident, entries),
                    page_number(args, "/timeline page 2") if args and verb == "page" else 1,
                ),
            )
        elif verb == "delete":
            if len(args) != 2:
                raise UsageError(EDIT_USAGE + WORD_HINT.format(word=args[0]))
            entry = self.timeline.delete(incident, command.user_id, args[1])
            shown = self.store.echo_of(command.team_id, entry.id) is not None
            ack(
                response_type="ephemeral",
                text=f":wastebasket: Deleted entry {entry.label}"
                + ("; its message in the channel now says so" if shown else "")
                + ". Its number is not used again.",
            )
            self.echoes.refresh(client, incident, entry, respond)
        elif verb == "edit":
            if len(args) < 3:
                raise UsageError(EDIT_USAGE + WORD_HINT.format(word=args[0]))
            recorded = self.timeline.edit(
                incident, command.user_id, args[1], command.text_after(2), zone
            )
            self._changed(ack, client, respond, command, recorded)
        else:
            recorded = self.timeline.record(incident, command.user_id, decode(command.raw), zone)
            if recorded.changed:
                self._changed(ack, client, respond, command, recorded)
            else:
                ack()  # the echo that follows is the answer
                self.echoes.post(client, incident, recorded.entry, respond)

    def _changed(
        self,
        ack: Ack,
        client: WebClient,
        respond: Respond,
        command: Command,
        recorded: Recorded,
    ) -> None:
        """An entry changed in place: a moved beginning or resolution is said in the channel
        (without its text); an edit only to the person, and in the entry's own message."""
        entry, incident, previous = recorded.entry, recorded.incident, recorded.previous
        now = self.incidents.clock()
        if entry.milestone is Milestone.RESOLVED:
            self.reminders.plan_for(incident)  # the deadline moved with the resolution
        if entry.milestone in (Milestone.BEGAN, Milestone.RESOLVED):
            due = (
                f" The post-mortem is now due {date(incident.deadline_at)}."
                if entry.milestone is Milestone.RESOLVED and incident.deadline_at
                else ""
            )
            ack(
                response_type="in_channel",
                text=f":arrow_right_hook: {mention(command.user_id)} moved "
                f"“{entry.milestone.label}” ({entry.label}) to "
                f"*{timeline_blocks.when_utc(entry.at, now)}* ({date(entry.at)} your time).{due}",
            )
        else:
            ack(
                response_type="ephemeral",
                text=f":pencil2: Entry {entry.label} is now: {timeline_blocks.summary(entry, now)}",
            )
        self.echoes.refresh(client, incident, entry, respond)
        if previous and entry.milestone is Milestone.BEGAN:
            self.echoes.recheck(client, incident, previous.at, incident.resolved_at)
        elif previous and entry.milestone is Milestone.RESOLVED:
            self.echoes.recheck(client, incident, self.timeline.began(incident), previous.at)
            self.echoes.later(  # the checklist shows the deadline, as it is when it runs
                incident,
                lambda: self.drafting.refresh_checklist(
                    client, self.store.incident(incident.team_id, incident.id) or incident
                ),
            )

    def handle_add_to_timeline(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Message shortcut: keep a channel message in the timeline, with its own time and
        author, and whatever it carries (text, blocks, attachments of alerting tools, files)."""
        ack()
        team_id = team_of(body)
        message = body["message"]
        try:
            incident = self.incidents.in_channel(
                team_id, body["channel"]["id"], "*Add to timeline*", user_id=body["user"]["id"]
            )
            shown = self.store.echoed_entries(team_id, body["channel"]["id"], message["ts"])
            if shown:
                numbers = ", ".join(e.label for e in shown)
                raise UsageError(
                    f"That is the bot's own message for {numbers}: already in the timeline."
                )
            own = (context.bot_id and message.get("bot_id") == context.bot_id) or (
                context.bot_user_id and message.get("user") == context.bot_user_id
            )
            if own:
                raise UsageError(
                    "That is one of the bot's own messages: what it says is already in the "
                    "timeline or the incident log. `/timeline` lists the entries."
                )
            directory = Directory(self.store, client, team_id)
            kept = self.timeline.keep_message(
                incident,
                author_id=directory.author(message_author(message)),
                at=datetime.fromtimestamp(float(message["ts"]), UTC),
                text=message_text(message, directory.names()),
                message_ts=message["ts"],
                by=body["user"]["id"],
            )
        except BotError as error:
            respond(response_type="ephemeral", text=f":warning: {error_text(error)}")
            return
        entry = kept.entry
        if kept.new:
            link_message(client, self.timeline, incident, entry, body["channel"]["id"], message)
        if not kept.new:
            respond(
                response_type="ephemeral",
                text=f"That message is already in the timeline as {entry.label}.",
            )
            return
        self.echoes.show(client, incident, entry, respond)
