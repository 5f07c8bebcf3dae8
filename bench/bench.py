"""Benchmarks, run on demand: `python bench/bench.py` prints a table (never part of the tests).

1. Ack latency of `/timeline` at 16 concurrent requests over real HTTP, the sandbox's Web API
   answering every call after 250 ms, against a bare Bolt app that only acks, on the same server;
   the two take turns for a few rounds, and each figure is the median over the rounds.
2. The same with a database of 10,000 incidents and 1,000,000 timeline entries; the insights
   of its last 90 days and year, worked out and through Slack's path (bench/insights.py);
   rendering and posting the draft of an incident with 5,000 entries while commands keep coming.
3. Start-up to a ready /healthz, and the idle memory of the process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insights import command_body, report_insights  # noqa: E402  (bench/insights.py, beside this file)

from bot.demo import sandbox_config  # noqa: E402
from bot.manifest import manifest_scopes  # noqa: E402
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator  # noqa: E402
from bot.sandbox.harness import serve  # noqa: E402
from bot.store import Store, to_db  # noqa: E402

CONCURRENCY = 16
# The milestones of the big database's incidents: entry k (k minutes after it began) is one.
MILESTONES = {0: "began", 5: "detected", 9: "investigating", 30: "root-cause", 45: "deployed"}
API_DELAY_S = 0.25
WARM_UP = 32
# With --pin (the default on 2 cores or more) the server runs on one core and this process (the
# load and the sandbox) on another, as a load generator should: then neither takes the other's
# CPU, and the figures hold still from run to run.
CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
PINNED = False


def timeline_body(slack: Emulator, channel_id: str, n: int) -> bytes:
    return command_body(slack, channel_id, "inc", "/timeline", f"load entry {n}", n)


def load(
    slack: Emulator, url: str, channel_id: str, requests: int, warm_up: int = 0
) -> list[float]:
    """`requests` signed /timeline commands, CONCURRENCY at a time: each one's ack latency.

    The first `warm_up` go through the same client threads and connections first, unmeasured:
    the figures are the server's steady state, not the client starting its threads."""
    slack.app_url = url

    def one(n: int) -> float:
        reply = slack.send(timeline_body(slack, channel_id, n), "application/x-www-form-urlencoded")
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}: {reply.body[:200]}")
        return reply.seconds

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(one, range(warm_up + requests)))[warm_up:]


@contextmanager
def process(slack: Emulator, data: Path, *args: str, **settings: str) -> Iterator[str]:
    """A server process (the bot, or the bare app) on a free port; yields its events URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "DATABASE_PATH": str(data / "incidents.db"),
        **settings,
    }
    child = subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if PINNED:
        os.sched_setaffinity(child.pid, {CORES[1]})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(30)


def stats(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "median": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


def fill(store: Store, team_id: str, incidents: int, entries: int, start: datetime) -> None:
    """A big database, written directly (what years of incidents look like): an incident an
    hour from `start` (UTC)."""
    per = max(1, entries // incidents)
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO incidents (team_id, number, title, severity, status, private, "
            "commander_id, created_by, started_at, resolved_at, deadline_at, published_at, "
            "channel_id, channel_name) "
            "VALUES (?, ?, ?, ?, 'resolved', 0, 'U1', 'U1', ?, ?, ?, ?, ?, ?)",
            [
                (
                    team_id,
                    n + 1000,
                    f"old incident {n}",
                    f"sev{n % 4 + 1}",
                    to_db(start + timedelta(hours=n)),
                    to_db(start + timedelta(hours=n, minutes=50)),
                    to_db(start + timedelta(hours=n + 48)),
                    to_db(start + timedelta(hours=n + 30)),
                    f"COLD{n:06d}",
                    f"inc-old-{n}",
                )
                for n in range(incidents)
            ],
        )
        ids = [r[0] for r in db.execute("SELECT id FROM incidents WHERE number >= 1000")]
        rows = (
            (
                team_id,
                incident_id,
                to_db(start + timedelta(hours=n, minutes=k)),
                f"entry {k}",
                "U1",
                "command",
                k + 1,
                MILESTONES.get(k) if (n + k) % 7 else None,  # some incidents miss one
            )
            for n, incident_id in enumerate(ids)
            for k in range(per)
        )
        db.conn.executemany(
            "INSERT INTO timeline (team_id, incident_id, at, text, author_id, "
            "source, number, milestone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.conn.executemany(  # three action items each, one of them done
            "INSERT INTO action_items (team_id, incident_id, number, text, priority, status, "
            "created_by, created_at, due, done_at) VALUES (?, ?, ?, ?, 'short-term', ?, 'U1', "
            "?, ?, ?)",
            (
                (
                    team_id,
                    incident_id,
                    k,
                    f"action {k}",
                    "done" if k == 1 else "open",
                    to_db(start + timedelta(hours=n + 24)),
                    (start + timedelta(hours=n + 24 * 14 * k)).date().isoformat(),
                    to_db(start + timedelta(hours=n + 72)) if k == 1 else None,
                )
                for n, incident_id in enumerate(ids)
                for k in (1, 2, 3)
            ),
        )


def open_incident(slack: Emulator) -> str:
    slack.command("alice", "/incident", "start Benchmark incident sev3")
    return slack.posted_channel("inc-", timeout=20).id


def fill_big(data: Path) -> datetime:
    """10,000 incidents and 1,000,000 entries, the last incident beginning an hour before now
    (so the bot, on its real clock, finds them in its last 90 days and year). Returns now."""
    data.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    with Emulator() as slack:
        store = Store(data / "incidents.db")
        t = time.monotonic()
        fill(store, slack.ws.team_id, 10_000, 1_000_000, now - timedelta(hours=10_000))
        store.close()
    print(
        f"  (filled 10,000 incidents and 1,000,000 entries in {time.monotonic() - t:.0f} s)",
        flush=True,
    )
    return now


def bot_latencies(data: Path, requests: int) -> tuple[dict[str, float], int]:
    """The bot as its own process: ack latencies, and the load entries its database then holds."""
    data.mkdir(parents=True, exist_ok=True)
    with Emulator(scopes=manifest_scopes() or frozenset()) as slack:
        with process(slack, data, "-m", "bot", "run") as url:
            slack.app_url = url
            channel_id = open_incident(slack)
            slack.api.delays["*"] = API_DELAY_S
            latencies = load(slack, url, channel_id, requests, warm_up=WARM_UP)
        store = Store(data / "incidents.db")
        stored = store.db.execute(
            "SELECT COUNT(*) FROM timeline WHERE text LIKE 'load entry %'"
        ).fetchone()[0]
        store.close()
    return stats(latencies), stored


def bare_latencies(data: Path, requests: int) -> dict[str, float]:
    data.mkdir(parents=True, exist_ok=True)
    with Emulator() as slack, process(slack, data, str(ROOT / "bench" / "bare_app.py")) as url:
        slack.api.delays["*"] = API_DELAY_S
        return stats(load(slack, url, slack.general.id, requests, warm_up=WARM_UP))


def draft_of_5000(data: Path) -> tuple[float, float, dict[str, float], int]:
    """Render a 5,000-entry incident; post and commit it while /timeline keeps coming."""
    from bot.drafts import Drafts
    from bot.incidents import Incidents
    from bot.postmortem import DEFAULT_TEMPLATES
    from bot.retro import Retro
    from bot.sections import load_sections

    with Emulator(scopes=manifest_scopes() or frozenset()) as slack:
        config = sandbox_config(slack, data)
        store = Store(config.database_path)
        with serve(slack, config, store) as bot:
            channel_id = open_incident(slack)
            bot.settle()
            incidents = Incidents(store)
            incident = incidents.in_channel(slack.ws.team_id, channel_id)
            start = incident.started_at
            with store.write() as db:
                db.conn.executemany(
                    "INSERT INTO timeline (team_id, incident_id, at, text, author_id, source, "
                    "number) VALUES (?, ?, ?, ?, ?, 'command', ?)",
                    [
                        (
                            slack.ws.team_id,
                            incident.id,
                            to_db(start + timedelta(seconds=k)),
                            f"step {k}: checked shard {k % 97} | latency ok",
                            "U00000001",
                            k + 2,  # after "Incident began"
                        )
                        for k in range(5000)
                    ],
                )
            drafts = Drafts(
                incidents,
                Retro(store, incidents.clock, load_sections(DEFAULT_TEMPLATES)),
                DEFAULT_TEMPLATES,
                incidents.clock,
            )
            t = time.monotonic()
            markdown, _, _ = drafts.render(incident)
            render_s = time.monotonic() - t
            t = time.monotonic()
            slack.command("alice", "/incident", "draft", channel_id)
            during = load(slack, bot.url + "/slack/events", channel_id, 64)
            bot.settle()
            bot.publisher.wait_idle()
            post_s = time.monotonic() - t
        store.close()
    return render_s, post_s, stats(during), len(markdown.encode())


def startup(data: Path) -> tuple[float, int]:
    with Emulator() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": "38111",
            "DATABASE_PATH": str(data / "incidents.db"),
            "LOG_LEVEL": "WARNING",
        }
        t = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT)
        try:
            while True:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:38111/healthz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.02)
            ready = time.monotonic() - t
            time.sleep(2)
            status = Path(f"/proc/{process.pid}/status").read_text()
            rss_kb = int(
                next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
    return ready, rss_kb


def report_draft(data: Path) -> None:
    render_s, post_s, during, size = draft_of_5000(data)
    ms = 1000.0
    print(
        f"\ndraft of a 5,000-entry incident: rendered in {render_s * ms:.0f} ms "
        f"(target 500 ms), {size / 1024:.0f} KiB; posted and committed in {post_s:.1f} s"
    )
    print(
        f"/timeline while it was posted: median {during['median'] * ms:.1f} ms, "
        f"p99 {during['p99'] * ms:.1f} ms, max {during['max'] * ms:.1f} ms"
    )


def typical(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds (one run is at the mercy of a shared machine)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=960)
    parser.add_argument("--rounds", type=int, default=3, help="bare app and bot, taking turns")
    parser.add_argument("--skip-big", action="store_true", help="skip the 1,000,000-entry run")
    parser.add_argument("--draft-only", action="store_true", help="only the 5,000-entry draft")
    can_pin = len(CORES) >= 2
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=can_pin,
        help="server on one core, load on another (default where there are two)",
    )
    args = parser.parse_args()
    global PINNED
    PINNED = args.pin and can_pin
    if PINNED:
        os.sched_setaffinity(0, {CORES[0]})
    work = Path(tempfile.mkdtemp(prefix="postmortem-bench-"))
    if args.draft_only:
        report_draft(work / "draft")
        return 0
    ms = 1000.0
    print(
        f"{args.requests} x /timeline, {CONCURRENCY} at a time, Web API answering after "
        f"{API_DELAY_S * ms:.0f} ms; {args.rounds} rounds, each figure the median over them; "
        + ("server and load on a core each" if PINNED else "server and load sharing the cores"),
        flush=True,
    )
    if not args.skip_big:
        now = fill_big(work / "big")
        report_insights(work / "big", now, work / "insights", process, API_DELAY_S)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "empty": [], "big": []}
    acked = {"empty": 0, "big": 0}
    stored = {"empty": 0, "big": 0}
    for n in range(args.rounds):
        runs["bare"].append(bare_latencies(work / f"bare-{n}", args.requests))
        for name in ("empty", "big") if not args.skip_big else ("empty",):
            data = work / f"{name}-{n}"
            if name == "big":  # a copy each round: the sandbox's channel ids start again
                data.mkdir()
                shutil.copy(work / "big" / "incidents.db", data / "incidents.db")
            latencies, rows = bot_latencies(data, args.requests)
            runs[name].append(latencies)
            acked[name] += args.requests + WARM_UP
            stored[name] += rows
        print(
            f"  round {n + 1} of {args.rounds}, median / p99 (ms): "
            + ", ".join(
                f"{name} {runs[name][-1]['median'] * ms:.1f} / {runs[name][-1]['p99'] * ms:.1f}"
                for name in runs
                if runs[name]
            ),
            flush=True,
        )
    bare, ours = typical(runs["bare"]), typical(runs["empty"])
    rows = [("bare Bolt app (ack only)", bare), ("postmortem-bot, empty database", ours)]
    if not args.skip_big:
        big = typical(runs["big"])
        rows.append(("postmortem-bot, 10k incidents / 1M entries", big))
    print(f"\n{'ack latency':<44}{'median':>10}{'p99':>10}{'max':>10}")
    for name, s in rows:
        print(f"{name:<44}{s['median'] * ms:>8.1f}ms{s['p99'] * ms:>8.1f}ms{s['max'] * ms:>8.1f}ms")
    print(
        f"\nmedian vs bare: {ours['median'] / bare['median']:.2f}x (target 1.2x); "
        f"p99 vs bare: {ours['p99'] / bare['p99']:.2f}x (target 1.5x)"
    )
    for name in ("empty", "big") if not args.skip_big else ("empty",):
        print(f"{name} database: acked {acked[name]}, stored {stored[name]}")
    if not args.skip_big:
        print(f"big database median vs empty: {big['median'] / ours['median']:.2f}x (target 1.1x)")
    report_draft(work / "draft")
    ready, rss_kb = startup(work / "startup")
    print(f"\nstart-up to a ready /healthz: {ready:.2f} s; idle memory: {rss_kb / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
