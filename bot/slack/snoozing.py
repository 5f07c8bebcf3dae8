"""The reminder DM's "Remind me later": checked at the click from what is true then (the
post-mortem or the action item still needs it and is still the clicker's), one row planned,
and the DM says when it will come."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.access import may_see
from bot.assignments import with_assignees
from bot.errors import NotFound
from bot.incidents import Incidents
from bot.models import Incident, Status
from bot.reminders import SNOOZE_FOR, Reminders, action_due_moment, plan_snooze, reach_at
from bot.retro import Retro
from bot.slack.blocks import Block, context
from bot.slack.failures import FAILURES, Told, reason
from bot.slack.payloads import team_of
from bot.slack.reminder_blocks import SNOOZES, ReminderIds
from bot.slack.text import date
from bot.working_hours import zone_named

logger = logging.getLogger(__name__)

_VALUE = re.compile(r"([ia])(\d{1,12})")
MORNING = time(9)  # "tomorrow morning" without REMINDER_HOURS (`always`)


class Snoozing:
    def __init__(self, incidents: Incidents, retro: Retro, reminders: Reminders) -> None:
        self.incidents = incidents
        self.retro = retro
        self.reminders = reminders

    def handle_snooze(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        """`reminder_snooze_2h`, `reminder_snooze_morning`: in 2 hours or the next working
        morning, never past the deadline the reminder is about (an overdue one has none left
        to keep). Raises Told (for the person) when it is no longer theirs or needed."""
        ack()
        team_id, user_id = team_of(body), body["user"]["id"]
        action = body["actions"][0]
        match = _VALUE.fullmatch(str(action.get("value", "")))
        if match is None or action.get("action_id") not in SNOOZES:
            raise Told(":warning: That button is not a reminder's; nothing was done.")
        incident, item_id, deadline = self._target(team_id, user_id, match[1], int(match[2]))
        now = self.incidents.clock()
        choice = "2h" if action["action_id"] == ReminderIds.SNOOZE_2H else "morning"
        zone = self._zone(client, user_id)
        at = self.later(choice, now, zone)
        capped = deadline is not None and now < deadline < at
        if capped:
            assert deadline is not None
            at = deadline
        rows = self.reminders.snooze(incident, plan_snooze(user_id, at, item_id))
        if rows:  # when it reaches them: "in 2 hours" at night waits for their working hours
            at = reach_at(rows[0], self.reminders.settings.hours, at, zone, deadline)
        said = f":zzz: I'll remind you again {date(at)}" + (
            ", at the deadline: no later." if capped else "."
        )
        self._update(client, body, said, respond)

    def _target(
        self, team_id: str, user_id: str, kind: str, target: int
    ) -> tuple[Incident, int | None, datetime | None]:
        """(the incident, the action item's id or None, the deadline) the button is about, if
        a reminder about it is still the clicker's now. Raises Told otherwise."""
        store = self.incidents.store
        if kind == "a":
            try:
                item = self.retro.action(team_id, target)
            except NotFound:
                raise Told(":warning: That action item no longer exists.") from None
            incident = store.incident(team_id, item.incident_id)
            if item.done:
                raise Told(f"{item.label} is done already: no reminder needed.")
            if item.owner_id != user_id or incident is None:
                raise Told(f"{item.label} is no longer yours: its owner gets its reminders.")
            return incident, item.id, action_due_moment(item)
        incident = store.incident(team_id, target)
        if incident is None or not may_see(store, incident, user_id):
            raise Told(":warning: That button is for an incident you cannot see; nothing was done.")
        if incident.published_at or incident.status is not Status.RESOLVED:
            raise Told(
                f"The {incident.hotfix_id} post-mortem is no longer due: no reminder needed."
            )
        owners = store.owners(team_id, incident.id) or [incident.commander_id]
        theirs = with_assignees(owners, self.retro.states(incident))  # and a section's
        if user_id not in (*theirs, incident.commander_id):
            raise Told(
                f"You no longer own the {incident.hotfix_id} post-mortem, nor a section of it "
                "nobody has written: its owners get its reminders."
            )
        return incident, None, incident.deadline_at

    def later(self, choice: str, now: datetime, zone: tzinfo) -> datetime:
        """In 2 hours, or the start of the person's working hours from tomorrow on (09:00
        their time with REMINDER_HOURS=always). UTC."""
        if choice == "2h":
            return now + SNOOZE_FOR
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        hours = self.reminders.settings.hours
        if hours is None:
            return datetime.combine(tomorrow, MORNING, zone).astimezone(UTC)
        return hours.next_start(datetime.combine(tomorrow, time(0), zone).astimezone(UTC), zone)

    def _zone(self, client: WebClient, user_id: str) -> tzinfo:
        try:
            return zone_named(client.users_info(user=user_id)["user"].get("tz"))
        except FAILURES as exc:
            logger.warning(
                "users.info %s: %s; tomorrow morning is read in UTC", user_id, reason(exc)
            )
            return UTC

    def _update(self, client: WebClient, body: dict[str, Any], said: str, respond: Any) -> None:
        """The DM without its "Remind me later" buttons, saying when; if Slack will not
        update it, said to the person all the same."""
        message = body.get("message") or {}
        container = body.get("container") or {}
        blocks: list[Block] = []
        for block in message.get("blocks") or []:
            if block.get("type") == "actions":
                kept = [e for e in block["elements"] if e.get("action_id") not in SNOOZES]
                block = {**block, "elements": kept}
                if not kept:
                    continue
            blocks.append(block)
        if "channel_id" not in container or "message_ts" not in container:
            respond(replace_original=False, text=said)
            return
        try:
            client.chat_update(
                channel=container["channel_id"],
                ts=container["message_ts"],
                text=message.get("text") or said,
                blocks=[*blocks, context(said)],
            )
        except FAILURES as exc:
            logger.warning("reminder DM not updated: %s", reason(exc))
            respond(replace_original=False, text=said)
