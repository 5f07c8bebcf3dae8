"""The weekly digest: its rows (their moments: bot/digest_at.py) and what it tells (the week's
incidents, post-mortems still open, action items overdue, the figures for the chart). Plain
Python; bot/slack/digest_sender.py posts it, as a reminder row like the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.digest_at import DigestAt
from bot.insights import Insights
from bot.insights_model import Figures
from bot.models import ActionItem, Incident
from bot.reminders import Reminders
from bot.store import Store
from bot.store.reminders import Planned, Reminder

DIGEST = "digest"  # the reminder kind; its rows have incident_id 0 (the whole workspace)
WORKSPACE = 0
WEEK = timedelta(days=7)
CHART_DAYS = 90  # the chart shows the trend of the last 90 days, week by week


def planned_digest(at: DigestAt, after: datetime) -> Planned:
    """The next digest after `after`; its key names its moment (UTC), so each week's digest
    is one row, sent once."""
    due = at.next_after(after)
    return Planned(DIGEST, f"digest@{due:%Y%m%dT%H%M%S}", due)


@dataclass(frozen=True)
class Digest:
    """One week's digest for a workspace: [since, until) UTC (until: when it is due).

    `began`: incidents that began in the week (oldest first). `open_postmortems`: incidents
    resolved and not published as of `until`, the first due first (`overdue` when their
    deadline is before `until`). `overdue_actions`: open action items whose due day ended
    before `until`, with their incident, the longest overdue first. `figures`: the last 90
    days, week by week, for the chart."""

    team_id: str
    since: datetime
    until: datetime
    began: list[Incident]
    open_postmortems: list[Incident]
    overdue_actions: list[tuple[Incident, ActionItem]]
    figures: Figures

    def overdue(self, incident: Incident) -> bool:
        return incident.deadline_at is not None and incident.deadline_at < self.until


class Digests:
    """Plans the digest rows and works out what a digest says, through the store."""

    def __init__(self, store: Store, reminders: Reminders, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.at = reminders.settings.digest_at  # None: no digest (DIGEST_CHANNEL is not set)
        self.clock = clock

    def plan(self, team_id: str, after: datetime | None = None) -> list[Reminder]:
        """Make the workspace's pending digest the next one after `after` (default: now): a
        digest planned under other settings and not due yet is cancelled; one already due (the
        bot was down at its moment) stays, to go out once, late. No digest wanted: every
        pending one is cancelled. Returns the new pending rows (idempotent)."""
        now = self.clock()
        wanted = planned_digest(self.at, after or now) if self.at else None
        return self.store.replan_digest(team_id, wanted, now)

    def plan_all(self) -> int:
        """At start, for every workspace with incidents; how many rows were added."""
        return sum(len(self.plan(team_id)) for team_id in self.store.teams())

    def digest(self, team_id: str, until: datetime) -> Digest:
        """What the digest due at `until` (UTC) says."""
        since = until - WEEK
        began = [
            incident
            for facts in self.store.incident_facts(team_id, since, until, ())
            if since <= facts.began < until
            if (incident := self.store.incident(team_id, facts.id)) is not None
        ]
        open_postmortems = sorted(
            (i for i in self.store.unpublished(team_id) if i.resolved_at and i.resolved_at < until),
            key=lambda i: (i.deadline_at or until, i.number),
        )
        overdue_actions = []
        for item in self.store.overdue_action_items(team_id, until.date()):
            incident = self.store.incident(team_id, item.incident_id)
            if incident is not None:
                overdue_actions.append((incident, item))
        figures = Insights(self.store, self.clock).figures(
            team_id, until - timedelta(days=CHART_DAYS), until
        )
        return Digest(team_id, since, until, began, open_postmortems, overdue_actions, figures)


def is_digest(reminder: Reminder) -> bool:
    return reminder.kind == DIGEST and reminder.incident_id == WORKSPACE
