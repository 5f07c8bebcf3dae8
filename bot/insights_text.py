"""The insights in words: the chart's title, its alt text for screen readers, and a plain-text
summary for the Slack message and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from bot.durations import format_duration, in_words
from bot.insights_model import TIME_LABELS, TIMES, Figures
from bot.models import Severity

# English whatever the locale (strftime's `%B` follows it)
_NAMES = "January February March April May June July August September October November December"
MONTHS_LONG = tuple(_NAMES.split(" "))
MONTHS = tuple(m[:3] for m in MONTHS_LONG)


def title(figures: Figures) -> str:
    """`Incidents 2026-09-01 – 2026-11-30, all severities`: the period's days, `until` excluded."""
    days = f"{figures.since.date()} – {last_day(figures)}"
    return f"Incidents {days}, {severities_words(figures.severities)}"


def period_label(start: date, bucket: str, with_year: bool) -> str:
    """`Sep 7` (a week), `Sep` or `Sep 2026` (a month): English month names, whatever the
    locale."""
    month = MONTHS[start.month - 1]
    if bucket == "week":
        return f"{month} {start.day}" + (f" {start.year}" if with_year else "")
    return month + (f" {start.year}" if with_year else "")


def severities_words(severities: Sequence[str]) -> str:
    """`all severities` (none chosen) or `SEV1, SEV2`."""
    return ", ".join(s.upper() for s in severities) if severities else "all severities"


def alt_text(figures: Figures) -> str:
    """Two sentences (under 500 characters) for the image's `alt_txt`, durations in words a
    screen reader speaks (`12 minutes`): the incident count; the median and p90 time to detect
    and to resolve, each with how its median moved from the first to the last period that has
    one; the post-mortems on time out of all those due."""
    first, last = figures.since.date(), last_day(figures)
    scope = (
        f"from {_day(first, year=first.year != last.year)} to {_day(last)}"
        f" ({severities_words(figures.severities)})"
    )
    due = figures.on_time + figures.late + figures.open
    postmortems = (
        f"Post-mortems: {figures.on_time} of {due} on time, {figures.late} late, "
        f"{figures.open} still open."
        if due
        else "No post-mortem is due yet."
    )
    if figures.incidents == 0:  # those resolved in it may still owe their post-mortems
        return f"No incidents {scope}." + (f" {postmortems}" if due else "")
    n = figures.incidents
    times = "; ".join(_time_words(figures, name) for name in ("detect", "resolve"))
    return f"{n} incident{'s' * (n != 1)} {scope}: {times}. {postmortems}"


def _time_words(figures: Figures, name: str) -> str:
    """`median time to detect 12 minutes, p90 45 minutes, falling from 20 minutes in the week of
    7 Sep to 10 minutes in the week of 23 Nov`."""
    spread = figures.times[name]
    label = TIME_LABELS[name].lower()
    if spread.median_s is None or spread.p90_s is None:
        return f"{label} not known for any incident"
    words = f"median {label} {spoken(spread.median_s)}, p90 {spoken(spread.p90_s)}"
    field = f"median_{name}_s"
    known = [(p.start, getattr(p, field)) for p in figures.periods if getattr(p, field) is not None]
    if len(known) < 2:
        return words
    (start, first), (end, last) = known[0], known[-1]
    was, now = spoken(first), spoken(last)
    moved = "falling" if last < first else "rising"
    a, b = _period_words(start, figures.bucket), _period_words(end, figures.bucket)
    if was == now:
        return f"{words}, the same {was} in {a} as in {b}"
    return f"{words}, {moved} from {was} in {a} to {now} in {b}"


def spoken(seconds: float) -> str:
    """`45 seconds`, `12 minutes`, `3 hours 20 minutes`, `2 days 4 hours`: for sentences."""
    if seconds < 86400:
        return in_words(timedelta(seconds=seconds))
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} day{'s' * (days != 1)}" + (
        f" {hours} hour{'s' * (hours != 1)}" if hours else ""
    )


def summary_lines(figures: Figures) -> list[str]:
    """The figures as 3 to 8 lines of plain text (the Slack message, the CLI), durations as the
    bot shows them everywhere (`1d 2h 5m`); a time some incidents lack says how many have it."""
    scope = f"{figures.since.date()} – {last_day(figures)}, {severities_words(figures.severities)}"
    due = figures.on_time + figures.late + figures.open
    if figures.incidents == 0:  # none began; those resolved in it may owe post-mortems
        return [f"No incidents in {scope}.", *([_postmortems_line(figures)] if due else [])]
    n = figures.incidents
    by_severity = {
        s.label: sum(p.by_severity.get(s.value, 0) for p in figures.periods) for s in Severity
    }
    counts = ", ".join(f"{c} {label}" for label, c in by_severity.items() if c)
    lines = [f"{n} incident{'s' * (n != 1)} in {scope}" + (f": {counts}" if counts else "")]
    for name in TIMES:
        spread = figures.times[name]
        of = f"{spread.count} of {spread.count + spread.missing} incidents have it"
        if spread.median_s is None or spread.p90_s is None:
            lines.append(f"{TIME_LABELS[name]}: not known ({of})")
            continue
        line = f"{TIME_LABELS[name]}: median {short(spread.median_s)}, p90 {short(spread.p90_s)}"
        lines.append(line + (f" ({of})" if spread.missing else ""))
    lines.append(_postmortems_line(figures))
    age = figures.median_open_action_age_s
    lines.append(
        f"Action items: {figures.actions_opened} opened, {figures.actions_closed} closed, "
        f"{figures.actions_overdue} overdue"
        + (f"; the open ones are {short(age)} old (median)" if age is not None else "")
    )
    return lines


def _postmortems_line(figures: Figures) -> str:
    """`Post-mortems: 2 of 3 on time, 1 late (median 1d late), 0 open` of the incidents
    resolved in the period."""
    late_s = figures.median_late_s
    late = f" (median {short(late_s)} late)" if late_s is not None else ""
    overdue = f" ({figures.overdue} past their deadline)" if figures.overdue else ""
    due = figures.on_time + figures.late + figures.open
    if not due:
        return "Post-mortems: none due yet"
    postmortems = f"{figures.on_time} of {due} on time, {figures.late} late{late}, "
    return f"Post-mortems: {postmortems}{figures.open} open{overdue}"


def short(seconds: float) -> str:
    """`1d 2h 5m`: a duration in seconds as the bot shows durations everywhere."""
    return format_duration(timedelta(seconds=seconds))


def last_day(figures: Figures) -> date:
    """The last day of the figures' period (`until` is its end, excluded)."""
    return (figures.until - timedelta(microseconds=1)).date()


def _day(day: date, year: bool = True) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")


def _period_words(start: date, bucket: str) -> str:
    if bucket == "week":
        return f"the week of {_day(start, year=False)}"
    return f"{MONTHS_LONG[start.month - 1]} {start.year}"
