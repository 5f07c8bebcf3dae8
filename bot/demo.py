"""`python -m bot demo`: a whole incident, start to published post-mortem, in the sandbox.

No Slack workspace, tokens or network: the real bot runs in-process against the sandbox Slack,
three people play the incident, and the transcript shows what each of them saw. It ends with
alice's `/incident insights`: the chart the bot uploaded, saved as a file.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.config import Config, load_config
from bot.demo_review import Reviewed
from bot.manifest import manifest_scopes
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator
from bot.sandbox.harness import serve
from bot.sandbox.server import BOT_SCOPES
from bot.sandbox.transcript import Style, transcript
from bot.store import Store

PEOPLE = ("alice", "bob", "carol")
# Each on their own clock, as a real on-call rotation is: times typed are read on the typer's.
ZONES = {"alice": "Europe/London", "bob": "Europe/Berlin", "carol": "America/New_York"}


def give_zones(slack: Emulator) -> None:
    """The sandbox people's Slack time zones (what users.info says), from ZONES."""
    for name, zone in ZONES.items():
        slack.ws.user_named(name).tz = zone


def sandbox_config(slack: Emulator, data: Path, **settings: str) -> Config:
    return load_config(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_PATH": str(data / "incidents.db"),
            **settings,
        }
    )


def wait(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise RuntimeError("the demo waited too long for the bot")


# What the team writes into each section, through the guided path.
WRITTEN = {  # every field of every section: the published post-mortem holds no placeholder
    "summary": {
        "text": "For 40 minutes, one checkout in three failed with a 500 after config "
        "push 4512 set the payments TLS pool to zero. We reverted the push."
    },
    "description": {
        "text": "- Checkout API answered 500 to ~35% of requests\n"
        "- Logs: `TLS pool exhausted (size=0)`\n"
        "- PagerDuty fired on the 5xx rate"
    },
    "impact": {
        "users_total": "about 18,000 shoppers",
        "user_segments": "web and app checkout",
        "geography": "all regions",
        "revenue_loss": "about $42,000 (estimate)",
        "support_tickets": "212",
        "cancellations": "none known",
        "sla_credits": "none (under the 99.9% monthly SLA)",
        "reputation": "a few complaints on social media",
        "teams": "payments, SRE",
        "engineer_hours": "11",
        "opportunity_cost": "the payments sprint review moved a day",
    },
    "root_cause": {
        "text": "Config push 4512 set `tls_pool_size: 0` for payments-api.",
        "code_issue": "```yaml\npayments-api:\n  tls_pool_size: 0  # was 64\n```",
        "why_existed": "The config schema allowed 0.",
        "why_tests": "No test validates pool sizes in config pushes.",
    },
    "contributing": {
        "factor1": "No alert on TLS pool exhaustion",
        "how1": "Detection waited for the 5xx alert",
        "why1": "Pool metrics were never exported",
    },
    "five_whys": {
        "problem": "Checkout failed after a config push.",
        "why1": "The TLS pool was empty.",
        "why2": "The push set its size to 0.",
        "why3": "The schema accepted 0.",
        "why4": "Schemas are hand-written.",
        "why5": "No validation step in the config pipeline.",
    },
    "went_well": {
        "detection": "PagerDuty fired within minutes.",
        "response": "The commander took the call at once and kept a clear timeline.",
        "communication": "The status page was updated within 10 minutes.",
        "remediation": "The revert was one command.",
    },
    "went_wrong": {
        "detection": "No alert looked at the TLS pool itself.",
        "response": "Ten minutes passed before someone checked recent pushes.",
        "communication": "Support heard about it from customers first.",
        "remediation": "The config repository has no one-click revert.",
    },
    "prevention": {
        "tests": "Config validation test for pool sizes",
        "monitoring": "Alert on TLS pool exhaustion",
        "process": "Recent pushes are the first thing the runbook checks",
        "architecture": "Pool size floor enforced by payments-api itself",
        "documentation": "Runbook: TLS pool exhaustion",
    },
    "lessons": {
        "technical": "Config is code: validate it like code.",
        "process": "Check recent pushes first.",
        "communication": "Tell support as soon as the incident is opened.",
    },
    "acknowledgments": {"text": "Thanks to Bob for the quick revert."},
    "references": {
        "related": "hotfix-000 (2025): a similar config push to search",
        "external": "Dashboard: checkout-5xx; PagerDuty incident PD-8812",
        "metrics": "5xx rate peaked at 35% (14:12 UTC).",
    },
}


def play(
    slack: Emulator, say: Callable[[str], None], finish: Callable[[str], None] | None = None
) -> str:
    """The incident, as three people would run it in Slack; `finish` (given the channel's
    name) instead of alice's `/incident publish`. Returns the channel name."""
    say("alice opens the incident")
    slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
    channel = slack.posted_channel("inc-")
    name = channel.name
    slack.join("bob", name)
    slack.join("carol", name)
    say("bob and carol record the timeline (one entry backdated)")
    slack.command("bob", "/timeline", "-40m began: config push 4512 rolled out", name)
    slack.command("bob", "/timeline", "-33m detected: PagerDuty alert on checkout 5xx", name)
    slack.command("carol", "/timeline", "-25m investigating: api-gw errors, recent pushes", name)
    slack.command("carol", "/timeline", "-15m root-cause: push 4512 set the TLS pool to 0", name)
    slack.command("bob", "/timeline", "-12m fix: push 4512 reverted in the config repo", name)
    slack.command("bob", "/timeline", "-8m deployed: the revert, to all regions", name)
    message = slack.say("carol", name, "Status page updated: checkout is recovering")
    slack.shortcut("alice", "add_to_timeline", name, message)  # a message, kept as it was
    say("carol pins the rollback plan; bob keeps the error-rate alert with a :pushpin:")
    plan = slack.say("carol", name, "Rollback plan: revert 4512, then drain api-gw pools")
    slack.pin("carol", name, plan.ts)
    alert = slack.app_posts(
        "PagerDuty",
        name,
        "",
        attachments=[{"title": "Resolved: #4521 checkout 5xx > 5%", "color": "#2ca02c"}],
    )
    slack.react("bob", name, alert.ts, "pushpin")
    wait(lambda: all(slack.ws.bot.id in m.reactions.get("memo", []) for m in (plan, alert)))
    slack.command("carol", "/timeline", "verified: 5xx back to baseline", name)
    say("alice names carol post-mortem owner and adds an action item for bob")
    slack.command("alice", "/incident", "owner @carol", name)
    due = (datetime.now(UTC) + timedelta(days=3)).date()
    slack.command(
        "alice",
        "/incident",
        f"action Validate pool sizes in config pushes @bob "
        f"due {due} immediate why: stops a zero pool reaching production",
        name,
    )
    say("alice resolves it: the post-mortem clock starts")
    slack.command("alice", "/incident", "resolve", name)
    slack.command("bob", "/timeline", "monitoring: watching the error budget for 24h", name)
    wait(lambda: [m for m in channel.messages if m.files])
    say("carol writes the post-mortem, section by section (/incident write)")
    while True:  # each `/incident write` opens the next empty section, as the template lists
        slack.command("carol", "/incident", "write", name)
        modal = slack.modal("carol")
        if modal is None:
            break
        key = json.loads(modal["private_metadata"])["section"]
        fields = [b["block_id"] for b in modal["blocks"] if b["type"] == "input"]
        values = {k: v for k, v in WRITTEN.get(key, {}).items() if k in fields}
        slack.submit("carol", values or {fields[0]: "(to be completed)"})
    say("the deadline is shortened for the demo: waiting for carol's reminder")
    wait(
        lambda: (
            slack.ws.im(slack.user("carol")).messages
            and any("due soon" in m.text for m in slack.ws.im(slack.user("carol")).messages)
        ),
        timeout=20,
    )
    carols = slack.ws.im(slack.user("carol"))
    reminder = next(m for m in reversed(carols.messages) if "due soon" in m.text)
    say("carol asks to be reminded later from her DM (never past the deadline)")
    slack.click("carol", reminder, "reminder_snooze_2h")
    wait(lambda: any(":zzz:" in str(m.blocks) for m in carols.messages if m.ts == reminder.ts))
    dm = slack.ws.im(slack.user("bob")).messages[0]
    say("bob marks his action item done from his DM")
    slack.click("bob", dm, "action_done")
    if finish is None:
        say("alice publishes the post-mortem")
        slack.command("alice", "/incident", "publish", name)
        wait(lambda: any(m.files and "Final" in m.text for m in channel.messages))
    else:
        finish(name)
    return name


def chart(slack: Emulator, folder: Path, say: Callable[[str], None]) -> tuple[Path, str]:
    """alice's `/incident insights` (the last 90 days, to her DM): the PNG the bot uploaded,
    as the sandbox keeps it, saved in `folder`; and the summary posted with it (its
    initial_comment). The demo's one incident is what the chart shows."""
    say("alice asks for the insights of the last 90 days (/incident insights)")
    dm = slack.ws.im(slack.user("alice"))
    slack.command("alice", "/incident", "insights", "general")
    (message, *_) = wait(
        lambda: [m for m in dm.messages if m.files and m.files[0]["name"].startswith("insights-")]
    )
    (file,) = message.files
    path = folder / file["name"]
    path.write_bytes(slack.api.files[file["id"]]["content"])
    return path, message.text


def run_demo(out: TextIO = sys.stdout, colour: bool | None = None, review: bool = False) -> int:
    """The demo; `review`: in review mode, on a local GitHub (bot/demo_review.py)."""
    style = Style(out.isatty() if colour is None else colour)
    folder = Path(tempfile.mkdtemp(prefix="postmortem-demo-"))
    started = time.monotonic()

    def say(text: str) -> None:
        print(style.dim(f"[{time.monotonic() - started:4.1f}s] ") + text, file=out, flush=True)

    ending = ", reviewed as a pull request on a local GitHub" if review else ""
    print(
        style.bold(f"postmortem-bot demo: a whole incident in the sandbox Slack{ending}"), file=out
    )
    with Emulator(people=PEOPLE, scopes=manifest_scopes() or BOT_SCOPES) as slack:
        give_zones(slack)
        settings = {
            "POSTMORTEM_DEADLINE": "20s",
            "REMINDERS_BEFORE": "16s,8s",
            "OVERDUE_NUDGE_EVERY": "off",
            "REMINDER_HOURS": "always",  # a demo run at night still shows its reminders
        }
        with Reviewed(folder, slack) if review else nullcontext() as reviewed:
            if reviewed is not None:
                settings |= reviewed.settings
            config = sandbox_config(slack, folder / "data", **settings)
            store = Store(config.database_path)
            try:
                with serve(slack, config, store) as bot:
                    finish = reviewed.finish(slack, bot, say) if reviewed else None
                    play(slack, say, finish)
                    png, summary = chart(slack, folder, say)
                    bot.settle()
                    bot.publisher.wait_idle()
            finally:
                store.close()
        if slack.problems:
            print(style.bold("Slack refused something: ") + "; ".join(slack.problems), file=out)
            return 1
        for who in PEOPLE:
            print("\n" + style.bold(f"═══ What {who} saw in Slack ═══"), file=out)
            for line in transcript(slack.ws, who, style):
                print(line, file=out)
    if reviewed is not None:
        for line in reviewed.summary():
            print(line, file=out)
    else:
        repo = config.data_dir / "postmortems"
        print("\n" + style.bold("The post-mortem is committed:"), file=out)
        print(f"  {repo / 'hotfix-001' / 'postmortem.md'}", file=out)
        print(f"  {repo / 'hotfix-001' / 'hotfix.md'}", file=out)
        print(f"  (git -C {repo} log --oneline)", file=out)
    print("\n" + style.bold("The insights chart alice got in her DM, and its summary:"), file=out)
    print(f"  {png}", file=out)
    for line in summary.splitlines():
        print(f"    {line}", file=out)
    say("done")
    return 0
