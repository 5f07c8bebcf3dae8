"""The people a reminder is for, as Slack says now: whether a DM would reach them, their time
zone (kept for `/incident status` and the App Home), and when, on their working hours, they
should get it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from slack_sdk import WebClient

from bot.models import Incident
from bot.reminders import (
    ACTION,
    ACTION_SNOOZE,
    Reminder,
    Reminders,
    action_due_moment,
    reach_at,
)
from bot.retro import Retro
from bot.slack.failures import FAILURES, reason
from bot.store import Store
from bot.working_hours import zone_named

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """A person as users.info says now: why a DM would not reach them (or None), their zone."""

    gone: str | None
    zone: tzinfo


class Recipients:
    def __init__(
        self,
        store: Store,
        retro: Retro,
        reminders: Reminders,
        client: WebClient,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.retro = retro
        self.reminders = reminders
        self.client = client
        self.clock = clock

    def profile(self, user_id: str, team_id: str = "") -> Profile:
        """What users.info says of the person now: why nobody would read a DM to them
        (`deleted` means deactivated, and Slack may still accept the DM) and their time zone
        (`tz`; UTC when Slack gives none). Asked afresh each time: an account can be
        deactivated, and a person travel, any day. A lookup that fails counts as reachable
        (the DM will tell), in UTC."""
        try:
            user = self.client.users_info(user=user_id)["user"]
        except FAILURES as exc:
            error = reason(exc)
            if error == "user_not_found":
                return Profile(error, UTC)
            logger.warning("users.info %s: %s", user_id, error)
            return Profile(None, UTC)
        if team_id and user.get("tz"):  # shown by `/incident status` and the App Home
            self.store.remember_zone(team_id, user_id, str(user["tz"]), self.clock())
        return Profile("deactivated" if user.get("deleted") else None, zone_named(user.get("tz")))

    def send_at(
        self, reminder: Reminder, incident: Incident, profile: Profile, now: datetime
    ) -> datetime:
        """When this person should get the reminder (REMINDER_HOURS on their clock): now, or
        the start of their working hours if it comes before the deadline it is about (see
        reach_at)."""
        hours = self.reminders.settings.hours
        if hours is None:
            return now
        deadline = incident.deadline_at
        if reminder.kind in (ACTION, ACTION_SNOOZE) and reminder.action_item_id is not None:
            deadline = action_due_moment(
                self.retro.action(reminder.team_id, reminder.action_item_id)
            )
        return reach_at(reminder, hours, now, profile.zone, deadline)
