"""`python -m bot insights`: a workspace's figures from the database, offline, as a table for
people, CSV for a spreadsheet (one row per period, then one `all` row for the whole period) or
JSON (the Figures: seconds as numbers, instants ISO-8601 UTC)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot.config import ConfigError, load_offline
from bot.durations import format_duration
from bot.errors import UsageError
from bot.insights import Insights, parse_instant, parse_period
from bot.insights_model import TIME_LABELS, TIMES, Bucket, Figures
from bot.models import Severity
from bot.store import Store

SEVERITIES = [s.value for s in Severity]
# The CSV's columns: what a period has, then what only the whole period (the `all` row) has.
PERIOD_COLUMNS = [
    "period",
    "incidents",
    *SEVERITIES,
    "median_detect_s",
    "median_resolve_s",
    "on_time",
    "late",
    "open",
]
ALL_COLUMNS = [
    "overdue",
    "median_late_s",
    *(f"{name}_{part}" for name in TIMES for part in ("count", "missing", "median_s", "p90_s")),
    "actions_opened",
    "actions_closed",
    "actions_overdue",
    "median_open_action_age_s",
]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def render_json(figures: Figures) -> str:
    """The Figures as JSON: every field by its name; seconds as numbers (null: no value);
    instants ISO-8601 UTC (`2026-01-26T00:00:00+00:00`), period starts as dates."""
    return json.dumps(dataclasses.asdict(figures), default=_json_value, indent=2) + "\n"


def render_csv(figures: Figures) -> str:
    """One row per week or month (`period`: its first day), oldest first, then the `all` row
    with the whole period's figures (post-mortems, here and in each row: of the incidents
    resolved in it, so the rows add up to the `all` row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, PERIOD_COLUMNS + ALL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in figures.periods:
        writer.writerow(
            {
                "period": p.start.isoformat(),
                "incidents": p.incidents,
                **{s: p.by_severity.get(s, 0) for s in SEVERITIES},
                "median_detect_s": p.median_detect_s,
                "median_resolve_s": p.median_resolve_s,
                "on_time": p.on_time,
                "late": p.late,
                "open": p.open,
            }
        )
    counts = {s: sum(p.by_severity.get(s, 0) for p in figures.periods) for s in SEVERITIES}
    row: dict[str, Any] = {
        "period": "all",
        "incidents": figures.incidents,
        **counts,
        "median_detect_s": figures.times["detect"].median_s,
        "median_resolve_s": figures.times["resolve"].median_s,
    }
    for name in ["on_time", "late", "open", *ALL_COLUMNS]:
        if hasattr(figures, name):
            row[name] = getattr(figures, name)
    for name, spread in figures.times.items():
        row |= {
            f"{name}_count": spread.count,
            f"{name}_missing": spread.missing,
            f"{name}_median_s": spread.median_s,
            f"{name}_p90_s": spread.p90_s,
        }
    writer.writerow(row)
    return out.getvalue()


def _d(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(timedelta(seconds=seconds))


def render_table(figures: Figures) -> str:
    """The figures for people: durations as `1h 5m`, `-` where there is none."""
    which = ", ".join(figures.severities) or "all severities"
    lines = [
        f"Incidents that began {figures.since:%Y-%m-%d %H:%M} to {figures.until:%Y-%m-%d %H:%M}"
        f" UTC ({which}): {figures.incidents}",
        "",
        f"{'':<30}{'incidents':>10}{'missing':>9}{'median':>12}{'p90':>12}",
    ]
    for name in TIMES:
        s = figures.times[name]
        lines.append(
            f"{TIME_LABELS[name]:<30}{s.count:>10}{s.missing:>9}{_d(s.median_s):>12}"
            f"{_d(s.p90_s):>12}"
        )
    lines += [
        "",
        f"Post-mortems of incidents resolved in the period: {figures.on_time} on time, "
        f"{figures.late} late (median {_d(figures.median_late_s)} late), {figures.open} open "
        f"({figures.overdue} overdue)",
        f"Action items of these incidents at the end: {figures.actions_opened} opened, "
        f"{figures.actions_closed} closed, {figures.actions_overdue} overdue; open ones are "
        f"{_d(figures.median_open_action_age_s)} old (median)",
        "",
        f"{figures.bucket.capitalize() + ' of':<12}{'incidents':>10}"
        + "".join(f"{s:>6}" for s in SEVERITIES)
        + f"{'detect':>10}{'resolve':>10}{'on time':>9}{'late':>6}{'open':>6}",
    ]
    for p in figures.periods:
        lines.append(
            f"{p.start.isoformat():<12}{p.incidents:>10}"
            + "".join(f"{p.by_severity.get(s, 0):>6}" for s in SEVERITIES)
            + f"{_d(p.median_detect_s):>10}{_d(p.median_resolve_s):>10}"
            + f"{p.on_time:>9}{p.late:>6}{p.open:>6}"
        )
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Figures], str]] = {
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
}


def run_insights(
    env: Mapping[str, str],
    now: datetime,
    *,
    since: str,
    until: str | None,
    severities: Sequence[str],
    bucket: Bucket,
    form: str,
    team: str | None,
) -> int:
    """Print the figures of DATABASE_PATH's workspace (`team` when it holds several): 0; 2 with
    one line on stderr saying what to change (a setting, the period, the workspace)."""
    try:
        database, _ = load_offline(env)
    except ConfigError as error:
        return _fail(str(error))
    if not database.is_file():
        return _fail(f"no database at {database} (set DATABASE_PATH)")
    store = Store(database)
    try:
        teams = store.teams()
        if team is None and len(teams) != 1:
            return _fail(f"say which workspace with --team (known: {', '.join(teams) or 'none'})")
        end = parse_instant(until, now) if until else now
        start, end = parse_period(since, end)
        figures = Insights(store, lambda: now).figures(
            team or teams[0], start, end, severities, bucket
        )
    except UsageError as error:
        return _fail(str(error))
    finally:
        store.close()
    sys.stdout.write(RENDERERS[form](figures))
    return 0


def _fail(message: str) -> int:
    print(f"postmortem-bot: {message}", file=sys.stderr)
    return 2
