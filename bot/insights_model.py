"""What the insights are, as data: figures across incidents over a period (bot/insights.py
computes them from the database; bot/charts.py draws them; Slack and the CLI show them). Times
are seconds; instants are UTC. A figure that cannot be told for an incident (a milestone missing,
or out of order) is counted as missing, never as zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Bucket = Literal["week", "month"]  # weeks start on Monday (ISO); months on the 1st, UTC
# The time figures, in the order the response goes: first detection - began; investigation
# started - first detection; root cause identified - began; fix deployed - began; closed - began.
TIMES = ("detect", "investigate", "root_cause", "fix_deployed", "resolve")
TIME_LABELS = {
    "detect": "Time to detect",
    "investigate": "Time to start investigating",
    "root_cause": "Time to root cause",
    "fix_deployed": "Time to fix deployed",
    "resolve": "Time to resolve",
}


@dataclass(frozen=True)
class Spread:
    """One time figure across the period's incidents: how many incidents have it, how many
    do not (milestones missing or out of order), its median and 90th percentile (seconds;
    None with no incident having it). Percentiles: linear interpolation between closest ranks
    (numpy's default, `statistics.quantiles(method="inclusive")`)."""

    count: int
    missing: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class Period:
    """One week or month (`start`, its first day, UTC): the incidents that began in it (how
    many, by severity `sev1` -> n, the median time to detect and to resolve in seconds, None
    when none of them has it), and the post-mortems of the incidents resolved in it (their
    48 hours started then), published on time, late, still open: the periods add up to the
    whole period's post-mortem figures."""

    start: date
    incidents: int
    by_severity: dict[str, int]
    median_detect_s: float | None
    median_resolve_s: float | None
    on_time: int
    late: int
    open: int


@dataclass(frozen=True)
class Figures:
    """The insights of one workspace for incidents that began in [since, until) (UTC), of the
    given severities (empty: all), per `bucket`.

    Post-mortems: of incidents resolved in the period, published by their deadline (`on_time`),
    after it (`late`, and the median lateness in seconds), or not yet (`open`; `overdue` of
    those are past their deadline now). Action items: of the period's incidents, `opened`,
    `closed`, still open past their due date (`overdue`, as of `until`), and the median age of
    the open ones (seconds since they were added, as of `until`)."""

    team_id: str
    since: datetime
    until: datetime
    severities: tuple[str, ...]
    bucket: Bucket
    incidents: int
    times: dict[str, Spread]  # keys: TIMES
    on_time: int
    late: int
    open: int
    overdue: int
    median_late_s: float | None
    actions_opened: int
    actions_closed: int
    actions_overdue: int
    median_open_action_age_s: float | None
    periods: list[Period] = field(default_factory=list)  # oldest first, every period, even empty
