"""The incident workflow: start, timeline, roles, resolve. Plain Python over the store; no Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import NotAllowed, NotAnIncidentChannel, NotFound, UsageError, quoted
from bot.logs import bind_incident
from bot.models import Entry, Incident, Milestone, Severity, Status
from bot.store import Store
from bot.timeline import check_text, parse_entry, split_milestone, split_time

Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)

MAX_TITLE = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Report:
    """What `/incident status` shows: the incident, its people, and its durations so far."""

    incident: Incident
    owners: list[str]
    entries: list[Entry]
    now: datetime

    def first(self, milestone: Milestone) -> datetime | None:
        times = [e.at for e in self.entries if e.milestone is milestone]
        return min(times) if times else None

    @property
    def began(self) -> datetime:
        """When the incident began: its "Incident began" entry, which people may backdate."""
        return self.first(Milestone.BEGAN) or self.incident.started_at

    @property
    def duration(self) -> timedelta:
        end = self.incident.resolved_at or self.now
        return end - self.began

    def since_began(self, milestone: Milestone) -> timedelta | None:
        at = self.first(milestone)
        return at - self.began if at else None

    @property
    def time_to_detect(self) -> timedelta | None:
        return self.since_began(Milestone.DETECTED)

    @property
    def time_to_root_cause(self) -> timedelta | None:
        return self.since_began(Milestone.ROOT_CAUSE)

    @property
    def time_to_fix(self) -> timedelta | None:
        """Until the fix was deployed (or, failing that, implemented)."""
        return self.since_began(Milestone.DEPLOYED) or self.since_began(Milestone.FIX)


class Incidents:
    """Use-cases of the incident lifecycle, each scoped to one Slack workspace (team_id)."""

    def __init__(
        self, store: Store, clock: Clock = utcnow, deadline: timedelta = timedelta(hours=48)
    ) -> None:
        self.store = store
        self.clock = clock
        self.deadline = deadline  # how long after resolution the post-mortem is due

    # --- opening ---------------------------------------------------------------------------

    def start(
        self, team_id: str, user_id: str, title: str, severity: Severity, *, private: bool
    ) -> Incident:
        title = " ".join(title.split())
        if not title:
            raise UsageError(
                "An incident needs a title: `/incident start <title> [sev1|sev2|sev3|sev4]`, "
                "e.g. `/incident start Checkout API returning 500s sev2`."
            )
        if len(title) > MAX_TITLE:
            raise UsageError(f"That title is {len(title):,} characters; keep it under {MAX_TITLE}.")
        incident = self.store.create_incident(
            team_id=team_id,
            title=title,
            severity=severity,
            private=private,
            user_id=user_id,
            started_at=self.clock(),
        )
        bind_incident(incident.hotfix_id)
        logger.info("incident opened (%s, private=%s)", severity.value, private)
        return incident

    def attach_channel(self, incident: Incident, channel_id: str, channel_name: str) -> Incident:
        now = self.clock()
        self.store.add_member(incident.team_id, channel_id, incident.created_by, now)
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=now,
            user_id=incident.created_by,
            event=("channel", channel_name),
            channel_id=channel_id,
            channel_name=channel_name,
        )

    def record_kickoff(self, incident: Incident, ts: str) -> Incident:
        return self.store.update_incident(
            incident.team_id, incident.id, at=self.clock(), user_id="", kickoff_ts=ts
        )

    # --- finding ---------------------------------------------------------------------------

    def in_channel(
        self,
        team_id: str,
        channel_id: str,
        command: str = "This command",
        *,
        as_last_read: bool = False,
    ) -> Incident:
        """The channel's incident (`as_last_read`: see Store.incident_by_channel)."""
        incident = self.store.incident_by_channel(team_id, channel_id, as_last_read=as_last_read)
        if incident is None:
            raise NotAnIncidentChannel(command)
        bind_incident(incident.hotfix_id)
        return incident

    def visible_open(self, team_id: str, user_id: str) -> list[Incident]:
        """Open incidents of the workspace; a private one only for members of its channel."""
        return [
            i
            for i in self.store.open_incidents(team_id)
            if not i.private
            or (i.channel_id and self.store.is_member(team_id, i.channel_id, user_id))
        ]

    # --- timeline --------------------------------------------------------------------------

    def add_entry(self, incident: Incident, user_id: str, text: str) -> Entry:
        """Record a timeline entry; `began:` moves the incident's one "Incident began" entry."""
        parsed = parse_entry(text, self.clock())
        if parsed.at < incident.started_at - timedelta(days=30):
            raise UsageError("That time is more than 30 days before the incident was opened.")
        logger.debug("timeline entry (%s)", parsed.milestone or "event")
        if parsed.milestone is Milestone.BEGAN:
            began = next(e for e in self.entries(incident) if e.milestone is Milestone.BEGAN)
            return self.store.update_entry(
                incident.team_id,
                began.id,
                at=parsed.at,
                text=parsed.text,
                milestone=Milestone.BEGAN,
            )
        return self.store.add_entry(
            incident,
            at=parsed.at,
            text=parsed.text,
            author_id=user_id,
            milestone=parsed.milestone,
            source="command",
        )

    def add_message(
        self, incident: Incident, author_id: str, at: datetime, text: str, message_ts: str
    ) -> tuple[Entry, bool]:
        """Add a channel message to the timeline once; (entry, whether it was new)."""
        if existing := self.store.entry_for_message(incident, message_ts):
            return existing, False
        text = " ".join(text.split()) or "(message without text)"
        milestone, rest = split_milestone(text)
        entry = self.store.add_entry(
            incident,
            at=at,
            text=check_text(rest or text),
            author_id=author_id,
            milestone=milestone,
            source="message",
            message_ts=message_ts,
        )
        return entry, True

    def entries(self, incident: Incident) -> list[Entry]:
        return self.store.entries(incident.team_id, incident.id)

    def _numbered(self, incident: Incident, user_id: str, number_text: str) -> Entry:
        entries = self.entries(incident)
        if not number_text.isdigit() or not 1 <= int(number_text) <= len(entries):
            raise UsageError(
                f"There is no entry {quoted(number_text)}: the timeline has {len(entries)} "
                "entries. Type `/timeline` to see their numbers."
            )
        entry = entries[int(number_text) - 1]
        if user_id not in (entry.author_id, incident.commander_id):
            raise NotAllowed(
                f"Only the entry's author (<@{entry.author_id}>) or the incident commander "
                f"(<@{incident.commander_id}>) may change entry {number_text}."
            )
        return entry

    def edit_entry(self, incident: Incident, user_id: str, number_text: str, text: str) -> Entry:
        entry = self._numbered(incident, user_id, number_text)
        at, rest = split_time(text, self.clock())
        milestone, rest = split_milestone(rest)
        if not rest:
            raise UsageError("Give the new text: `/timeline edit N [HH:MM] [milestone:] <text>`.")
        return self.store.update_entry(
            incident.team_id,
            entry.id,
            at=at or entry.at,
            text=check_text(rest),
            milestone=milestone or entry.milestone,
        )

    def delete_entry(self, incident: Incident, user_id: str, number_text: str) -> Entry:
        entry = self._numbered(incident, user_id, number_text)
        if entry.milestone is Milestone.BEGAN:
            raise NotAllowed("The “Incident began” entry stays; edit its time instead.")
        self.store.delete_entry(incident.team_id, entry.id)
        return entry

    # --- roles and state -------------------------------------------------------------------

    def resolve(self, incident: Incident, user_id: str, when: str) -> Incident:
        if incident.status is Status.RESOLVED:
            raise UsageError(
                f"{incident.hotfix_id} was already resolved at "
                f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC."
            )
        now = self.clock()
        at, rest = split_time(when, now)
        if rest:
            raise UsageError(
                f"{quoted(rest)} is not a time. Type `/incident resolve` for now, or "
                "`/incident resolve 15:40` for a time today (UTC)."
            )
        at = at or now
        began = self.report(incident).began
        if at < began:
            raise UsageError(
                f"The incident began at {began:%Y-%m-%d %H:%M} UTC; "
                "it cannot be resolved before that."
            )
        self.store.add_entry(
            incident,
            at=at,
            text="Resolution confirmed",
            author_id=user_id,
            milestone=Milestone.RESOLVED,
            source="system",
        )
        logger.info("resolved at %s", at.isoformat())
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=now,
            user_id=user_id,
            event=("resolved", at.isoformat()),
            status=Status.RESOLVED.value,
            resolved_at=at,
            deadline_at=at + self.deadline,
        )

    def publish(self, incident: Incident, user_id: str) -> Incident:
        """Mark the post-mortem final (again, if it was already: the latest publication counts)."""
        now = self.clock()
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=now,
            user_id=user_id,
            event=("published", ""),
            published_at=now,
        )

    def set_commander(self, incident: Incident, actor: str, user_id: str) -> Incident:
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=self.clock(),
            user_id=actor,
            event=("commander", user_id),
            commander_id=user_id,
        )

    def owners(self, incident: Incident) -> list[str]:
        """Post-mortem owners; the commander until someone is named."""
        return self.store.owners(incident.team_id, incident.id) or [incident.commander_id]

    def change_owners(
        self, incident: Incident, actor: str, action: str, users: list[str]
    ) -> list[str]:
        current = self.store.owners(incident.team_id, incident.id)
        if action == "add":
            owners = current + users if current else [incident.commander_id, *users]
        elif action == "remove":
            owners = [u for u in self.owners(incident) if u not in users]
            if not owners:
                raise UsageError("A post-mortem needs at least one owner; name another first.")
        else:
            owners = users
        self.store.set_owners(incident.team_id, incident.id, owners, at=self.clock(), by=actor)
        return self.owners(incident)

    def set_severity(self, incident: Incident, actor: str, severity: Severity) -> Incident:
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=self.clock(),
            user_id=actor,
            event=("severity", severity.value),
            severity=severity.value,
        )

    def report(self, incident: Incident) -> Report:
        return Report(
            incident=incident,
            owners=self.owners(incident),
            entries=self.entries(incident),
            now=self.clock(),
        )

    def note_member(self, team_id: str, channel_id: str, user_id: str, joined: bool) -> None:
        if joined:
            self.store.add_member(team_id, channel_id, user_id, self.clock())
        else:
            self.store.remove_member(team_id, channel_id, user_id)

    def for_person(self, team_id: str, user_id: str) -> tuple[list[Incident], list[Incident]]:
        """(open incidents they command, own or are in; resolved post-mortems they own)."""
        store = self.store
        mine = [
            i
            for i in store.open_incidents(team_id)
            if user_id == i.commander_id
            or user_id in self.owners(i)
            or (i.channel_id and store.is_member(team_id, i.channel_id, user_id))
        ]
        owned = [i for i in store.unpublished(team_id) if user_id in self.owners(i)]
        return mine, owned

    def reopen(self, incident: Incident, user_id: str) -> Incident:
        """Back to open: the resolution and the deadline go; re-resolving sets them anew."""
        if incident.status is not Status.RESOLVED:
            raise UsageError(f"{incident.hotfix_id} is open already.")
        return self.store.reopen_incident(incident, at=self.clock(), user_id=user_id)

    def find(self, team_id: str, hotfix: str) -> Incident:
        """`hotfix-001` (or `1`) in this workspace."""
        digits = hotfix.lower().removeprefix("hotfix-")
        incident = self.store.incident_by_number(team_id, int(digits)) if digits.isdigit() else None
        if incident is None:
            raise NotFound(f"There is no {hotfix} in workspace {team_id}.")
        return incident
