"""Reminders: which ones an incident needs, and their state in the database (the source of truth).

A reminder row is planned once, claimed once (pending -> sending) and marked sent once. Each DM
it sends is recorded right after Slack accepts it, so a crash can repeat at most the one DM
whose record had not been written yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.digest_at import DigestAt
from bot.models import ActionItem, Incident
from bot.retro import Retro
from bot.store import Store
from bot.store.reminders import Planned as Planned
from bot.store.reminders import Reminder as Reminder
from bot.working_hours import WorkingHours

BEFORE, OVERDUE, NUDGE, ACTION = "before", "overdue", "nudge", "action"
# "Remind me later": one person's reminder again, of the deadline or of an action item
SNOOZE, ACTION_SNOOZE = "snooze", "action_snooze"
SNOOZE_FOR = timedelta(hours=2)  # "In 2 hours"; the other choice is the next working morning
# told to ESCALATE_TO once a post-mortem, or an action item, is ESCALATE_AFTER overdue
ESCALATE, ACTION_ESCALATE = "escalate", "action_escalate"
ESCALATIONS = (ESCALATE, ACTION_ESCALATE)
# what publishing or reopening cancels, and what is cancelled if it fires after that
DEADLINE_KINDS = (BEFORE, OVERDUE, NUDGE, SNOOZE, ESCALATE)
RETRY_BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
# The owners are nudged at most this many times after the overdue notice; the last one says so.
MAX_NUDGES = 5
MAX_ATTEMPTS = 5  # a send that failed half-way this often is marked failed


@dataclass(frozen=True)
class Settings:
    before: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=4))
    nudge_every: timedelta | None = timedelta(days=1)
    action_before: timedelta = timedelta(hours=24)
    digest_at: DigestAt | None = None  # the weekly digest's moment; None: no digest
    hours: WorkingHours | None = None  # REMINDER_HOURS on each person's clock; None: always
    escalate_after: timedelta | None = None  # ESCALATE_AFTER; None: no escalations


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def plan_deadline(deadline: datetime, settings: Settings) -> list[Planned]:
    """The DMs before a deadline, and the overdue notice at it. Keys carry the deadline, so a
    re-resolved incident gets fresh reminders. With ESCALATE_AFTER, the escalation too."""
    stamp = _stamp(deadline)
    planned = [
        Planned(BEFORE, f"before:{int(b.total_seconds())}@{stamp}", deadline - b)
        for b in settings.before
    ]
    planned.append(Planned(OVERDUE, f"overdue@{stamp}", deadline))
    if (after := settings.escalate_after) is not None:
        planned.append(Planned(ESCALATE, escalation_key(deadline), deadline + after))
    return planned


def escalation_key(deadline: datetime) -> str:
    """The key of a deadline's escalation (`escalate@20261128T160000`): one per deadline."""
    return f"{ESCALATE}@{_stamp(deadline)}"


def plan_nudge(
    deadline: datetime, number: int, settings: Settings, after: datetime | None = None
) -> Planned | None:
    """Nudge `number` (1 to MAX_NUDGES) is due `number` intervals after the deadline, and never
    sooner than an interval `after` the previous one went out: a bot that was down sends one
    nudge when it is back, not one per interval missed. None when nudges are off or used up."""
    if settings.nudge_every is None or number > MAX_NUDGES:
        return None
    stamp = _stamp(deadline)
    due = deadline + number * settings.nudge_every
    if after is not None:
        due = max(due, after + settings.nudge_every)
    return Planned(NUDGE, f"nudge:{number}@{stamp}", due)


def nudge_number(reminder: Reminder) -> int:
    """1 for the first nudge (from its key, `nudge:1@...`), 0 for anything else."""
    if reminder.kind != NUDGE:
        return 0
    return int(reminder.key.split(":")[1].split("@")[0])


@dataclass(frozen=True)
class Audience:
    """Who gets an overdue notice or a nudge as DMs (user ids, in order, once each), and
    whether it is the last reminder of this deadline."""

    people: list[str]
    last: bool


def overdue_audience(
    reminder: Reminder,
    commander: str,
    owners: list[str],
    *,
    late: bool,
    channel_archived: bool,
) -> Audience:
    """The overdue notice DMs the commander, a nudge the owners. The last one (the channel is
    archived, or the last nudge) goes to both; so does an overdue notice sent `late`, once a
    nudge was due too (the bot was down): it stands for the nudges missed."""
    number = nudge_number(reminder)
    last = channel_archived or number >= MAX_NUDGES
    owners = owners or [commander]
    if reminder.kind == OVERDUE:
        people = [commander, *owners] if late or last else [commander]
    else:
        people = [*owners, commander] if last else owners
    return Audience(list(dict.fromkeys(people)), last)


def action_due_moment(item: ActionItem) -> datetime | None:
    """An action item is due by the end of its due date (UTC)."""
    if item.due is None:
        return None
    return datetime.combine(item.due, time(0), UTC) + timedelta(days=1)


def plan_action(item: ActionItem, settings: Settings) -> Planned | None:
    due = action_due_moment(item)
    if due is None:
        return None
    return Planned(ACTION, f"action:{item.id}@{item.due}", due - settings.action_before, item.id)


def planned_at(key: str, due_at: datetime) -> datetime:
    """When a "before" reminder or a snoozed one was planned for, from its key
    (`before:<seconds>@<deadline>`, `snooze:<user>@<moment>`, to the second): its row's due_at
    moves when it waits for someone's working hours or is retried. Other keys: `due_at`."""
    match = re.fullmatch(r"(?:before:(\d+)|(?:action_)?snooze:[^@]+)@(\d{8}T\d{6})(?::\d+)?", key)
    if match is None:
        return due_at
    moment = datetime.strptime(match[2], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment - timedelta(seconds=int(match[1] or 0))


def plan_snooze(user_id: str, at: datetime, action_item_id: int | None = None) -> Planned:
    """One person's reminder again at `at` (UTC): its key names them, the moment and the
    action item (`action_snooze:U1@20261127T090000:7`: two of their items of one incident
    snoozed to one morning are two rows), so the same choice made twice is one row."""
    kind = SNOOZE if action_item_id is None else ACTION_SNOOZE
    item = "" if action_item_id is None else f":{action_item_id}"
    return Planned(kind, f"{kind}:{user_id}@{at:%Y%m%dT%H%M%S}{item}", at, action_item_id)


def snoozed_for(reminder: Reminder) -> str | None:
    """The person a snoozed reminder is for (from its key), None for other kinds."""
    if reminder.kind not in (SNOOZE, ACTION_SNOOZE):
        return None
    return reminder.key.split(":", 1)[1].split("@", 1)[0]


def reach_at(
    reminder: Reminder,
    hours: WorkingHours | None,
    due: datetime,
    zone: tzinfo,
    deadline: datetime | None,
) -> datetime:
    """When `reminder`, due at `due` (UTC), reaches a person in `zone`: WorkingHours.send_at
    (`hours` None: at `due`). A snooze asked for by the deadline (one brought back to it, too)
    never waits past it: it is no reminder of something overdue."""
    if hours is None:
        return due
    at = hours.send_at(due, zone, deadline)
    if (
        reminder.kind in (SNOOZE, ACTION_SNOOZE)
        and deadline is not None
        and planned_at(reminder.key, reminder.due_at) <= deadline < at
    ):
        return due
    return at


def plan_action_escalation(item: ActionItem, settings: Settings) -> Planned | None:
    """An open item still open ESCALATE_AFTER past the end of its due day is escalated; the
    key carries the due date, so a new due date gets a fresh one. None without a due date or
    with escalations off."""
    due = action_due_moment(item)
    if due is None or settings.escalate_after is None:
        return None
    return Planned(
        ACTION_ESCALATE, action_escalation_key(item), due + settings.escalate_after, item.id
    )


def action_escalation_key(item: ActionItem) -> str:
    return f"{ACTION_ESCALATE}:{item.id}@{item.due}"


def is_current_escalation(
    reminder: Reminder, deadline: datetime | None, item: ActionItem | None
) -> bool:
    """Whether an escalation still stands when it fires: the deadline it was planned for is
    the incident's deadline now; the action item is still open and still due that day. (A
    published post-mortem is cancelled as DEADLINE_KINDS are.)"""
    if reminder.kind == ESCALATE:
        return deadline is not None and reminder.key == escalation_key(deadline)
    return item is not None and not item.done and reminder.key == action_escalation_key(item)


def is_stale(
    reminder: Reminder, deadline: datetime | None, now: datetime, due_befores: list[datetime]
) -> bool:
    """A "before" reminder makes no sense once the deadline passed (the overdue notice says it)
    or once a later reminder is due too (send only the latest: "3h left", not also "23h left").
    `due_befores`: when the incident's "before" reminders were planned for (planned_at)."""
    if reminder.kind != BEFORE:
        return False
    if deadline is None or now >= deadline:
        return True
    mine = planned_at(reminder.key, reminder.due_at)
    return any(mine < other <= now for other in due_befores)


def audience(reminder: Reminder, owners: list[str], commander: str) -> list[str]:
    """Who a pending reminder of the deadline will DM, as things are now: the owners (the
    commander if none) for one before the deadline and a nudge, the commander for the overdue
    notice, the person for a snooze. Action items' are their owner's (not here: [])."""
    if reminder.kind in (BEFORE, NUDGE):
        return owners or [commander]
    if reminder.kind == OVERDUE:
        return [commander]
    person = snoozed_for(reminder)
    return [person] if person and reminder.kind == SNOOZE else []


class Reminders:
    """Planned reminders in the database: plan, cancel, claim, record, finish."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.backoff = RETRY_BACKOFF
        # (reminder id, recipient) -> (channel, ts) Slack took and the database did not record
        self._unwritten: dict[tuple[int, str], tuple[str, str]] = {}

    def add(self, incident: Incident, planned: list[Planned]) -> list[Reminder]:
        """Insert what is not planned yet (idempotent); returns the new pending reminders."""
        return self.store.add_reminders(incident, planned)

    def snooze(self, incident: Incident, planned: Planned) -> list[Reminder]:
        """A person's "Remind me later" (plan_snooze): it replaces their pending one of the
        same thing, so a second click (a stale copy of the DM) leaves one reminder."""
        return self.store.replace_snooze(incident, planned)

    def plan_for(self, incident: Incident) -> list[Reminder]:
        """What a resolved, unpublished incident needs now (after resolve, or at start); nothing
        if it was reopened, published or given another deadline in the meantime."""
        if incident.deadline_at is None or incident.published_at is not None:
            return []
        return self.store.replan_reminders(
            incident,
            (BEFORE, OVERDUE, ESCALATE),
            plan_deadline(incident.deadline_at, self.settings),
            spare=(NUDGE,),  # a nudge is planned by the notice before it
            while_due_at=incident.deadline_at,
        )

    def plan_actions(self, incident: Incident, items: list[ActionItem]) -> list[Reminder]:
        """One reminder before each open action item's due date, and its escalation after it
        (ESCALATE_AFTER); a closed item's or an old due date's are cancelled."""
        wanted = [
            p
            for item in items
            if not item.done
            for p in (plan_action(item, self.settings), plan_action_escalation(item, self.settings))
            if p is not None
        ]
        return self.store.replan_reminders(
            incident, (ACTION, ACTION_ESCALATE), wanted, spare=(NUDGE,)
        )

    def replan_all(self, retro: Retro, deadline: timedelta) -> int:
        """Every unpublished post-mortem and open action item gets what the settings ask for
        now (a published post-mortem's open action items too); a changed deadline setting
        moves the deadline itself."""
        planned = 0
        for team_id in self.store.teams():
            for incident in self.store.unpublished(team_id):
                assert incident.resolved_at
                if incident.deadline_at != incident.resolved_at + deadline:
                    incident = self.store.update_incident(
                        team_id,
                        incident.id,
                        at=self.clock(),
                        user_id="",
                        deadline_at=incident.resolved_at + deadline,
                    )
                planned += len(self.plan_for(incident))
            incidents = self.store.open_incidents(team_id) + self.store.unpublished(team_id)
            seen = {i.id for i in incidents}
            for incident_id in self.store.incidents_with_open_actions(team_id):
                # a published post-mortem's open items too (an escalation setting is new)
                if incident_id not in seen and (i := self.store.incident(team_id, incident_id)):
                    incidents.append(i)
            for incident in incidents:
                planned += len(self.plan_actions(incident, retro.actions(incident)))
        return planned

    def cancel_deadline(self, incident: Incident) -> int:
        """Published or reopened: the deadline's reminders that have not gone out never will."""
        return self.store.cancel_reminders(incident, DEADLINE_KINDS)

    def get(self, reminder_id: int) -> Reminder:
        return self.store.reminder(reminder_id)

    def pending(self) -> list[Reminder]:
        return self.store.pending_reminders()

    def due_befores(self, reminder: Reminder) -> list[datetime]:
        """When the incident's "before" reminders were planned for (not when they wait now)."""
        return [
            planned_at(key, due)
            for key, due in self.store.reminder_plans(
                reminder.team_id, reminder.incident_id, BEFORE
            )
        ]

    def next_for(
        self,
        incident: Incident,
        people: list[str],
        zone: Callable[[str], tzinfo],
        also: Sequence[str] = (),
    ) -> dict[str, datetime]:
        """When each of `people` will next get a DM about the incident's deadline (UTC), by
        the pending reminders, their working hours on `zone(person)`, and who has had each
        already; a person with none planned is left out. `also`: who gets the owners'
        reminders besides them (someone with a section nobody has written yet)."""
        now = self.clock()
        owners = self.store.owners(incident.team_id, incident.id) or [incident.commander_id]
        owners = list(dict.fromkeys([*owners, *also]))
        found: dict[str, datetime] = {}
        for reminder in self.store.incident_reminders(
            incident.team_id, incident.id, DEADLINE_KINDS
        ):
            had = self.delivered_to(reminder.id)
            for person in audience(reminder, owners, incident.commander_id):
                if person not in people or person in had:
                    continue
                due, hours = max(reminder.due_at, now), self.settings.hours
                at = reach_at(reminder, hours, due, zone(person), incident.deadline_at)
                found[person] = min(at, found.get(person, at))
        return found

    def defer(self, reminder: Reminder, at: datetime) -> None:
        """Pending again until `at` (UTC): someone it is for is outside their working hours.
        Not an attempt: the claim's count is given back."""
        self.store.defer_reminder(reminder.id, at)

    def claim(self, reminder_id: int) -> Reminder | None:
        """Take a due reminder to send it; None if it is not pending (sent, cancelled, taken)."""
        return self.get(reminder_id) if self.store.claim_reminder(reminder_id) else None

    def release(self, reminder_id: int) -> None:
        """A send that failed half-way (the database went away, a bug): back to pending, to be
        tried again at the next tick; after five tries it is marked failed."""
        self.store.release_reminder(reminder_id, MAX_ATTEMPTS)

    def recover(self) -> int:
        """At takeover: reminders a dead process left half-sent go again. Their deliveries say
        who already has the DM, so only the one DM in flight at the crash can repeat."""
        return self.store.recover_reminders()

    def delivered_to(self, reminder_id: int) -> set[str]:
        return set(self.deliveries(reminder_id))

    def deliveries(self, reminder_id: int) -> dict[str, str]:
        """What this reminder did for each recipient so far: user id (or `channel:C..`, or a
        report's key) -> the message's ts, or `failed:<why>`. Deliveries Slack took whose row
        the database refused (see record_delivery) are written first; raises BotError if it
        still refuses."""
        for key in [k for k in self._unwritten if k[0] == reminder_id]:
            self.store.record_delivery(*key, *self._unwritten[key], self.clock())
            del self._unwritten[key]
        return self.store.reminder_deliveries(reminder_id)

    def reported(self, reminder: Reminder, key: str) -> bool:
        """Whether any reminder of this incident already recorded the report `key` (a failure
        is told once per incident, not at every reminder)."""
        return self.store.incident_delivered(reminder.team_id, reminder.incident_id, key)

    def record_delivery(self, reminder_id: int, user_id: str, channel: str, ts: str) -> None:
        """Record what Slack took, right after it took it. A busy database raises, and the
        delivery is kept in memory until `deliveries` writes it at the reminder's next try:
        then it counts as done and is not sent again (only a crash in between repeats it)."""
        self._unwritten[(reminder_id, user_id)] = (channel, ts)
        self.store.record_delivery(reminder_id, user_id, channel, ts, self.clock())
        del self._unwritten[(reminder_id, user_id)]

    def finish(self, reminder_id: int, status: str, error: str | None = None) -> None:
        self.store.finish_reminder(reminder_id, status, self.clock(), error)

    def retry_later(self, reminder: Reminder, error: str) -> datetime | None:
        """Back off and try again; None when the attempts are used up."""
        if reminder.attempts > len(self.backoff):
            return None
        at = self.clock() + self.backoff[reminder.attempts - 1]
        self.store.retry_reminder(reminder.id, at, error)
        return at
