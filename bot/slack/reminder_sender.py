"""Sending one reminder: decide if it still makes sense, DM each recipient once, plan what follows.

Each DM is one chat.postMessage, recorded right after Slack accepts it. A crash between the two
is the only way a DM can go out twice, and then only that one DM. A DM nobody can read (the
account is deactivated), a refused DM and a refused channel notice each reach a person, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.access import may_see
from bot.assignments import with_assignees
from bot.digest import is_digest
from bot.logs import bind_incident
from bot.models import Incident, Status
from bot.reminders import (
    ACTION,
    ACTION_SNOOZE,
    BEFORE,
    DEADLINE_KINDS,
    ESCALATIONS,
    MAX_NUDGES,
    NUDGE,
    OVERDUE,
    SNOOZE,
    Reminder,
    Reminders,
    is_stale,
    nudge_number,
    overdue_audience,
    plan_nudge,
    snoozed_for,
)
from bot.retro import Retro
from bot.slack.blocks import Block, section
from bot.slack.digest_sender import DigestSender
from bot.slack.escalation_sender import EscalationSender
from bot.slack.failures import FAILURES, PERMANENT, reason
from bot.slack.pacing import Pacer
from bot.slack.recipients import Recipients
from bot.slack.reminder_blocks import (
    build_action_reminder,
    build_deadline_dm,
    build_deadline_dms,
    build_undeliverable,
)
from bot.slack.reminder_reports import Reporter
from bot.store import Store

logger = logging.getLogger(__name__)

EARLY = timedelta(seconds=1)  # a job this much before its row's time waits for it


@dataclass(frozen=True)
class Message:
    """One reminder's DM: to whom (user ids, in order), what it says (`tailored`: what it says
    to each person who gets their own, else `blocks`), and whether it is the last reminder of
    its deadline (then no nudge follows)."""

    people: list[str]
    text: str
    blocks: list[Block]
    last: bool = False
    tailored: dict[str, list[Block]] = field(default_factory=dict)

    def blocks_for(self, person: str) -> list[Block]:
        return self.tailored.get(person, self.blocks)


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
        self.publishes = "makes it final"  # what `/incident publish` does (review mode: a PR)
        self.pacer = pacer or Pacer()
        self.store = store
        self.retro = retro
        self.reminders = reminders
        self.client = client
        self.clock = clock
        self.reporter = Reporter(store, self.post, self.gone)
        self.recipients = Recipients(store, retro, reminders, client, clock)
        self.digest: DigestSender | None = None  # DIGEST_CHANNEL set: the weekly digest
        self.escalation: EscalationSender | None = None  # ESCALATE_AFTER and ESCALATE_TO set

    def fire(self, reminder_id: int) -> list[Reminder]:
        """Send one due reminder; returns what to schedule next (a retry, the next nudge)."""
        reminder = self.reminders.claim(reminder_id)
        if reminder is None:
            return []  # already sent, cancelled, or taken
        if reminder.due_at > self.clock() + EARLY:  # re-timed since its job was set
            self.reminders.defer(reminder, reminder.due_at)
            return [self.reminders.get(reminder.id)]
        if is_digest(reminder):
            if self.digest is None:  # DIGEST_CHANNEL was unset since it was planned
                self.reminders.finish(reminder.id, "cancelled")
                return []
            return self.digest.fire(reminder)
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
        if reminder.kind in ESCALATIONS:
            if self.escalation is None:  # ESCALATE_AFTER was turned off since it was planned
                self.reminders.finish(reminder.id, "cancelled")
                return []
            return self.escalation.fire(reminder, incident)
        if is_stale(reminder, incident.deadline_at, now, self.reminders.due_befores(reminder)):
            self.reminders.finish(reminder.id, "skipped")
            return []
        message = self._message(reminder, incident, now)
        if message is None:
            self.reminders.finish(reminder.id, "skipped")
            return []
        delivered = self.reminders.delivered_to(reminder.id)
        waiting: list[datetime] = []  # when those outside their working hours get it
        for person in message.people:
            if person in delivered:
                continue
            if not may_see(self.store, incident, person):
                # it names the incident: a private one's, only to people in its channel now
                logger.info("reminder %s not sent to %s: not in the channel", reminder.id, person)
                continue
            profile = self.recipients.profile(person, reminder.team_id)
            at = self.recipients.send_at(reminder, incident, profile, now)
            if at > now and profile.gone is None:
                waiting.append(at)
                continue
            again = self._dm(reminder, incident, person, message, profile.gone)
            if again is not None:
                return again
        if waiting:
            self.reminders.defer(reminder, min(waiting))
            return [self.reminders.get(reminder.id)]
        self.reminders.finish(reminder.id, "sent")
        return [] if message.last else self._next(reminder, incident)

    def post(self, channel: str, text: str, blocks: list[Block] | None = None) -> tuple[str, str]:
        """chat.postMessage at Slack's pace; (channel, ts) of the message. Raises FAILURES."""
        posted = self.pacer.post(self.client, channel=channel, text=text, blocks=blocks)
        return str(posted["channel"]), str(posted["ts"])

    def gone(self, user_id: str) -> str | None:
        """Why nobody would read a DM to this person, or None (see Recipients.profile)."""
        return self.recipients.profile(user_id).gone

    def _dm(
        self,
        reminder: Reminder,
        incident: Incident,
        person: str,
        message: Message,
        why: str | None,
    ) -> list[Reminder] | None:
        """DM one person and record it; a DM that cannot reach them (`why`: see `profile`) is
        recorded as failed and reported. Returns what to schedule when the reminder must be
        tried again later."""
        if why is not None:
            self._undeliverable(reminder, incident, person, why)
            return None
        try:
            channel, ts = self.post(person, message.text, message.blocks_for(person))
        except FAILURES as exc:
            error = reason(exc)
            if error in PERMANENT:
                self._undeliverable(reminder, incident, person, error)
                return None
            if self.reminders.retry_later(reminder, error) is None:
                self.reminders.finish(reminder.id, "failed", error)
                self._undeliverable(reminder, incident, person, error)
                return []
            logger.warning("reminder %s: %s; retrying", reminder.id, error)
            return [self.reminders.get(reminder.id)]
        self.reminders.record_delivery(reminder.id, person, channel, ts)
        return None

    def _undeliverable(
        self, reminder: Reminder, incident: Incident, person: str, error: str
    ) -> None:
        """Tell the commander (see Reporter) the first time this person cannot be reached for
        this incident; later reminders only record it."""
        logger.warning("reminder %s to %s not delivered: %s", reminder.id, person, error)
        key = f"report:{person}:{error}"
        if not self.reminders.reported(reminder, key):
            item = ""
            if reminder.action_item_id is not None:
                item = self.retro.action(reminder.team_id, reminder.action_item_id).label
            words = build_undeliverable(incident, person, error, item)
            channel, ts = self.reporter.tell(incident, person, words)
            self.reminders.record_delivery(reminder.id, key, channel, ts)
        self.reminders.record_delivery(reminder.id, person, "", f"failed:{error}")

    def _message(self, reminder: Reminder, incident: Incident, now: datetime) -> Message | None:
        if reminder.kind in (ACTION, ACTION_SNOOZE):
            assert reminder.action_item_id is not None
            item = self.retro.action(reminder.team_id, reminder.action_item_id)
            if item.done or not item.owner_id:
                return None
            if reminder.kind == ACTION_SNOOZE and item.owner_id != snoozed_for(reminder):
                return None  # given to someone else since: theirs come on their own
            return Message(
                [item.owner_id],
                f"Reminder: {item.label} of {incident.hotfix_id} is due soon",
                build_action_reminder(incident, item, now),
            )
        owners = self.store.owners(incident.team_id, incident.id) or [incident.commander_id]
        people = with_assignees(owners, self.retro.states(incident))  # owners, then assignees
        if reminder.kind == SNOOZE:
            person = snoozed_for(reminder)
            assert person is not None and incident.deadline_at is not None
            if person not in (*people, incident.commander_id):
                return None  # no longer theirs
            late = now >= incident.deadline_at
            return self._deadline(
                incident,
                owners,
                [person],
                f"The {incident.hotfix_id} post-mortem is " + ("overdue" if late else "due soon"),
                now=now,
                overdue=late,
                notes=("You asked me to remind you again.",),
            )
        if reminder.kind == BEFORE:
            return self._deadline(
                incident,
                owners,
                people,
                f"The {incident.hotfix_id} post-mortem is due soon",
                now=now,
            )
        return self._overdue(reminder, incident, now, owners, people)

    def _deadline(
        self,
        incident: Incident,
        owners: list[str],
        people: list[str],
        text: str,
        last: bool = False,
        **dm: Any,
    ) -> Message:
        """A deadline reminder to `people` (the owners and those with a section still to
        write), each DM listing first what is theirs (see build_deadline_dms); `dm`: the rest
        of build_deadline_dm's arguments."""
        points, states = self.open_points(incident), self.retro.states(incident)
        dm["publishes"] = self.publishes
        tailored = build_deadline_dms(incident, points, states, owners, people, **dm)
        blocks = build_deadline_dm(incident, points, **dm)
        return Message(people, text, blocks, last, tailored)

    def _overdue(
        self,
        reminder: Reminder,
        incident: Incident,
        now: datetime,
        owners: list[str],
        people: list[str],
    ) -> Message:
        """The overdue notice (the channel, and the commander by DM) or a nudge (the owners,
        and those with a section still to write); an archived channel or the last nudge ends
        them, and that DM says so."""
        assert incident.deadline_at is not None
        channel = f"<#{incident.channel_id}>"
        notes = []
        if reminder.kind == OVERDUE:
            refused = self._notice(reminder, incident)
            if refused is not None:  # the commander reads it instead
                notes.append(
                    f"The overdue notice could not be posted in {channel}: {_channel_why(refused)}."
                )
        else:
            refused = "is_archived" if self._archived(incident) else None
        every = self.reminders.settings.nudge_every
        audience = overdue_audience(
            reminder,
            incident.commander_id,
            people,
            late=every is not None and now >= incident.deadline_at + every,
            channel_archived=refused == "is_archived",
        )
        if refused == "is_archived":
            notes.append(
                f"As {channel} is archived, this is the last reminder: the post-mortem can "
                f"still be written and published from here, `/incident write "
                f"{incident.hotfix_id}` and `/incident publish {incident.hotfix_id}`."
            )
        elif audience.last:
            notes.append(
                f"This is the last reminder ({MAX_NUDGES} nudges since the deadline). The "
                f"post-mortem stays open until someone publishes it: `/incident publish "
                f"{incident.hotfix_id}`, here or in {channel}."
            )
        text = f"The {incident.hotfix_id} post-mortem is overdue"
        return self._deadline(
            incident,
            owners,
            audience.people,
            text + ("; this is the last reminder" if audience.last else ""),
            audience.last,
            now=now,
            overdue=True,
            notes=tuple(notes),
        )

    def _notice(self, reminder: Reminder, incident: Incident) -> str | None:
        """The overdue notice in the incident channel, once (recorded like a DM); why the
        channel refused it, or None. A refusal goes to the commander in their DM instead."""
        key = f"channel:{incident.channel_id}"
        done = self.reminders.deliveries(reminder.id).get(key)
        if done is not None:
            return done.removeprefix("failed:") if done.startswith("failed:") else None
        if not incident.channel_id:
            return "channel_not_found"
        notice = (
            f":alarm_clock: The {incident.hotfix_id} post-mortem is overdue. "
            f"<@{incident.commander_id}>, please help the owners finish it."
        )
        try:
            channel, ts = self.post(incident.channel_id, notice, [section(notice)])
        except FAILURES as exc:
            error = reason(exc)
            logger.warning("the overdue notice of %s was refused: %s", incident.hotfix_id, error)
            self.reminders.record_delivery(reminder.id, key, "", f"failed:{error}")
            return error
        self.reminders.record_delivery(reminder.id, key, channel, ts)
        return None

    def _archived(self, incident: Incident) -> bool:
        """conversations.info's `is_archived`; a channel Slack will not describe counts as not
        archived (the nudges go on, up to MAX_NUDGES)."""
        if not incident.channel_id:
            return False
        try:
            info = self.client.conversations_info(channel=incident.channel_id)["channel"]
        except FAILURES as exc:
            logger.warning("conversations.info %s: %s", incident.channel_id, reason(exc))
            return False
        return bool(info.get("is_archived"))

    def _next(self, reminder: Reminder, incident: Incident) -> list[Reminder]:
        if reminder.kind not in (OVERDUE, NUDGE) or incident.deadline_at is None:
            return []
        planned = plan_nudge(
            incident.deadline_at,
            nudge_number(reminder) + 1,
            self.reminders.settings,
            after=self.clock(),
        )
        return self.reminders.add(incident, [planned]) if planned else []


def _channel_why(error: str) -> str:
    return {
        "is_archived": "the channel is archived",
        "not_in_channel": "the bot is no longer in it",
        "channel_not_found": "Slack cannot find it for the bot",
    }.get(error, f"Slack answered `{error}`")
