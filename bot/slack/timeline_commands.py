"""`/timeline` and the "Add to timeline" message shortcut."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import BotError
from bot.incidents import Incidents
from bot.slack import blocks
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.slack.payloads import Command, error_text, replies_errors
from bot.slack.text import decode

logger = logging.getLogger(__name__)


class TimelineCommands:
    def __init__(self, incidents: Incidents, pacer: Pacer) -> None:
        self.incidents = incidents
        self.pacer = pacer

    @replies_errors
    def handle_timeline(self, ack: Ack, body: dict[str, Any]) -> None:
        command = Command.from_body(body, self.incidents.store)
        args = command.args
        verb = args[0].lower() if args else ""
        incident = self.incidents.in_channel(
            command.team_id,
            command.channel_id,
            "`/timeline`",
            as_last_read=verb not in ("edit", "delete"),  # those check who may: read afresh
        )
        if not args:
            entries = self.incidents.entries(incident)
            ack(
                response_type="ephemeral",
                text=f"Timeline of {incident.hotfix_id}",
                blocks=blocks.build_timeline(incident, entries),
            )
        elif verb == "edit" and len(args) > 1 and args[1].isdigit():
            entry = self.incidents.edit_entry(
                incident, command.user_id, args[1], command.text_after(2)
            )
            ack(
                response_type="in_channel",
                text=blocks.entry_echo_text(entry),
                blocks=blocks.build_entry_echo(entry, verb=f"{args[1]} edited"),
            )
        elif verb == "delete" and len(args) == 2 and args[1].isdigit():
            entry = self.incidents.delete_entry(incident, command.user_id, args[1])
            ack(
                response_type="ephemeral",
                text=f"Deleted entry {args[1]}: {blocks.entry_echo_text(entry)}",
            )
        else:
            entry = self.incidents.add_entry(incident, command.user_id, decode(command.raw))
            ack(
                response_type="in_channel",
                text=blocks.entry_echo_text(entry),
                blocks=blocks.build_entry_echo(entry),
            )

    def handle_add_to_timeline(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """Message shortcut: keep a channel message in the timeline, with its time and author."""
        team_id = body["team"]["id"]
        channel_id = body["channel"]["id"]
        message = body["message"]
        store = self.incidents.store
        try:
            incident = self.incidents.in_channel(team_id, channel_id, "*Add to timeline*")
            entry, new = self.incidents.add_message(
                incident,
                author_id=message.get("user") or message.get("bot_id") or "unknown",
                at=datetime.fromtimestamp(float(message["ts"]), UTC),
                text=decode(message.get("text", ""), lambda uid: store.user_name(team_id, uid)),
                message_ts=message["ts"],
            )
        except BotError as error:
            ack()
            respond(response_type="ephemeral", text=f":warning: {error_text(error)}")
            return
        ack()
        if not new:
            respond(response_type="ephemeral", text="That message is already in the timeline.")
            return
        try:
            self.pacer.post(
                client,
                channel=channel_id,
                text=blocks.entry_echo_text(entry),
                blocks=blocks.build_entry_echo(entry),
            )
        except FAILURES as exc:
            logger.warning("timeline echo failed: %s", reason(exc))
            respond(response_type="ephemeral", text="Added to the timeline.")
