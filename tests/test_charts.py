"""The insights chart and its words: a PNG people can read in either Slack theme, the same
figures in sentences for screen readers and in lines for the message and the CLI."""

from __future__ import annotations

import io
import itertools
import re
import struct
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.charts import render_chart, time_series, time_unit
from bot.insights_example import example_figures
from bot.insights_model import TIMES, Figures, Period, Spread
from bot.insights_text import alt_text, period_label, spoken, summary_lines, title
from tests.test_architecture import BOT, imports

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
MIN = 60.0
HOUR = 3600.0


def period(start, sev=(0, 0, 0, 0), detect=None, resolve=None, on_time=0, late=0, still_open=0):
    return Period(
        start=start,
        incidents=sum(sev),
        by_severity={f"sev{n}": c for n, c in enumerate(sev, 1) if c},
        median_detect_s=detect,
        median_resolve_s=resolve,
        on_time=on_time,
        late=late,
        open=still_open,
    )


def figures(periods, times=None, **overrides):
    """Figures for incidents from 2026-09-01 to 2026-11-30 (until 2026-12-01, excluded)."""
    n = sum(p.incidents for p in periods)
    spreads = {name: Spread(0, n, None, None) for name in TIMES} | (times or {})
    values = dict(
        team_id="T1",
        since=datetime(2026, 9, 1, tzinfo=UTC),
        until=datetime(2026, 12, 1, tzinfo=UTC),
        severities=(),
        bucket="month",
        incidents=n,
        times=spreads,
        on_time=sum(p.on_time for p in periods),
        late=sum(p.late for p in periods),
        open=sum(p.open for p in periods),
        overdue=0,
        median_late_s=None,
        actions_opened=0,
        actions_closed=0,
        actions_overdue=0,
        median_open_action_age_s=None,
        periods=periods,
    )
    return Figures(**(values | overrides))


# Three months: October has incidents but none with a detection time nor a resolution.
MONTHS = [
    period(date(2026, 9, 1), (1, 2, 4, 3), 20 * MIN, 4 * HOUR, on_time=6, late=3, still_open=1),
    period(date(2026, 10, 1), (0, 1, 1, 0)),
    period(date(2026, 11, 1), (0, 1, 2, 0), 12 * MIN, 2 * HOUR + 10 * MIN, on_time=1, late=1),
]
WORKED = figures(
    MONTHS,
    {
        "detect": Spread(13, 2, 12 * MIN, 45 * MIN),
        "root_cause": Spread(3, 12, 95 * MIN, 5 * HOUR),
        "resolve": Spread(11, 4, 3 * HOUR + 20 * MIN, 9 * HOUR),
    },
    median_late_s=26 * HOUR,
    overdue=1,
    actions_opened=20,
    actions_closed=12,
    actions_overdue=3,
    median_open_action_age_s=12 * 86400,
)
EMPTY = figures([period(date(2026, 9, 1)), period(date(2026, 10, 1)), period(date(2026, 11, 1))])


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which the format puts first."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def svg_of(f: Figures) -> ET.Element:
    return ET.fromstring(render_chart(f, fmt="svg"))


def group(svg: ET.Element, gid: str) -> ET.Element:
    found = [g for g in svg.iter(f"{SVG}g") if g.get("id") == gid]
    assert len(found) == 1, gid
    return found[0]


def line_points(svg: ET.Element, gid: str) -> list[list[tuple[float, float]]]:
    """The runs of points of a plotted line, as its SVG path draws them (`M` starts a run),
    checked against the markers drawn at its points."""
    line = group(svg, gid)
    path = line.find(f"{SVG}path")
    d = "" if path is None else path.get("d", "")
    runs = []
    for command, x, y in re.findall(r"([ML]) ([-\d.]+) ([-\d.]+)", d):
        if command == "M":
            runs.append([])
        runs[-1].append((float(x), float(y)))
    markers = [(float(u.get("x")), float(u.get("y"))) for u in line.iter(f"{SVG}use")]
    assert markers == [point for run in runs for point in run]
    return runs


def bar_box(svg: ET.Element, gid: str) -> tuple[float, float]:
    """(bottom, top) of one bar in SVG units (y grows downwards)."""
    d = group(svg, gid).find(f"{SVG}path").get("d")
    ys = [float(y) for y in re.findall(r"[ML] [-\d.]+ ([-\d.]+)", d)]
    return max(ys), min(ys)


@pytest.mark.parametrize(
    "case", [WORKED, EMPTY, example_figures()], ids=["months", "empty", "weeks"]
)
def test_the_chart_is_an_opaque_png_of_1600_by_1000_pixels_under_300_kb(case):
    data = render_chart(case)
    assert png_size(data) == (1600, 1000)
    assert len(data) < 300_000
    image = Image.open(io.BytesIO(data))
    assert image.size == (1600, 1000)
    alpha = image.getchannel("A") if "A" in image.getbands() else None
    assert alpha is None or alpha.getextrema() == (255, 255)  # opaque: both Slack themes
    # The card is light and the text dark: the corner is the card, the title's ink is there.
    card = image.convert("RGB").getpixel((5, 5))
    assert min(card) > 240
    darkest, _ = image.convert("L").crop((0, 0, 1600, 90)).getextrema()
    assert darkest < 60


def test_the_same_figures_give_the_same_bytes():
    assert render_chart(WORKED) == render_chart(WORKED)
    assert render_chart(example_figures()) == render_chart(example_figures())
    assert render_chart(WORKED) != render_chart(replace(WORKED, severities=("sev1",)))


def test_a_period_without_a_median_is_a_gap_in_the_line_never_a_zero():
    svg = svg_of(WORKED)
    # September and November have both times; October has neither: two runs of one point.
    for gid in ("median_detect_s", "median_resolve_s"):
        runs = line_points(svg, gid)
        assert [len(run) for run in runs] == [1, 1], gid
    # Months of five: a value, a gap of two, two values; no point where zero would be.
    starts = [date(2026, m, 1) for m in range(7, 12)]
    detect = [10 * MIN, None, None, 30 * MIN, 20 * MIN]
    ps = [period(s, (0, 0, 1, 0), d, None) for s, d in zip(starts, detect, strict=True)]
    runs = line_points(svg_of(figures(ps)), "median_detect_s")
    assert [len(run) for run in runs] == [1, 2]
    (ten,), (thirty, twenty) = runs
    assert ten[1] > twenty[1] > thirty[1]  # higher on the page is a longer time
    assert thirty[0] - ten[0] == pytest.approx(3 * (twenty[0] - thirty[0]))  # periods apart
    assert line_points(svg_of(figures(ps)), "median_resolve_s") == []


def test_the_time_axis_reads_in_the_unit_the_data_asks_for():
    def unit(*seconds):
        return time_unit([period(date(2026, 9, 1), detect=s) for s in seconds])[0]

    assert unit(None) == "minutes"
    assert unit(5 * MIN, 2 * HOUR) == "minutes"
    assert unit(5 * MIN, 2 * HOUR + 1) == "hours"
    assert unit(3 * 86400) == "hours"
    assert unit(3 * 86400 + 1) == "days"
    assert time_series(MONTHS, "median_resolve_s", ("hours", HOUR))[0] == 4.0
    assert time_series(MONTHS, "median_detect_s", ("minutes", MIN))[2] == 12.0
    assert str(time_series(MONTHS, "median_detect_s", ("minutes", MIN))[1]) == "nan"


def test_incidents_stack_by_severity_and_post_mortems_by_on_time_late_open():
    svg = svg_of(WORKED)
    # September: 1 sev1, 2 sev2, 4 sev3, 3 sev4, stacked bottom up, each as tall as its count.
    boxes = [bar_box(svg, f"bars-sev{n}-0") for n in (1, 2, 3, 4)]
    per_incident = boxes[0][0] - boxes[0][1]
    for (bottom, top), count in zip(boxes, (1, 2, 4, 3), strict=True):
        assert bottom - top == pytest.approx(count * per_incident, rel=1e-4)
    for below, above in itertools.pairwise(boxes):
        assert above[0] == pytest.approx(below[1])
    # November's post-mortems: 1 on time, 1 late, none open.
    on_time, late, still_open = (bar_box(svg, f"bars-{k}-2") for k in ("on_time", "late", "open"))
    assert on_time[0] - on_time[1] == pytest.approx(late[0] - late[1])
    assert late[0] == pytest.approx(on_time[1])
    assert still_open[0] == pytest.approx(still_open[1])


def test_the_chart_has_its_title_and_axis_labels_with_units():
    svg = render_chart(WORKED, fmt="svg").decode()  # each text drawn is named in a comment
    for words in (
        "Incidents 2026-09-01 – 2026-11-30, all severities",
        "Median time to detect and to resolve",
        "hours",
        "Incidents by severity",
        "Post-mortems",
        "month (UTC)",
        "SEV1",
        "still open",
        "2h 10m",  # the latest median time to resolve, beside its point
    ):
        assert f"<!-- {words} -->" in svg, words
    assert "No incidents" not in svg


def test_no_incidents_still_draws_a_chart_that_says_so():
    svg = render_chart(EMPTY, fmt="svg").decode()
    assert "<!-- No incidents in this period -->" in svg
    assert "<!-- Incidents 2026-09-01 – 2026-11-30, all severities -->" in svg
    assert "median_detect_s" not in svg
    assert alt_text(EMPTY) == "No incidents from 1 Sep to 30 Nov 2026 (all severities)."
    assert summary_lines(EMPTY) == ["No incidents in 2026-09-01 – 2026-11-30, all severities."]


def test_the_title_names_the_last_day_and_the_severities_chosen():
    assert title(replace(WORKED, severities=("sev1", "sev2"))) == (
        "Incidents 2026-09-01 – 2026-11-30, SEV1, SEV2"
    )
    late_until = replace(WORKED, until=datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
    assert title(late_until).startswith("Incidents 2026-09-01 – 2026-12-01")
    assert period_label(date(2026, 9, 7), "week", False) == "Sep 7"
    assert period_label(date(2027, 1, 1), "month", True) == "Jan 2027"


def test_the_alt_text_states_the_key_figures_in_words():
    assert alt_text(WORKED) == (
        "15 incidents from 1 Sep to 30 Nov 2026 (all severities): "
        "median time to detect 12 minutes, p90 45 minutes, falling from 20 minutes in "
        "September 2026 to 12 minutes in November 2026; "
        "median time to resolve 3 hours 20 minutes, p90 9 hours, falling from 4 hours in "
        "September 2026 to 2 hours 10 minutes in November 2026. "
        "Post-mortems: 7 of 12 on time, 4 late, 1 still open."
    )


def test_the_alt_text_without_a_trend_or_a_time_or_a_post_mortem_due():
    one = [period(date(2026, 9, 7), (0, 0, 1, 0), None, 2 * 86400 + 3 * HOUR)]
    f = figures(
        one,
        {"resolve": Spread(1, 0, 2 * 86400 + 3 * HOUR, 2 * 86400 + 3 * HOUR)},
        bucket="week",
        since=datetime(2026, 12, 28, tzinfo=UTC),
        until=datetime(2027, 1, 4, tzinfo=UTC),
        severities=("sev3",),
    )
    assert alt_text(f) == (
        "1 incident from 28 Dec 2026 to 3 Jan 2027 (SEV3): time to detect not known for any "
        "incident; median time to resolve 2 days 3 hours, p90 2 days 3 hours. "
        "No post-mortem is due yet."
    )
    weeks = [
        period(date(2026, 9, 7), (0, 0, 1, 0), 5 * MIN),
        period(date(2026, 9, 14), (0, 0, 1, 0), 5 * MIN + 10),
    ]
    same = figures(weeks, {"detect": Spread(2, 0, 5 * MIN, 5 * MIN)}, bucket="week")
    assert "the same 5 minutes in the week of 7 Sep as in the week of 14 Sep" in alt_text(same)


def test_the_alt_text_stays_under_500_characters_at_its_longest():
    long = 2 * 86400 + 23 * HOUR + 59 * MIN
    start, end = period(date(2026, 9, 1), (9, 9, 9, 9), long, long), period(date(2026, 11, 1))
    end = replace(end, median_detect_s=long - HOUR, median_resolve_s=long - HOUR)
    f = figures(
        [start, end],
        {"detect": Spread(36, 0, long, long), "resolve": Spread(36, 0, long, long)},
        severities=("sev1", "sev2", "sev3", "sev4"),
        since=datetime(2025, 9, 1, tzinfo=UTC),
        on_time=1000,
        late=1000,
        open=1000,
    )
    assert 350 < len(alt_text(f)) < 500


def test_the_summary_shows_each_figure_and_how_many_incidents_have_it():
    assert summary_lines(WORKED) == [
        "15 incidents in 2026-09-01 – 2026-11-30, all severities: 1 SEV1, 4 SEV2, 7 SEV3, 3 SEV4",
        "Time to detect: median 12m, p90 45m (13 of 15 incidents have it)",
        "Time to start investigating: not known (0 of 15 incidents have it)",
        "Time to root cause: median 1h 35m, p90 5h (3 of 15 incidents have it)",
        "Time to fix deployed: not known (0 of 15 incidents have it)",
        "Time to resolve: median 3h 20m, p90 9h (11 of 15 incidents have it)",
        "Post-mortems: 7 of 12 on time, 4 late (median 1d 2h late), 1 open (1 past their deadline)",
        "Action items: 20 opened, 12 closed, 3 overdue; the open ones are 12d old (median)",
    ]


def test_durations_in_sentences_are_spoken_words():
    assert [spoken(s) for s in (45, 12 * MIN, 3 * HOUR + 20 * MIN, 26 * HOUR, 48 * HOUR)] == [
        "45 seconds",
        "12 minutes",
        "3 hours 20 minutes",
        "1 day 2 hours",
        "2 days",
    ]


def test_the_readme_shows_the_example_chart():
    example = ROOT / "docs" / "insights-example.png"
    assert "docs/insights-example.png" in (ROOT / "README.md").read_text()
    assert png_size(example.read_bytes()) == (1600, 1000)
    assert (ROOT / "scripts" / "insights_example").exists()


def test_a_long_span_of_weeks_shows_a_readable_number_of_ticks():
    start = date(2026, 1, 5)
    weeks = [period(start + timedelta(weeks=i), (0, 0, 1, 0), 10 * MIN) for i in range(52)]
    svg = render_chart(figures(weeks, bucket="week"), fmt="svg").decode()
    assert "<!-- Dec 28 -->" in svg  # the last week is always labelled
    labels = re.findall(r"<!-- ([A-Z][a-z]{2} \d+) -->", svg)
    assert 3 * 6 <= len(labels) <= 12 + 6 + 6 + 3  # three panels, thinned


def test_charts_drawn_in_threads_at_once_are_the_charts_drawn_one_by_one():
    cases = [WORKED, EMPTY, example_figures(), replace(WORKED, severities=("sev2",))] * 2
    alone = [render_chart(case) for case in cases]
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        assert list(pool.map(render_chart, cases)) == alone


def test_no_bot_module_uses_pyplot_and_its_global_state():
    users = [p for p in BOT.rglob("*.py") if any("pyplot" in m for m in imports(p))]
    assert users == []
    assert "matplotlib" in {m.split(".")[0] for m in imports(BOT / "charts.py")}
