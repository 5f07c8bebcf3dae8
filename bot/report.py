"""An incident's state in numbers: when it began, its milestones, the durations between them,
and the contradictions that keep a duration from being computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.durations import format_duration
from bot.models import Entry, Incident, Milestone


@dataclass(frozen=True)
class Report:
    """What `/incident status` shows and the post-mortem's metrics: times in UTC."""

    incident: Incident
    owners: list[str]
    entries: list[Entry]
    now: datetime

    def first_entry(self, milestone: Milestone) -> Entry | None:
        found = [e for e in self.entries if e.milestone is milestone]
        return min(found, key=lambda e: e.at) if found else None

    def first(self, milestone: Milestone) -> datetime | None:
        entry = self.first_entry(milestone)
        return entry.at if entry else None

    @property
    def began(self) -> datetime:
        """When the incident began: its "Incident began" entry, which people may backdate."""
        return self.first(Milestone.BEGAN) or self.incident.started_at

    @property
    def duration(self) -> timedelta:
        end = self.incident.resolved_at or self.now
        return end - self.began

    def since_began(self, milestone: Milestone) -> timedelta | None:
        """From "Incident began" to the milestone's first entry; None if there is none, or if
        it comes before the beginning (a contradiction, named by `contradictions`)."""
        at = self.first(milestone)
        return at - self.began if at and at >= self.began else None

    @property
    def contradictions(self) -> dict[Milestone, str]:
        """Milestones recorded before "Incident began", each with a sentence that names it."""
        began = self.began
        found: dict[Milestone, str] = {}
        for milestone in Milestone:
            entry = self.first_entry(milestone)
            if milestone is not Milestone.BEGAN and entry and entry.at < began:
                found[milestone] = (
                    f"“{milestone.label}” ({entry.label}, {entry.at:%Y-%m-%d %H:%M} UTC) is "
                    f"{format_duration(began - entry.at)} before “Incident began” "
                    f"({began:%Y-%m-%d %H:%M} UTC)"
                )
        return found

    @property
    def time_to_detect(self) -> timedelta | None:
        return self.since_began(Milestone.DETECTED)

    @property
    def time_to_root_cause(self) -> timedelta | None:
        return self.since_began(Milestone.ROOT_CAUSE)

    @property
    def time_to_fix(self) -> timedelta | None:
        """Until the fix was deployed (or, failing that, implemented)."""
        return self.since_began(self._fix_milestone)

    @property
    def _fix_milestone(self) -> Milestone:
        """What time to fix counts to: the fix deployed, or, until it is, implemented."""
        return Milestone.DEPLOYED if self.first(Milestone.DEPLOYED) else Milestone.FIX

    def metrics(self) -> list[tuple[str, str]]:
        """(name, value) of each duration that can be told: `1h 5m`, or why it cannot
        ("not computed: “First detection” ... is 19m before “Incident began” ...")."""
        contradictions = self.contradictions
        rows = []
        for name, milestones, value in (
            ("Time to detect", (Milestone.DETECTED,), self.time_to_detect),
            ("Time to root cause", (Milestone.ROOT_CAUSE,), self.time_to_root_cause),
            ("Time to fix", (self._fix_milestone,), self.time_to_fix),
        ):
            if value is not None:
                rows.append((name, format_duration(value)))
            elif reasons := [contradictions[m] for m in milestones if m in contradictions]:
                rows.append((name, "not computed: " + reasons[0]))
        if self.incident.resolved_at:
            rows.append(("Duration of impact", format_duration(self.duration)))
        return rows
