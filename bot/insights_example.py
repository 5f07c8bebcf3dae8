"""An example of the insights (13 weeks of a made-up team), drawn as the README's chart:
`python -m bot.insights_example docs/insights-example.png`."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.charts import render_chart
from bot.insights_model import Figures, Period, Spread

# (incidents by severity sev1..sev4, median detect and resolve in minutes, on time, late, open)
WEEKS = [
    ((0, 1, 2, 1), 18, 190, 3, 1, 0),
    ((1, 0, 3, 0), 25, 260, 2, 2, 0),
    ((0, 2, 1, 2), 14, 150, 4, 1, 0),
    ((0, 0, 0, 0), None, None, 0, 0, 0),
    ((0, 1, 1, 0), 12, None, 1, 0, 0),
    ((1, 2, 2, 1), 22, 300, 3, 3, 0),
    ((0, 1, 3, 2), 11, 120, 5, 1, 0),
    ((0, 0, 2, 1), 9, 95, 3, 0, 0),
    ((0, 1, 1, 1), 10, 110, 2, 1, 0),
    ((0, 2, 3, 0), 8, 140, 4, 0, 1),
    ((1, 1, 1, 2), 13, 170, 3, 1, 1),
    ((0, 0, 2, 2), 7, 80, 2, 0, 2),
    ((0, 1, 1, 0), 6, 70, 0, 0, 2),
]
FIRST_MONDAY = date(2026, 8, 31)


def example_figures() -> Figures:
    """Incidents of all severities from 2026-09-01 to 2026-11-30 (UTC), by week."""
    periods = [
        Period(
            start=FIRST_MONDAY + timedelta(weeks=i),
            incidents=sum(sev),
            by_severity={f"sev{n}": c for n, c in enumerate(sev, 1) if c},
            median_detect_s=None if detect is None else detect * 60.0,
            median_resolve_s=None if resolve is None else resolve * 60.0,
            on_time=on_time,
            late=late,
            open=still_open,
        )
        for i, (sev, detect, resolve, on_time, late, still_open) in enumerate(WEEKS)
    ]
    n = sum(p.incidents for p in periods)
    return Figures(
        team_id="T0EXAMPLE",
        since=datetime(2026, 9, 1, tzinfo=UTC),
        until=datetime(2026, 12, 1, tzinfo=UTC),
        severities=(),
        bucket="week",
        incidents=n,
        times={
            "detect": Spread(n, 0, 12 * 60.0, 31 * 60.0),
            "investigate": Spread(n - 2, 2, 9 * 60.0, 26 * 60.0),
            "root_cause": Spread(n - 17, 17, 95 * 60.0, 6 * 3600.0),
            "fix_deployed": Spread(n - 5, 5, 2 * 3600.0, 7 * 3600.0),
            "resolve": Spread(n - 3, 3, 2.5 * 3600.0, 8.2 * 3600.0),
        },
        on_time=sum(p.on_time for p in periods),
        late=sum(p.late for p in periods),
        open=sum(p.open for p in periods),
        overdue=2,
        median_late_s=2 * 86400.0,
        actions_opened=61,
        actions_closed=44,
        actions_overdue=6,
        median_open_action_age_s=19 * 86400.0,
        periods=periods,
    )


def main(argv: list[str]) -> None:
    """Write the example chart to the path given (docs/insights-example.png by default)."""
    path = Path(argv[0] if argv else "docs/insights-example.png")
    path.write_bytes(render_chart(example_figures()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
