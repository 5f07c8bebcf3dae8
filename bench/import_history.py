"""How long `/timeline import` takes to propose a long channel, run on demand:
`python bench/import_history.py [messages] [threads]` (default 2,000 messages, 40 threads of 3
replies). Never part of the tests.

The bot runs in this process on a real server against the sandbox with Slack's rate tiers on
(conversations.history and .replies: Tier 3, 50 a minute each, a 429 with Retry-After past it).
Prints the seconds from the command to the first page of proposals in the form (the issue's
figure: within 30 s), to the last thread's replies proposed (threads past the first 45 are read
at Tier 3's pace after page 1 shows), then to walk every page with "next" (waiting on the last
page for replies still being read), the pages, the proposals, and the Web API calls made.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.manifest import manifest_scopes  # noqa: E402
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator  # noqa: E402
from bot.sandbox.harness import serve  # noqa: E402
from bot.store import Store  # noqa: E402

START = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def wait(condition, timeout=120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.01)
    raise SystemExit(f"timed out: {condition}")


def all_read(store: Store) -> bool:
    row = store._one("SELECT threads_left, status FROM imports ORDER BY id DESC LIMIT 1", [])
    return bool(row and row["status"] != "reading" and not row["threads_left"])


def form(slack: Emulator, number: int):  # type: ignore[no-untyped-def]
    def shown():  # type: ignore[no-untyped-def]
        view = slack.modal("alice", wait=0)
        ok = view and view.get("callback_id") == "timeline_import"
        return view if ok and f"*Page {number} of" in str(view["blocks"][0]) else None

    return wait(shown)


def main(count: int = 2000, threads: int = 40) -> None:
    with tempfile.TemporaryDirectory() as tmp, Emulator(scopes=manifest_scopes()) as slack:
        config = load_config(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_PATH": str(Path(tmp) / "data" / "incidents.db"),
            }
        )
        store = Store(config.database_path)
        t0 = time.monotonic()  # the bot's clock runs from START (its Retry-After waits follow it)
        with serve(
            slack, config, store, lambda: START + timedelta(seconds=time.monotonic() - t0)
        ) as bot:
            slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
            channel = wait(
                lambda: next(
                    (c for c in slack.ws.channels.values() if c.messages and not c.is_im), None
                )
            )
            bot.settle()
            posts: list = []
            plain = count - 3 * threads
            for i in range(plain):
                who = "app:Grafana" if i % 50 == 0 else ("bob", "carol")[i % 2]
                posts.append((who, START + timedelta(seconds=1 + 4 * i), f"message {i}"))
            for t in range(threads):
                parent = t * (plain // max(threads, 1))
                for r in range(3):
                    when = posts[parent][1] + timedelta(seconds=1 + r)
                    posts.append(("carol", when, f"reply {t}.{r}", parent))
            slack.backfill(channel.name, posts)
            before = len(slack.api.calls)
            began = time.monotonic()
            slack.command("alice", "/timeline", "import", channel.name)
            view = form(slack, 1)
            proposed = time.monotonic() - began
            wait(lambda: all_read(store))
            replies = time.monotonic() - began
            pages, shown = 1, 0
            while True:
                shown += sum(
                    len(b["element"]["options"])
                    for b in view["blocks"]
                    if (b.get("element") or {}).get("type") == "checkboxes"
                )
                if not any(b.get("block_id") == "then" for b in view["blocks"]):
                    break  # the last page (nothing is being read any more)
                slack.submit("alice", {})  # on the last page while threads are read: it waits
                pages += 1
                view = form(slack, pages)
            walked = time.monotonic() - began
            calls = Counter(method for method, _ in slack.api.calls[before:])
            print(f"{count:,} messages ({threads} threads of 3 replies), Slack's tiers on")
            print(f"first page of proposals shown after {proposed:.2f} s (target: 30 s)")
            print(f"last thread's replies proposed after {replies:.2f} s")
            print(f"all {pages} pages walked after {walked:.2f} s: {shown:,} proposals")
            print("Web API calls:", ", ".join(f"{m} {n}" for m, n in sorted(calls.items())))
            print("refused:", Counter(e for _, e in slack.api.refused) or "nothing")
        store.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
