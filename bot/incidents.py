"""The incident workflow: start, timeline, roles, resolve. Plain Python over the store; no Slack."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot import access
from bot.errors import NotAllowed, NotAnIncidentChannel, NotFound, UsageError, quoted
from bot.free_text import TITLE
from bot.logs import bind_incident
from bot.models import Incident, Severity, Status
from bot.report import Report
from bot.store import Store
from bot.when import ZoneSource, split_when

NAMED = re.compile(r"hotfix-(\d{1,6})", re.IGNORECASE)  # how a command names an incident

Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Incidents:
    """Use-cases of the incident lifecycle, each scoped to one Slack workspace (team_id)."""

    def __init__(
        self,
        store: Store,
        clock: Clock = utcnow,
        deadline: timedelta = timedelta(hours=48),
        confirm_member: Callable[[Incident, str], bool] = lambda incident, user_id: False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.deadline = deadline  # how long after resolution the post-mortem is due
        # asks Slack whether someone is in an incident's channel (bot/slack/members.py)
        self.confirm_member = confirm_member

    # --- opening ---------------------------------------------------------------------------

    def start(
        self, team_id: str, user_id: str, title: str, severity: Severity, *, private: bool
    ) -> Incident:
        title = TITLE.clean(title)
        if not any(ch.isalnum() for ch in title):  # `-`, `...`: not a title anyone can find
            raise UsageError(
                "An incident needs a title: `/incident start <title> [sev1|sev2|sev3|sev4]`, "
                "e.g. `/incident start Checkout API returning 500s sev2`."
            )
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
        return self.store.attach_channel(incident, channel_id, channel_name, self.clock())

    def discard_unopened(self, incident: Incident) -> bool:
        """Undo a start whose channel never came (see Store.discard_unopened)."""
        return self.store.discard_unopened(incident.team_id, incident.id)

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
        user_id: str | None = None,
    ) -> Incident:
        """The channel's incident (`as_last_read`: see Store.incident_by_channel). With
        `user_id`, the person acting there: NotAllowed (access.UNSEEN) unless the incident is open
        to them now. Slack lets only a private channel's members type there, but a request
        that names the channel proves nothing (README, "Who may do what"). Someone the store
        does not know in the channel is asked of Slack (`confirm_member`): their join may not
        have reached the bot yet; a yes is remembered."""
        incident = self.store.incident_by_channel(team_id, channel_id, as_last_read=as_last_read)
        if incident is None:
            raise NotAnIncidentChannel(command)
        bind_incident(incident.hotfix_id)
        if user_id is not None and not access.may_change(self.store, incident, user_id):
            if not self.confirm_member(incident, user_id):
                raise NotAllowed(access.UNSEEN)
            self.store.add_member(team_id, channel_id, user_id, self.clock())
        return incident

    def about(
        self, team_id: str, channel_id: str, user_id: str, words: list[str], command: str
    ) -> tuple[Incident, list[str]]:
        """The incident a command is about, and the words after its name. A first word
        `hotfix-007` names it, from anywhere (a DM with the bot, another channel, after its
        channel was archived); otherwise it is the channel's. UsageError if the named incident
        does not exist or is private to a channel `user_id` is not in (the same words for
        both); NotAnIncidentChannel when nothing names it and the channel is none."""
        named = NAMED.fullmatch(words[0]) if words else None
        if named is None:
            if words and words[0].lower().startswith("hotfix-"):
                raise UsageError(
                    f"{quoted(words[0])} names no incident: they are named `hotfix-001`, "
                    "`hotfix-002`, ... (`/incident list` shows them)."
                )
            return self.in_channel(team_id, channel_id, command, user_id=user_id), words
        incident = self.store.incident_by_number(team_id, int(named[1]))
        if incident is None or not self.may_see(incident, user_id):
            raise UsageError(
                f"There is no {quoted(words[0])} you can see. `/incident list` shows the open "
                "incidents; a private incident is seen by the people in its channel."
            )
        bind_incident(incident.hotfix_id)
        return incident, words[1:]

    def may_see(self, incident: Incident, user_id: str) -> bool:
        """Whether `user_id` may see the incident now (see access.may_see)."""
        return access.may_see(self.store, incident, user_id)

    def visible_open(self, team_id: str, user_id: str) -> list[Incident]:
        """Open incidents of the workspace; a private one only for members of its channel."""
        return [
            i
            for i in self.store.open_incidents(team_id)
            if not i.private
            or (i.channel_id and self.store.is_member(team_id, i.channel_id, user_id))
        ]

    # --- roles and state -------------------------------------------------------------------

    def resolve(self, incident: Incident, user_id: str, when: str, zone: ZoneSource) -> Incident:
        """Resolve now, or at the time given (read like a `/timeline` time): records "Incident
        closed" and the post-mortem deadline. Raises UsageError."""
        if incident.status is Status.RESOLVED:
            raise UsageError(
                f"{incident.hotfix_id} was already resolved at "
                f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC. To correct the time: "
                "`/timeline HH:MM resolved: <how it was confirmed>`."
            )
        now = self.clock()
        written, rest = split_when(when, now, zone)
        if rest:
            raise UsageError(
                f"{quoted(rest)} is not a time. Type `/incident resolve` for now, or "
                "`/incident resolve 15:40` for a time today (your time)."
            )
        at = written.at if written else now
        began = self.report(incident).began
        if at < began:
            said = f"{written.describe()}, but the" if written else "The"
            raise UsageError(
                f"{said} incident began at {began:%Y-%m-%d %H:%M} UTC; it cannot be resolved "
                "before that. If it began earlier, move its beginning first: "
                "`/timeline HH:MM began: <what triggered it>`."
            )
        logger.info("resolved at %s", at.isoformat())
        return self.store.resolve_incident(
            incident, at=at, deadline_at=at + self.deadline, user_id=user_id, when=now
        )

    def publish(
        self, incident: Incident, user_id: str, final: str | None = None
    ) -> Incident | None:
        """Mark the post-mortem final (again, if it was already: the latest publication counts).
        Conflict if the incident was reopened, or published by someone else, since it was read.
        With `final`, the post-mortem as it would be published now: None, and nothing recorded,
        when it is published already and nothing changed since."""
        return self.store.publish_incident(incident, at=self.clock(), user_id=user_id, final=final)

    def set_commander(
        self,
        incident: Incident,
        actor: str,
        user_id: str,
        is_deactivated: Callable[[str], bool] = lambda user_id: False,
    ) -> Incident:
        """`actor` hands command to `user_id`, if they may now (access.check_handover; the
        commander's account is looked up with `is_deactivated` only when it matters). The log
        records from whom, to whom and by whom. Raises NotAllowed."""
        current = self.store.incident(incident.team_id, incident.id) or incident
        access.check_handover(self.store, current, actor, is_deactivated)
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=self.clock(),
            user_id=actor,
            event=("commander", user_id, current.commander_id),
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
            entries=self.store.entries(incident.team_id, incident.id),
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
            if i.channel_id  # one without is still being opened, or was never opened
            and self.may_see(i, user_id)
            and (
                user_id == i.commander_id
                or user_id in self.owners(i)
                or store.is_member(team_id, i.channel_id, user_id)
            )
        ]
        owned = [
            i
            for i in store.unpublished(team_id)
            if user_id in self.owners(i) and self.may_see(i, user_id)
        ]
        return mine, owned

    def reopen(self, incident: Incident, user_id: str) -> Incident:
        """Back to open: the resolution and the deadline go; re-resolving sets them anew."""
        return self.store.reopen_incident(incident, at=self.clock(), user_id=user_id)

    def find(self, team_id: str, hotfix: str) -> Incident:
        """`hotfix-001` (or `1`) in this workspace."""
        digits = hotfix.lower().removeprefix("hotfix-")
        found = digits.isascii() and digits.isdigit()
        incident = self.store.incident_by_number(team_id, int(digits)) if found else None
        if incident is None:
            raise NotFound(f"There is no {hotfix} in workspace {team_id}.")
        return incident
