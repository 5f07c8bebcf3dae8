"""Sending one escalation to ESCALATE_TO: once (recorded as a delivery), only while it stands,
and a refusal logged and told, once, to the incident's commander by DM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.access import may_see
from bot.escalate_to import EscalateTo
from bot.models import ActionItem, Incident
from bot.reminders import ACTION_ESCALATE, Reminder, Reminders, is_current_escalation
from bot.slack.blocks import Block, section
from bot.slack.escalation_blocks import (
    build_action_escalation,
    build_escalation,
    build_escalation_refused,
    build_private_escalation,
)
from bot.slack.failures import FAILURES, reason
from bot.slack.failures import PERMANENT as SLACK_PERMANENT
from bot.store import Store

logger = logging.getLogger(__name__)

SENT, REPORT = "escalate", "escalate:report"  # the deliveries recorded, one each
# Errors no retry will fix, and a DM nobody reads (users.info says `deleted`)
PERMANENT = SLACK_PERMANENT | {"deactivated"}

Post = Callable[[str, str, list[Block]], tuple[str, str]]  # (channel, text, blocks) -> where
Gone = Callable[[str], str | None]  # user id -> why nobody reads their DMs, or None


class EscalationSender:
    """Sends claimed `escalate` and `action_escalate` rows to `to` (ESCALATE_TO)."""

    def __init__(
        self,
        store: Store,
        reminders: Reminders,
        to: EscalateTo,
        post: Post,
        gone: Gone,
        open_points: Callable[[Incident], list[str]],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.reminders = reminders
        self.to = to
        self.post = post
        self.gone = gone
        self.open_points = open_points  # the draft's, most important first
        self.clock = clock

    def fire(self, reminder: Reminder, incident: Incident) -> list[Reminder]:
        """Escalate once, unless it no longer stands (cancelled: the item was closed, its due
        date or the deadline moved); returns what to schedule (a retry)."""
        item = None
        if reminder.kind == ACTION_ESCALATE and reminder.action_item_id is not None:
            item = self.store.action_item(reminder.team_id, reminder.action_item_id)
        if not is_current_escalation(reminder, incident.deadline_at, item):
            self.reminders.finish(reminder.id, "cancelled")
            return []
        if SENT not in self.reminders.deliveries(reminder.id):
            again = self._send(reminder, incident, item)
            if again is not None:
                return again
        outcome = self.reminders.deliveries(reminder.id)[SENT]
        if outcome.startswith("failed:"):
            error = outcome.removeprefix("failed:")
            self._tell_commander(reminder, incident, item, error)
            self.reminders.finish(reminder.id, "failed", error)
        else:
            self.reminders.finish(reminder.id, "sent")
        return []

    def _send(
        self, reminder: Reminder, incident: Incident, item: ActionItem | None
    ) -> list[Reminder] | None:
        """Post the escalation and record it (or its refusal); a retry to schedule when Slack
        failed for now, else None."""
        text, blocks = self._message(incident, item)
        posted = self._post(self.to.id, self.to.channel, text, blocks)
        if isinstance(posted, str):
            error = posted
            if error not in PERMANENT and self.reminders.retry_later(reminder, error):
                logger.warning("escalation %s: Slack said %s; trying again", reminder.id, error)
                return [self.reminders.get(reminder.id)]
            logger.error(
                "the escalation of %s could not be delivered to ESCALATE_TO %s: %s",
                _what(incident, item),
                self.to.id,
                error,
            )
            self.reminders.record_delivery(reminder.id, SENT, "", f"failed:{error}")
            return None
        channel, ts = posted
        self.reminders.record_delivery(reminder.id, SENT, channel, ts)
        return None

    def _message(self, incident: Incident, item: ActionItem | None) -> tuple[str, list[Block]]:
        """A private incident's escalation names nothing but its ID and commander, unless it
        goes to a person in its channel (a channel's members are not known to all be)."""
        if incident.private and (self.to.channel or not may_see(self.store, incident, self.to.id)):
            return build_private_escalation(incident, item)
        now = self.clock()
        if item is not None:
            return build_action_escalation(incident, item, now)
        owners = self.store.owners(incident.team_id, incident.id) or [incident.commander_id]
        return build_escalation(incident, owners, self.open_points(incident), now)

    def _tell_commander(
        self, reminder: Reminder, incident: Incident, item: ActionItem | None, error: str
    ) -> None:
        """Once (recorded as REPORT): the commander's DM says the escalation did not go."""
        if REPORT in self.reminders.deliveries(reminder.id):
            return
        commander = incident.commander_id
        words = build_escalation_refused(self.to, error, _what(incident, item))
        posted = self._post(commander, False, words, [section(words)])
        if isinstance(posted, str):
            logger.error("nobody was told that escalation %s failed: %s", reminder.id, posted)
            self.reminders.record_delivery(reminder.id, REPORT, "", f"failed:{posted}")
            return
        self.reminders.record_delivery(reminder.id, REPORT, *posted)

    def _post(
        self, to: str, channel: bool, text: str, blocks: list[Block]
    ) -> tuple[str, str] | str:
        """(channel, ts) once Slack took it; else why not: Slack's error code, or
        `deactivated` for a person users.info says is (Slack may take a DM nobody reads)."""
        if not channel and (why := self.gone(to)) is not None:
            return why
        try:
            return self.post(to, text, blocks)
        except FAILURES as exc:
            return reason(exc)


def _what(incident: Incident, item: ActionItem | None) -> str:
    """`AI-001 of hotfix-001` or `the hotfix-001 post-mortem`: what was overdue."""
    if item is not None:
        return f"{item.label} of {incident.hotfix_id}"
    return f"the {incident.hotfix_id} post-mortem"
