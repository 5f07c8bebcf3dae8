"""Web API work after the ack: the incident channel, invitations, topic, kick-off, announcement."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.incidents import Incidents
from bot.models import Incident
from bot.naming import channel_name
from bot.slack import blocks
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.slack.text import escape

logger = logging.getLogger(__name__)

NAME_ATTEMPTS = 10


class Channels:
    """Web API work on incident channels, done after the ack."""

    def __init__(
        self, incidents: Incidents, prefix: str, announce_channel: str | None, pacer: Pacer
    ) -> None:
        self.incidents = incidents
        self.pacer = pacer
        self.prefix = prefix
        self.announce_channel = announce_channel

    def _try(self, problems: list[str], what: str, call: Callable[[], Any]) -> Any:
        """Run one Web API step; a Slack error is noted for the user and the rest goes on."""
        try:
            return call()
        except FAILURES as exc:
            logger.warning("%s failed: %s", what, reason(exc))
            problems.append(f"{what} ({reason(exc)})")
            return None

    def create_channel(self, client: WebClient, incident: Incident) -> Incident:
        for attempt in range(NAME_ATTEMPTS):
            name = channel_name(self.prefix, incident.number, incident.title, attempt)
            try:
                response = client.conversations_create(name=name, is_private=incident.private)
            except FAILURES as exc:
                if reason(exc) == "name_taken":
                    continue
                raise
            channel = response["channel"]
            return self.incidents.attach_channel(incident, channel["id"], channel["name"])
        raise RuntimeError(f"no free channel name after {NAME_ATTEMPTS} attempts")

    def open(self, client: WebClient, incident: Incident, respond: Respond) -> None:
        """Create the channel and set it up; tell the starter how it went."""
        try:
            incident = self.create_channel(client, incident)
        except (SlackApiError, OSError, RuntimeError) as exc:
            why = str(exc) if isinstance(exc, RuntimeError) else reason(exc)
            logger.warning("channel for %s not created: %s", incident.hotfix_id, why)
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":warning: {incident.hotfix_id} is recorded, but Slack did not create "
                f"its channel ({why}). Check the app's scopes, or ask an admin.",
            )
            return
        assert incident.channel_id
        channel = incident.channel_id
        problems: list[str] = []
        self._try(
            problems,
            "inviting you",
            lambda: client.conversations_invite(channel=channel, users=incident.created_by),
        )
        self._try(
            problems,
            "setting the topic",
            lambda: client.conversations_setTopic(channel=channel, topic=blocks.topic(incident)),
        )
        kickoff = self._try(
            problems,
            "posting the kick-off message",
            lambda: self.pacer.post(
                client,
                channel=channel,
                text=blocks.kickoff_text(incident),
                blocks=blocks.build_kickoff(incident),
            ),
        )
        if kickoff is not None:
            self.incidents.record_kickoff(incident, kickoff["ts"])
            self._try(
                problems,
                "pinning the kick-off message",
                lambda: client.pins_add(channel=channel, timestamp=kickoff["ts"]),
            )
        if self.announce_channel and not incident.private:
            announce = self.announce_channel
            self._try(
                problems,
                "announcing it",
                lambda: self.pacer.post(
                    client,
                    channel=announce,
                    text=f"{incident.hotfix_id} opened: {escape(incident.title)}",
                    blocks=blocks.build_announcement(incident),
                ),
            )
        note = f" Some steps failed: {'; '.join(problems)}." if problems else ""
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f":white_check_mark: {incident.hotfix_id} is open in <#{channel}>.{note}",
        )

    def invite(self, client: WebClient, incident: Incident, users: list[str]) -> None:
        if not incident.channel_id:
            return
        for user in users:
            try:
                client.conversations_invite(channel=incident.channel_id, users=user)
            except FAILURES as exc:
                # already_in_channel is the usual case; anything else is worth a log line only
                if reason(exc) != "already_in_channel":
                    logger.warning("invite to %s failed: %s", incident.hotfix_id, reason(exc))

    def update_topic(self, client: WebClient, incident: Incident) -> None:
        if not incident.channel_id:
            return
        try:
            client.conversations_setTopic(channel=incident.channel_id, topic=blocks.topic(incident))
        except FAILURES as exc:
            logger.warning("topic of %s not updated: %s", incident.hotfix_id, reason(exc))
