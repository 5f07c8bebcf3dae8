"""The nouns of an incident: severities, statuses, milestones, incidents and timeline entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def label(self) -> str:
        return self.value.upper()


DEFAULT_SEVERITY = Severity.SEV3


class Status(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Milestone(StrEnum):
    """Response milestones, named by the keyword people type (`/timeline detected: ...`)."""

    BEGAN = "began"
    DETECTED = "detected"
    INVESTIGATING = "investigating"
    ROOT_CAUSE = "root-cause"
    FIX = "fix"
    DEPLOYED = "deployed"
    VERIFIED = "verified"
    RESOLVED = "resolved"
    MONITORING = "monitoring"

    @property
    def label(self) -> str:
        """The event's name in the post-mortem template's timeline table."""
        return _MILESTONE_LABELS[self]


_MILESTONE_LABELS = {
    Milestone.BEGAN: "Incident began",
    Milestone.DETECTED: "First detection",
    Milestone.INVESTIGATING: "Investigation started",
    Milestone.ROOT_CAUSE: "Root cause identified",
    Milestone.FIX: "Fix implemented",
    Milestone.DEPLOYED: "Fix deployed",
    Milestone.VERIFIED: "Verification complete",
    Milestone.RESOLVED: "Incident closed",
    Milestone.MONITORING: "Post-incident monitoring",
}

# One of each per incident: `began` is recorded at `/incident start` and `resolved` at
# `/incident resolve`; typing the keyword moves that entry instead of adding another.
ONE_TIME = frozenset({Milestone.BEGAN, Milestone.RESOLVED})


def hotfix_id(number: int) -> str:
    return f"hotfix-{number:03d}"


@dataclass(frozen=True)
class Incident:
    id: int
    team_id: str
    number: int
    title: str
    severity: Severity
    status: Status
    private: bool
    commander_id: str
    created_by: str
    started_at: datetime
    channel_id: str | None = None
    channel_name: str | None = None
    resolved_at: datetime | None = None
    deadline_at: datetime | None = None
    kickoff_ts: str | None = None
    checklist_ts: str | None = None
    published_at: datetime | None = None

    @property
    def hotfix_id(self) -> str:
        return hotfix_id(self.number)


@dataclass(frozen=True)
class Entry:
    """One line of an incident's timeline. `number` (#1, #2, ...) is given when it is recorded
    and never changes or is reused; a deleted entry keeps it, with `deleted_at` set."""

    id: int
    incident_id: int
    at: datetime
    text: str
    author_id: str
    milestone: Milestone | None = None
    source: str = "command"
    number: int = 0
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    edited_by: str | None = None
    kept_by: str | None = None  # for a kept channel message: who kept it first
    message_ts: str | None = None  # the kept channel message (thread replies too)
    permalink: str | None = None  # the kept message's link (chat.getPermalink)

    @property
    def label(self) -> str:
        return f"#{self.number}"

    @property
    def event(self) -> str:
        return self.milestone.label if self.milestone else self.text


class Priority(StrEnum):
    """Action item groups of the template: this week, this month, this quarter."""

    IMMEDIATE = "immediate"
    SHORT_TERM = "short-term"
    LONG_TERM = "long-term"

    @property
    def heading(self) -> str:
        return {
            Priority.IMMEDIATE: "Immediate Actions (This Week)",
            Priority.SHORT_TERM: "Short-Term Actions (This Month)",
            Priority.LONG_TERM: "Long-Term Actions (This Quarter)",
        }[self]


@dataclass(frozen=True)
class ActionItem:
    id: int
    incident_id: int
    number: int
    text: str
    priority: Priority
    owner_id: str | None = None
    due: date | None = None
    why: str | None = None
    done: bool = False
    dm_channel: str | None = None
    dm_ts: str | None = None

    @property
    def label(self) -> str:
        return f"AI-{self.number:03d}"
