"""Publishing the post-mortem, deliberately and once: `/incident publish`, and the "Publish
anyway" / "Keep writing" choice it offers while open points remain."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import BotError, UsageError
from bot.incidents import Incidents
from bot.models import Incident, Status
from bot.reminders import Reminders
from bot.retro import Retro
from bot.slack.audience import Asker
from bot.slack.drafting import Drafting
from bot.slack.payloads import Command, error_text, team_of
from bot.slack.retro_blocks import build_publish_confirmation
from bot.slack.text import date as slack_date
from bot.slack.text import escape, mention

logger = logging.getLogger(__name__)


def stamp(incident: Incident) -> str:
    """What a confirmation was shown for: `hotfix-001@<resolution time>`. A click compares it
    with the incident as it is then (it authorises nothing)."""
    resolved = incident.resolved_at.isoformat() if incident.resolved_at else ""
    return f"{incident.hotfix_id}@{resolved}"


class Publishing:
    def __init__(
        self, incidents: Incidents, retro: Retro, drafting: Drafting, reminders: Reminders
    ) -> None:
        self.incidents = incidents
        self.retro = retro
        self.drafting = drafting
        self.reminders = reminders

    def publish(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        """Publish once, deliberately: open points are shown with a choice first; publishing
        again with nothing changed since is a short answer and nothing else."""
        incident, _ = self.incidents.about(
            command.team_id, command.channel_id, command.user_id, command.args[1:], "`/incident`"
        )
        elsewhere = command.channel_id != incident.channel_id  # a DM, or its channel is archived
        if elsewhere and not self._member(incident, command.user_id):
            raise UsageError(self._outsider(incident).removeprefix(":warning: "))
        if incident.status is not Status.RESOLVED:
            raise UsageError(
                "Resolve the incident first (`/incident resolve`), then publish its post-mortem."
            )
        final, log, points = self.drafting.drafts.render(incident)
        before = incident.published_at
        if before is None and points:
            ack(
                response_type="ephemeral",
                text=(
                    f"The {incident.hotfix_id} post-mortem has {len(points)} open point(s). "
                    "Publish it anyway?"
                ),
                blocks=build_publish_confirmation(incident, points, stamp(incident)),
            )
            return
        published = self.incidents.publish(incident, command.user_id, final=final + log)
        if published is None:
            assert before is not None
            ack(response_type="ephemeral", text=self._already(incident, before))
            return
        did, since = "published", ""
        if before is not None:
            did, since = "republished", f" (it changed since its publication {slack_date(before)})"
        text = (
            f":tada: {mention(command.user_id)} {did} the {incident.hotfix_id} "
            f"post-mortem{since}. The final version follows."
        )
        if elsewhere:
            ack(
                response_type="ephemeral",
                text=f":white_check_mark: {did.capitalize()}; the final {incident.hotfix_id} "
                f"post-mortem follows in <#{published.channel_id}>.",
            )
            self.drafting.audience.post(client, published, [Asker(command.user_id, respond)], text)
        else:
            ack(response_type="in_channel", text=text)
        self._published(client, published, command.user_id, respond)

    def _already(self, incident: Incident, published_at: datetime) -> str:
        return (
            f":white_check_mark: The {incident.hotfix_id} post-mortem is already published "
            f"({slack_date(published_at)}, `{incident.hotfix_id}/postmortem.md` in "
            f"{self.drafting.where}); nothing changed since."
        )

    def _published(
        self, client: WebClient, incident: Incident, user_id: str, respond: Respond
    ) -> None:
        """After a publication: no more deadline reminders, the final version, the checklist.
        What Slack refuses reaches the publisher through `respond`."""
        self.reminders.cancel_deadline(incident)
        self.drafting.post(client, incident, user_id, final=True, respond=respond)
        self.drafting.refresh_checklist(client, incident, [Asker(user_id, respond)])

    def _may_publish(self, incident: Incident, user_id: str) -> str | None:
        """Why `user_id` cannot publish the post-mortem now (as things are, not as they were when
        the buttons were shown); None if they can. Who may comes first: a non-member hears
        nothing of the incident's state."""
        if not self._member(incident, user_id):
            return self._outsider(incident)
        if incident.status is not Status.RESOLVED:
            return (
                f":warning: {incident.hotfix_id} was reopened since; nothing was published. "
                "Resolve it again (`/incident resolve`), then `/incident publish`."
            )
        if incident.published_at is not None:
            return (
                f":white_check_mark: The {incident.hotfix_id} post-mortem is already published "
                f"({slack_date(incident.published_at)}); nothing more was done."
            )
        return None

    def _member(self, incident: Incident, user_id: str) -> bool:
        store = self.incidents.store
        channel = incident.channel_id
        return bool(channel and store.is_member(incident.team_id, channel, user_id))

    def _outsider(self, incident: Incident) -> str:
        return (
            f":warning: Only people in the incident channel can publish the "
            f"{incident.hotfix_id} post-mortem; nothing was published."
        )

    def _clicked(self, body: dict[str, Any]) -> Incident:
        """The incident of the channel the button was clicked in (the one the button names is
        only compared; raises UsageError if they differ). Clicked in a DM (`/incident publish
        hotfix-001` there), the incident it names, if the clicker may see it; what they may do
        is decided by the caller, as things are now."""
        channel = (body.get("container") or {}).get("channel_id") or body["channel"]["id"]
        team_id = team_of(body)
        named = str(body["actions"][0].get("value", "")).partition("@")[0]
        incident = self.incidents.store.incident_by_channel(team_id, channel)
        if incident is None:  # shown in a DM: the incident it names, if the clicker may see it
            incident, _ = self.incidents.about(
                team_id, channel, body["user"]["id"], [named], "That button"
            )
        elif named != incident.hotfix_id:
            raise UsageError(f"That button is not for {incident.hotfix_id}; nothing was done.")
        return incident

    def _stale(self, incident: Incident, body: dict[str, Any]) -> str | None:
        """The incident was reopened and resolved again since the choice was offered: its open
        points may be others now."""
        if str(body["actions"][0].get("value", "")) == stamp(incident):
            return None
        return (
            f":warning: {incident.hotfix_id} was reopened and resolved again since these open "
            "points were shown; nothing was published. `/incident publish` shows them as they "
            "are now."
        )

    def handle_publish_anyway(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """The "Publish anyway" button: publishes once however often it is clicked, and only if
        the post-mortem may be published as things are now. Its message is replaced each time."""
        ack()
        user_id = body["user"]["id"]
        try:
            incident = self._clicked(body)
            refusal = self._may_publish(incident, user_id) or self._stale(incident, body)
            if refusal is not None:
                respond(replace_original=True, text=refusal)
                return
            points = self.drafting.drafts.render(incident)[2]
            published = self.incidents.publish(incident, user_id)
        except BotError as error:  # gone, a busy database, or published/reopened a moment ago
            respond(replace_original=True, text=f":warning: {error_text(error)}")
            return
        assert published is not None and published.channel_id
        respond(
            replace_original=True,
            text=f":white_check_mark: Published; the final {incident.hotfix_id} post-mortem "
            "follows in the channel.",
        )
        self.drafting.audience.post(
            client,
            published,
            [Asker(user_id, respond)],
            f":tada: {mention(user_id)} published the {incident.hotfix_id} post-mortem "
            f"with {len(points)} open point(s). The final version follows.",
        )
        self._published(client, published, user_id, respond)

    def handle_keep_writing(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """The "Keep writing" button: publishes nothing; names the next empty section."""
        ack()
        try:
            incident = self._clicked(body)
        except BotError as error:
            respond(replace_original=True, text=f":warning: {error_text(error)}")
            return
        if not self._member(incident, body["user"]["id"]):
            respond(replace_original=True, text=self._outsider(incident))
            return
        section = self.retro.next_empty(incident)
        channel = (body.get("container") or {}).get("channel_id") or body["channel"]["id"]
        # clicked in a DM (`/incident publish hotfix-001` there): commands that name it
        named = "" if channel == incident.channel_id else f" {incident.hotfix_id}"
        if section is None:
            text = (
                f":pencil2: Nothing was published. Every section is written; `/incident draft"
                f"{named}` shows what is still open, and `/incident publish{named}` publishes "
                "when it is ready."
            )
        else:
            text = (
                f":pencil2: Nothing was published. Next empty section: *{escape(section.title)}*: "
                f"`/incident write{named}` opens it. `/incident publish{named}` when it is ready."
            )
        respond(replace_original=True, text=text)
