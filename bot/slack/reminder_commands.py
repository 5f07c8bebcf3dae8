"""The reminder DM's buttons and the App Home tab."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.drafts import Drafts
from bot.incidents import Incidents
from bot.insights import Insights, parse_period
from bot.models import Incident
from bot.reminders import Reminders
from bot.retro import Retro
from bot.slack.blocks import Block
from bot.slack.failures import Told
from bot.slack.home_blocks import PERIOD, build_headline
from bot.slack.payloads import team_of
from bot.slack.reminder_blocks import build_home
from bot.slack.retro_blocks import build_section_modal
from bot.slack.views import open_view
from bot.working_hours import zone_named

logger = logging.getLogger(__name__)


class ReminderCommands:
    def __init__(
        self,
        incidents: Incidents,
        retro: Retro,
        drafts: Drafts,
        insights: Insights,
        reminders: Reminders,
    ) -> None:
        self.reminders = reminders
        self.incidents = incidents
        self.retro = retro
        self.drafts = drafts
        self.insights = insights

    def _incident(self, body: dict[str, Any]) -> Incident:
        """The incident the button names, if the person clicking may see it now (the button
        was shown to them, but that is no proof: a private incident is for its members).
        Raises Told (for the person) otherwise."""
        team_id = team_of(body)
        value = str(body["actions"][0].get("value", ""))
        incident = (
            self.incidents.store.incident(team_id, int(value))
            if value.isascii() and value.isdigit()
            else None
        )
        if incident is None or not self.incidents.may_see(incident, body["user"]["id"]):
            raise Told(":warning: That button is for an incident you cannot see; nothing was done.")
        return incident

    def handle_write_next(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """From a reminder DM: the modal of the clicker's next section nobody has written yet,
        else of the next empty one (the first one if all are written)."""
        ack()
        incident = self._incident(body)
        if not incident.channel_id:
            return
        next_one = self.retro.next_empty(incident, body["user"]["id"])
        section = next_one or self.retro.sections.sections[0]
        open_view(
            client,
            body["trigger_id"],
            build_section_modal(
                incident, section, self.retro.values(incident, section), incident.channel_id
            ),
            "Click the button again.",
        )

    def handle_latest_draft(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """From a reminder DM or the App Home: the draft as it is now, as a file in the DM."""
        ack()
        incident = self._incident(body)
        postmortem, _, readiness = self.drafts.render(incident)
        channel = (body.get("channel") or {}).get("id") or client.conversations_open(
            users=body["user"]["id"]
        )["channel"]["id"]  # the App Home has no channel: the DM with the bot
        client.files_upload_v2(
            channel=channel,
            content=postmortem,
            filename=f"{incident.hotfix_id}-postmortem.md",
            title=f"{incident.hotfix_id} post-mortem (as it is now)",
            initial_comment=f"{len(readiness)} open point(s); the first line lists them.",
        )

    def handle_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        self.publish_home(client, team_of(body), event["user"])

    def publish_home(self, client: WebClient, team_id: str, user_id: str) -> None:
        """views.publish of `user_id`'s App Home as things are now (opened, or after a change
        that shows there: a post-mortem published by its merge): the workspace's numbers, then
        the person's own lists."""
        now = self.incidents.clock()
        headline = self.headline(team_id, now)
        mine, owned = self.incidents.for_person(team_id, user_id)
        actions = [
            (self.incidents.store.incident(team_id, a.incident_id), a)
            for a in self.retro.actions_owned_by(team_id, user_id)
        ]
        zone = zone_named(self.incidents.store.zone_name(team_id, user_id))
        coming = {
            i.id: at
            for i in owned
            if (at := self.reminders.next_for(i, [user_id], lambda _: zone).get(user_id))
        }
        client.views_publish(
            user_id=user_id,
            view=build_home(mine, owned, [(i, a) for i, a in actions if i], now, headline, coming),
        )

    def headline(self, team_id: str, now: datetime) -> list[Block]:
        """The App Home's headline: the workspace's figures of the last 90 days up to `now`,
        or, when they cannot be worked out (whatever reading them raised: it is logged), a
        line saying so; the person's own lists go out either way."""
        since, until = parse_period(PERIOD, now)
        try:
            figures = self.insights.figures(team_id, since, until)
        except Exception:  # the numbers are extra: they never cost the person their own lists
            logger.exception("the App Home's numbers could not be worked out")
            return build_headline(None)
        return build_headline(figures)
