"""Sending one reminder: decide if it still makes sense, DM each recipient once, plan what follows.

Each DM is one chat.postMessage, recorded right after Slack accepts it. A crash between the two
is the only way a DM can go out twice, and then only that one DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logs import bind_incident
from bot.models import Incident, Status
from bot.reminders import (
    ACTION,
    DEADLINE_KINDS,
    NUDGE,
    OVERDUE,
    Reminder,
    Reminders,
    is_stale,
    plan_nudge,
)
from bot.retro import Retro
from bot.slack.blocks import section
from bot.slack.pacing import Pacer
from bot.slack.reminder_blocks import build_action_reminder, build_deadline_dm
from bot.slack.text import mention
from bot.store import Store

logger = logging.getLogger(__name__)

# Errors that no retry will fix: report them at once.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "messages_tab_disabled",
    }
)

Target = tuple[str, str, list[dict[str, Any]]]  # (user id or "channel:C..", text, blocks)


class ReminderSender:
    def __init__(
        self,
        store: Store,
        retro: Retro,
        reminders: Reminders,
        client: WebClient,
        clock: Callable[[], datetime],
        open_points: Callable[[Incident], list[str]],
        pacer: Pacer | None = None,
    ) -> None:
        self.open_points = open_points  # the draft's, most important first (bot/readiness.py)
        self.pacer = pacer or Pacer()
        self.store = store
        self.retro = retro
        self.reminders = reminders
        self.client = client
        self.clock = clock

    def fire(self, reminder_id: int) -> list[Reminder]:
        """Send one due reminder; returns what to schedule next (a retry, the next nudge)."""
        reminder = self.reminders.claim(reminder_id)
        if reminder is None:
            return []  # already sent, cancelled, or taken
        incident = self.store.incident(reminder.team_id, reminder.incident_id)
        now = self.clock()
        if incident is not None:
            bind_incident(incident.hotfix_id)
        if incident is None or (
            reminder.kind in DEADLINE_KINDS
            and (
                incident.published_at
                or incident.status is not Status.RESOLVED
                or incident.deadline_at is None
            )
        ):
            self.reminders.finish(reminder.id, "cancelled")
            return []
        if is_stale(reminder, incident.deadline_at, now, self.reminders.due_befores(reminder)):
            self.reminders.finish(reminder.id, "skipped")
            return []
        targets = self._targets(reminder, incident, now)
        if targets is None:
            self.reminders.finish(reminder.id, "skipped")
            return []
        delivered = self.reminders.delivered_to(reminder.id)
        for key, text, blocks in targets:
            if key in delivered:
                continue
            try:
                posted = self.pacer.post(
                    self.client, channel=key.removeprefix("channel:"), text=text, blocks=blocks
                )
            except (SlackApiError, OSError) as exc:
                error = (
                    str(exc.response.get("error"))
                    if isinstance(exc, SlackApiError)
                    else type(exc).__name__
                )
                if error in PERMANENT:
                    self.reminders.record_delivery(reminder.id, key, "", f"failed:{error}")
                    self._report(incident, key, error)
                    continue
                if self.reminders.retry_later(reminder, error) is None:
                    self.reminders.finish(reminder.id, "failed", error)
                    self._report(incident, key, error)
                    return []
                logger.warning("reminder %s: %s; retrying", reminder.id, error)
                return [self.reminders.get(reminder.id)]
            self.reminders.record_delivery(reminder.id, key, posted["channel"], posted["ts"])
        self.reminders.finish(reminder.id, "sent")
        return self._next(reminder, incident)

    def _targets(
        self, reminder: Reminder, incident: Incident, now: datetime
    ) -> list[Target] | None:
        if reminder.kind == ACTION:
            assert reminder.action_item_id is not None
            item = self.retro.action(reminder.team_id, reminder.action_item_id)
            if item.done or not item.owner_id:
                return None
            return [
                (
                    item.owner_id,
                    f"Reminder: {item.label} of {incident.hotfix_id} is due soon",
                    build_action_reminder(incident, item, now),
                )
            ]
        overdue = reminder.kind in (OVERDUE, NUDGE)
        blocks = build_deadline_dm(incident, self.open_points(incident), now, overdue=overdue)
        text = (
            f"The {incident.hotfix_id} post-mortem is overdue"
            if overdue
            else f"The {incident.hotfix_id} post-mortem is due soon"
        )
        if reminder.kind == OVERDUE:
            notice = (
                f":alarm_clock: The {incident.hotfix_id} post-mortem is overdue. "
                f"{mention(incident.commander_id)}, please help the owners finish it."
            )
            return [
                (incident.commander_id, text, blocks),
                (
                    f"channel:{incident.channel_id}",
                    notice,
                    [section(notice)],
                ),
            ]
        owners = self.store.owners(incident.team_id, incident.id) or [incident.commander_id]
        return [(owner, text, blocks) for owner in owners]

    def _next(self, reminder: Reminder, incident: Incident) -> list[Reminder]:
        if reminder.kind not in (OVERDUE, NUDGE) or incident.deadline_at is None:
            return []
        number = (
            1 if reminder.kind == OVERDUE else int(reminder.key.split(":")[1].split("@")[0]) + 1
        )
        planned = plan_nudge(incident.deadline_at, number, self.reminders.settings)
        return self.reminders.add(incident, [planned]) if planned else []

    def _report(self, incident: Incident, key: str, error: str) -> None:
        """A reminder that cannot be delivered is said in the incident channel."""
        who = "the channel" if key.startswith("channel:") else mention(key)
        logger.warning("reminder to %s for %s not delivered: %s", key, incident.hotfix_id, error)
        if not incident.channel_id or key == f"channel:{incident.channel_id}":
            return
        try:
            self.pacer.post(
                self.client,
                channel=incident.channel_id,
                text=(
                    f":warning: A post-mortem reminder could not be delivered to {who} ({error})."
                ),
            )
        except (SlackApiError, OSError) as exc:
            logger.error("could not report the failed reminder either: %s", exc)
