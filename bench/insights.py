"""The insights part of the benchmark, which bench/bench.py (beside it) runs on its large
database: the figures worked out in this process, and `/incident insights` through Slack's path
into the running bot, timed to the HTTP ack and to the chart's upload completing in the sandbox.

Issue 16's targets: the ack within Slack's 3 s (the chart follows it), the figures under 2 s.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from bot.charts import render_chart
from bot.insights import Insights, parse_period
from bot.insights_model import Bucket
from bot.manifest import manifest_scopes
from bot.sandbox import Emulator
from bot.sandbox.workspace import Channel, Message
from bot.slack.insight_commands import WEEKLY_UP_TO
from bot.store import Store

PERIODS = ("90d", "year")
# A server process on a database folder: bench.py's `process(slack, data, *args)`, which starts
# `python *args` and yields the URL of its /slack/events once /healthz answers.
StartProcess = Callable[..., AbstractContextManager[str]]


def best_of_3(work: Callable[[], object]) -> float:
    runs = []
    for _ in range(3):
        t = time.monotonic()
        work()
        runs.append(time.monotonic() - t)
    return min(runs)


def figures_seconds(data: Path, now: datetime) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds to work out the figures of the database's last 90 days and last year (every
    incident's milestones, their medians and p90, per week), as of `now`; and to draw their
    chart (per week or month, as `/incident insights` does), each the best of 3."""
    store = Store(data / "incidents.db")
    try:
        (team_id,) = store.teams()
        insights, took, drew = Insights(store, lambda: now), {}, {}
        for spec in PERIODS:
            since, until = parse_period(spec, now)
            took[spec] = best_of_3(lambda: insights.figures(team_id, since, until))  # noqa: B023
            bucket: Bucket = "week" if until - since <= WEEKLY_UP_TO else "month"
            figures = insights.figures(team_id, since, until, (), bucket)
            drew[spec] = best_of_3(lambda: render_chart(figures))  # noqa: B023
    finally:
        store.close()
    return took, drew


@dataclass
class Timed:
    """One period's `/incident insights` requests: seconds from sending each to its HTTP ack,
    and to the sandbox holding its chart (files.completeUploadExternal done: the message with
    the file is in the DM); the first line of the summary posted with the chart."""

    ack_s: list[float]
    chart_s: list[float]
    summary: str

    def median(self, what: str) -> float:
        return statistics.median(getattr(self, what))


def command_body(
    slack: Emulator, channel_id: str, channel_name: str, command: str, text: str, n: int
) -> bytes:
    """alice's `command text` in the channel, the form Slack posts (`n` makes each body, and
    so its signature, unique: a signature seen before is refused as a replay)."""
    alice = slack.ws.user_named("alice")
    return urlencode(
        {
            "team_id": slack.ws.team_id,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": alice.id,
            "user_name": alice.name,
            "command": command,
            "text": text,
            "response_url": f"{slack.base_url}/respond/none",
            "trigger_id": f"1.2.{n}",
            "api_app_id": "A0POSTMORTEM",
        }
    ).encode()


def charts_in(dm: Channel) -> list[Message]:
    return [m for m in list(dm.messages) if m.files and m.files[0]["name"].startswith("insights-")]


def ask(
    slack: Emulator, dm: Channel, text: str, n: int, timeout: float = 60.0
) -> tuple[float, float, str]:
    """One signed `/incident <text>` over HTTP: (seconds to the ack, seconds to the chart in
    alice's DM, the summary's first line). Polls the sandbox every millisecond."""
    before = len(charts_in(dm))
    body = command_body(slack, slack.general.id, "general", "/incident", text, n)
    started = time.monotonic()
    reply = slack.send(body, "application/x-www-form-urlencoded")
    if reply.status != 200 or "Working out the insights" not in reply.body:
        raise RuntimeError(f"HTTP {reply.status}: {reply.body[:200]}")
    deadline = started + timeout
    while len(charts := charts_in(dm)) == before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no chart {timeout:.0f} s after /incident {text}")
        time.sleep(0.001)
    return reply.seconds, time.monotonic() - started, charts[-1].text.splitlines()[0]


def over_slack(
    data: Path, process: StartProcess, api_delay_s: float, runs: int = 5
) -> tuple[float, dict[str, Timed]]:
    """`/incident insights 90d` and `year` into the bot as its own process on `data`'s
    database, the sandbox's Web API answering every call after `api_delay_s`: the seconds of
    the first request after start-up to its chart (Python's and matplotlib's first figure),
    then `runs` of each period, one at a time."""
    with Emulator(scopes=manifest_scopes() or frozenset()) as slack:
        dm = slack.ws.im(slack.ws.user_named("alice").id)
        with process(slack, data, "-m", "bot", "run") as url:
            slack.app_url = url
            slack.api.delays["*"] = api_delay_s
            _, first, _ = ask(slack, dm, "insights 90d", 0)
            timed, n = {}, 0
            for spec in PERIODS:
                acks, charts, summary = [], [], ""
                for _ in range(runs):
                    n += 1
                    ack_s, chart_s, summary = ask(slack, dm, f"insights {spec}", n)
                    acks.append(ack_s)
                    charts.append(chart_s)
                timed[spec] = Timed(acks, charts, summary)
        if slack.problems:
            raise RuntimeError("Slack refused something: " + "; ".join(slack.problems))
    return first, timed


def report_insights(
    big: Path, now: datetime, work: Path, process: StartProcess, api_delay_s: float
) -> None:
    """Prints the figures of the big database's last 90 days and year worked out here (as of
    `now`, when its last incident began); then `/incident insights` of each through Slack's
    path into the bot, on a copy of the database in `work` (a new folder)."""
    ms = 1000.0
    took, drew = figures_seconds(big, now)
    print(
        f"  insights on it: 90 days in {took['90d']:.2f} s, a year in {took['year']:.2f} s "
        f"(target 2 s); their charts drawn in {drew['90d']:.2f} s and {drew['year']:.2f} s",
        flush=True,
    )
    work.mkdir()
    shutil.copy(big / "incidents.db", work / "incidents.db")
    first, timed = over_slack(work, process, api_delay_s)
    print(
        f"  /incident insights over HTTP into the bot on it, Web API answering after "
        f"{api_delay_s * ms:.0f} ms; the first after start-up had its chart after {first:.2f} s; "
        f"then {len(timed['90d'].ack_s)} of each, one at a time, median (max):",
        flush=True,
    )
    for spec, t in timed.items():
        print(
            f"    {spec:>4}: ack {t.median('ack_s') * ms:.1f} ms ({max(t.ack_s) * ms:.1f} ms; "
            f"Slack's limit 3 s), chart uploaded after {t.median('chart_s'):.2f} s "
            f"({max(t.chart_s):.2f} s). {t.summary}",
            flush=True,
        )
