"""The insights as a picture: one PNG of three panels (the median times, incidents by severity,
post-mortems on time, late and open), per week or month (its words: bot/insights_text.py)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import MaxNLocator

from bot.insights_model import Figures, Period
from bot.insights_text import period_label, short, title
from bot.models import Severity

# 800 x 500 points at 2x: 1600 x 1000 pixels, sharp on high-density screens.
SIZE_IN = (8.0, 5.0)
DPI = 200
# Okabe & Ito's palette (https://jfly.uni-koeln.de/color/), told apart with every common colour
# vision deficiency; every colour has 3:1 contrast or more on the card except the sky blue,
# which is only ever a filled bar with an edge.
CARD = "#f8f8f7"  # an off-white card: not glaring on a dark theme
INK = "#1d1c1d"  # Slack's own text colour
MUTED = "#5e5d60"
GRID = "#dddddd"
SEVERITY_COLOURS = {
    Severity.SEV1: "#d55e00",  # vermillion
    Severity.SEV2: "#e69f00",  # orange
    Severity.SEV3: "#0072b2",  # blue
    Severity.SEV4: "#56b4e9",  # sky blue
}
POSTMORTEM_BARS = (
    ("on_time", "on time", "#009e73"),  # bluish green
    ("late", "late", "#e69f00"),  # orange
    ("open", "still open", "#b4b4b4"),  # grey
)
TIME_LINES = (  # (Period field, legend, colour, line style, marker)
    ("median_detect_s", "time to detect", "#0072b2", "-", "o"),
    ("median_resolve_s", "time to resolve", "#d55e00", "--", "s"),
)
Unit = tuple[str, float]  # (axis label, seconds per unit)


def render_chart(figures: Figures, *, fmt: Literal["png", "svg"] = "png") -> bytes:
    """The chart of `figures`: a PNG of 1600 x 1000 pixels on an opaque light card (readable in
    Slack's light and dark themes), the same bytes for the same figures. `fmt="svg"` gives the
    same drawing as SVG (the tests read the plotted paths from it). Uses no pyplot state and no
    font but matplotlib's own (DejaVu Sans), so it is safe in any thread of a server."""
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1, hspace=0.08, wspace=0.06)
    fig = Figure(figsize=SIZE_IN, dpi=DPI, facecolor=CARD, layout=layout)
    FigureCanvasAgg(fig)
    fig.suptitle(title(figures), color=INK, fontsize=14, fontweight="bold")
    if figures.incidents == 0:
        fig.text(
            0.5,
            0.5,
            "No incidents in this period",
            ha="center",
            va="center",
            color=MUTED,
            fontsize=16,
        )
    else:
        top, left, right = fig.subplot_mosaic(
            [["times", "times"], ["severity", "postmortems"]], height_ratios=[1.1, 1]
        ).values()
        periods, bucket = figures.periods, figures.bucket
        _draw_times(top, periods, bucket)
        _style(left, "Incidents by severity", "incidents", periods, bucket, most=6)
        _draw_stacks(
            left,
            [
                (
                    s.label,
                    colour,
                    f"bars-{s.value}",
                    [p.by_severity.get(s.value, 0) for p in periods],
                )
                for s, colour in SEVERITY_COLOURS.items()
            ],
        )
        _style(right, "Post-mortems", "post-mortems", periods, bucket, most=6)
        _draw_stacks(
            right,
            [
                (label, colour, f"bars-{field}", [getattr(p, field) for p in periods])
                for field, label, colour in POSTMORTEM_BARS
            ],
        )
    out = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(out, format=fmt, facecolor=CARD, transparent=False, metadata=metadata)
    return out.getvalue()


def time_unit(periods: Sequence[Period]) -> Unit:
    """The unit the times panel reads in, chosen by its largest value: minutes up to 2 hours,
    hours up to 3 days, days beyond."""
    values = [v for p in periods for v in (p.median_detect_s, p.median_resolve_s) if v is not None]
    top = max(values, default=0.0)
    if top <= 2 * 3600:
        return ("minutes", 60.0)
    return ("hours", 3600.0) if top <= 3 * 86400 else ("days", 86400.0)


def time_series(periods: Sequence[Period], field: str, unit: Unit) -> list[float]:
    """The values plotted for one time line, in `unit`: NaN where a period has no value, which
    matplotlib leaves as a gap in the line, never a zero."""
    values = [getattr(p, field) for p in periods]
    return [math.nan if v is None else v / unit[1] for v in values]


def _draw_times(ax: Axes, periods: Sequence[Period], bucket: str) -> None:
    unit = time_unit(periods)
    top = 0.0
    for field, label, colour, style, marker in TIME_LINES:
        ys = time_series(periods, field, unit)
        ax.plot(
            range(len(ys)),
            ys,
            color=colour,
            linestyle=style,
            linewidth=2,
            marker=marker,
            markersize=5,
            label=f"median {label}",
            gid=field,
        )
        known = [(x, y) for x, y in enumerate(ys) if not math.isnan(y)]
        if known:  # the latest value, in the bot's words, beside its point
            x, y = known[-1]
            ax.annotate(
                short(y * unit[1]),
                (x, y),
                xytext=(7, 0),
                textcoords="offset points",
                va="center",
                color=colour,
                fontsize=10,
                fontweight="bold",
            )
            top = max(top, *(y for _, y in known))
    _style(ax, "Median time to detect and to resolve", unit[0], periods, bucket, most=12)
    ax.set_ylim(0, max(top, 1.0) * 1.1)
    ax.set_xlim(-0.6, len(periods) - 1 + max(0.5, 0.09 * len(periods)))  # room for the labels
    _legend(ax, ncols=2)


def _draw_stacks(ax: Axes, stacks: Sequence[tuple[str, str, str, list[int]]]) -> None:
    """Stacked bars, one (label, colour, gid, counts per period) after the other, bottom up."""
    bottom = [0] * len(stacks[0][3])
    for label, colour, gid, counts in stacks:
        bars = ax.bar(
            range(len(counts)),
            counts,
            bottom=bottom,
            color=colour,
            edgecolor=CARD,
            linewidth=0.6,
            label=label,
        )
        for i, bar in enumerate(bars):
            bar.set_gid(f"{gid}-{i}")
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*bottom, 1]) * 1.05)
    _legend(ax, ncols=len(stacks))


def _legend(ax: Axes, ncols: int) -> None:
    """The legend in one row between the panel's title and its data, never over the data."""
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1),
        frameon=False,
        fontsize=10,
        labelcolor=INK,
        ncols=ncols,
        handlelength=1.5,
        columnspacing=1,
        borderaxespad=0.2,
    )


def _style(
    ax: Axes, name: str, ylabel: str, periods: Sequence[Period], bucket: str, most: int
) -> None:
    ax.set_facecolor(CARD)
    ax.set_title(name, loc="left", color=INK, fontsize=12, fontweight="bold", pad=22)
    ax.set_ylabel(ylabel, color=INK, fontsize=10)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=10)
    ticks = _ticks(len(periods), most)
    years = {p.start.year for p in periods}
    ax.set_xticks(ticks, [period_label(periods[i].start, bucket, len(years) > 1) for i in ticks])
    ax.set_xlim(-0.6, len(periods) - 0.4)
    ax.set_xlabel(_bucket_label(bucket), color=INK, fontsize=10)


def _ticks(n: int, most: int) -> list[int]:
    """Every period's position, or every k-th (the last one always shown) past `most`."""
    step = max(1, math.ceil(n / most))
    return list(range(n - 1, -1, -step))[::-1]


def _bucket_label(bucket: str) -> str:
    return "week starting (Monday, UTC)" if bucket == "week" else "month (UTC)"
