"""Insights: a workspace's figures over a period (what each means: bot/insights_model.py), worked
out from the store's facts, and the periods people name (`90d`, `quarter`, `year`)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from bot.errors import UsageError, quoted
from bot.insights_model import TIMES, Bucket, Figures, Period, Spread
from bot.models import Severity
from bot.store import Store
from bot.store.insights import ActionFacts, IncidentFacts

BUCKETS = ("week", "month")
MAX_DAYS = 3660  # ten years: a period people ask for, not a typo of one
# The years an instant of a period may fall in: a typo like `0001-01-05` or `9999-12-31` would
# take a period's weeks past what `datetime` holds (OverflowError)
YEARS = range(1970, 9000)
TOO_LONG = "is not a period people ask for (ten years at most)"
PERIOD_HELP = (
    "write `30d`, `90d`, `12w`, `quarter` (this calendar quarter so far), `year` (the last "
    "365 days) or a date like `2026-01-01`"
)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0.5: the median, 0.9: p90) by linear interpolation between closest
    ranks (`statistics.quantiles(method="inclusive")`, numpy's default); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    if q == 0.5:
        return float(statistics.median(values))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return float(cuts[round(q * 100) - 1])


def incident_times(facts: IncidentFacts) -> dict[str, float | None]:
    """Each time figure of one incident (TIMES -> seconds): None when a milestone it needs is
    missing or comes before the one it is counted from (out of order: never zero)."""
    spans = {
        "detect": (facts.began, facts.detected),
        "investigate": (facts.detected, facts.investigating),
        "root_cause": (facts.began, facts.root_cause),
        "fix_deployed": (facts.began, facts.deployed),
        "resolve": (facts.began, facts.closed),
    }
    return {
        name: (end - start).total_seconds() if start and end and end >= start else None
        for name, (start, end) in spans.items()
    }


def period_start(day: date, bucket: Bucket) -> date:
    """The first day of the week (Monday, ISO) or month that holds `day`."""
    return day - timedelta(days=day.weekday()) if bucket == "week" else day.replace(day=1)


def next_period(start: date, bucket: Bucket) -> date:
    if bucket == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_starts(since: datetime, until: datetime, bucket: Bucket) -> list[date]:
    """Every week or month that [since, until) touches, oldest first (empty ones too)."""
    last = (until - timedelta(microseconds=1)).date()
    start, starts = period_start(since.date(), bucket), []
    while start <= last:
        starts.append(start)
        start = next_period(start, bucket)
    return starts


def _median(values: Iterable[float | None]) -> float | None:
    return quantile([v for v in values if v is not None], 0.5)


def postmortems(incidents: Sequence[IncidentFacts]) -> tuple[int, int, int]:
    """(on time, late, still open) of the post-mortems of the resolved ones among `incidents`:
    published by the deadline, after it, not yet."""
    resolved = [f for f in incidents if f.closed is not None]
    published = [f for f in resolved if f.published_at is not None]
    late = [f for f in published if _late_s(f) > 0]
    return len(published) - len(late), len(late), len(resolved) - len(published)


def _late_s(facts: IncidentFacts) -> float:
    if facts.published_at is None or facts.deadline_at is None:
        return 0.0
    return (facts.published_at - facts.deadline_at).total_seconds()


class Insights:
    """Figures across incidents, read through the store; `clock` (UTC) says what "now" is for
    the post-mortems overdue."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def figures(
        self,
        team_id: str,
        since: datetime,
        until: datetime,
        severities: Sequence[str] = (),
        bucket: Bucket = "week",
    ) -> Figures:
        """The figures of incidents that began in [since, until) (aware datetimes), of these
        severities (`sev1` ...; empty: all), per week or month. UsageError for an unknown
        severity or bucket, or an empty period."""
        sevs = _severities(severities)
        if bucket not in BUCKETS:
            raise UsageError(f"{quoted(bucket)} is not a bucket; write `week` or `month`.")
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        if since >= until:
            raise UsageError(f"The period ends ({until:%Y-%m-%d}) before it starts; {PERIOD_HELP}.")
        facts = self.store.incident_facts(team_id, since, until, sevs)
        began = [f for f in facts if since <= f.began < until]
        resolved = [f for f in facts if f.closed is not None and since <= f.closed < until]
        times = [incident_times(f) for f in began]
        on_time, late, still_open = postmortems(resolved)
        now = self.clock()
        actions = self.store.action_facts(team_id, [f.id for f in began])
        opened, closed, overdue, ages = _actions(actions, until)
        return Figures(
            team_id=team_id,
            since=since,
            until=until,
            severities=sevs,
            bucket=bucket,
            incidents=len(began),
            times={name: _spread([t[name] for t in times]) for name in TIMES},
            on_time=on_time,
            late=late,
            open=still_open,
            overdue=sum(
                1
                for f in resolved
                if f.published_at is None and f.deadline_at is not None and f.deadline_at < now
            ),
            median_late_s=_median(_late_s(f) for f in resolved if _late_s(f) > 0),
            actions_opened=opened,
            actions_closed=closed,
            actions_overdue=overdue,
            median_open_action_age_s=_median(ages),
            periods=_periods(began, resolved, since, until, bucket),
        )


def _severities(given: Sequence[str]) -> tuple[str, ...]:
    known = [s.value for s in Severity]
    chosen = tuple(dict.fromkeys(s.strip().lower() for s in given))
    for name in chosen:
        if name not in known:
            raise UsageError(f"{quoted(name)} is not a severity; write one of {', '.join(known)}.")
    return chosen


def _spread(values: list[float | None]) -> Spread:
    told = [v for v in values if v is not None]
    return Spread(
        count=len(told),
        missing=len(values) - len(told),
        median_s=quantile(told, 0.5),
        p90_s=quantile(told, 0.9),
    )


def _actions(actions: Sequence[ActionFacts], until: datetime) -> tuple[int, int, int, list[float]]:
    """As of `until`: (opened, closed, open past their due day, ages in seconds of the open)."""
    opened = [a for a in actions if a.created_at is None or a.created_at < until]
    still = [a for a in opened if a.done_at is None or a.done_at >= until]
    overdue = [a for a in still if a.due is not None and a.due < until.date()]
    ages = [(until - a.created_at).total_seconds() for a in still if a.created_at is not None]
    return len(opened), len(opened) - len(still), len(overdue), ages


def _periods(
    began: Sequence[IncidentFacts],
    resolved: Sequence[IncidentFacts],
    since: datetime,
    until: datetime,
    bucket: Bucket,
) -> list[Period]:
    """Each period's incidents by the day they began, and its post-mortems by the day their
    incident was resolved (the day their clock started, as in the whole period's figures: the
    periods add up to them)."""
    starts = period_starts(since, until, bucket)
    groups: dict[date, list[IncidentFacts]] = {start: [] for start in starts}
    due: dict[date, list[IncidentFacts]] = {start: [] for start in starts}
    for facts in began:
        groups[period_start(facts.began.date(), bucket)].append(facts)
    for facts in resolved:
        assert facts.closed is not None
        due[period_start(facts.closed.date(), bucket)].append(facts)
    periods = []
    for start, group in groups.items():
        times = [incident_times(f) for f in group]
        on_time, late, still_open = postmortems(due[start])
        by_severity: dict[str, int] = {}
        for facts in group:
            by_severity[facts.severity] = by_severity.get(facts.severity, 0) + 1
        periods.append(
            Period(
                start=start,
                incidents=len(group),
                by_severity=dict(sorted(by_severity.items())),
                median_detect_s=_median(t["detect"] for t in times),
                median_resolve_s=_median(t["resolve"] for t in times),
                on_time=on_time,
                late=late,
                open=still_open,
            )
        )
    return periods


def parse_period(text: str, now: datetime) -> tuple[datetime, datetime]:
    """(since, until=now), UTC, from what people type: `30d`, `12w` (days or weeks back from
    now), `quarter` (this calendar quarter so far: what a manager means by "this quarter"; at
    its very start, the one just ended),
    `year` (the last 365 days), or a date `2026-01-01` (from its start, UTC). A leading
    `--since` is allowed. UsageError saying what to type otherwise."""
    now = now.astimezone(UTC)
    spec = re.sub(r"^-*since\s*=?\s*", "", text.strip().lower())
    if spec == "quarter":  # the one that holds the period's last instant: at 00:00 on
        last = now - timedelta(microseconds=1)  # April 1st, the first quarter, not an empty one
        first = date(last.year, (last.month - 1) // 3 * 3 + 1, 1)
        return datetime.combine(first, time(), UTC), now
    if spec == "year":
        return now - timedelta(days=365), now
    if match := re.fullmatch(r"(\d{1,5})\s*([dw])", spec):
        days = int(match[1]) * (7 if match[2] == "w" else 1)
        if not 0 < days <= MAX_DAYS:
            raise UsageError(f"{quoted(text)} {TOO_LONG}; {PERIOD_HELP}.")
        return now - timedelta(days=days), now
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec):
        since = _instant(spec)
        if since >= now:
            raise UsageError(f"{quoted(text)} is not in the past; {PERIOD_HELP}.")
        if now - since > timedelta(days=MAX_DAYS):  # a chart of centuries takes minutes
            raise UsageError(f"{quoted(text)} {TOO_LONG}; {PERIOD_HELP}.")
        return since, now
    raise UsageError(f"{quoted(text)} is not a period; {PERIOD_HELP}.")


def parse_instant(text: str, now: datetime) -> datetime:
    """An end (or start) of a period: `now`, a date `2026-04-01` (its midnight, UTC) or an ISO
    time (`2026-04-01T12:00Z`; without a zone: UTC), in one of YEARS. UsageError saying what to
    type otherwise."""
    if text.strip().lower() == "now":
        return now.astimezone(UTC)
    at = _instant(text)
    if at.year not in YEARS:
        raise UsageError(
            f"{quoted(text)} is not a time people ask about; write one between "
            f"{YEARS.start} and {YEARS.stop - 1}."
        )
    return at


def _instant(text: str) -> datetime:
    spec = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec):
            return datetime.combine(date.fromisoformat(spec), time(), UTC)
        at = datetime.fromisoformat(spec.replace("Z", "+00:00").replace("z", "+00:00"))
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(
            f"{quoted(text)} is not a time; write `now`, a date like `2026-04-01` or a time "
            "like `2026-04-01T12:00Z` (UTC)."
        ) from None
