"""Command line: `python -m bot run` starts the bot (HTTP or Socket Mode) in one process;
`check`, `render`, `insights`, `lint`, `demo` and `playground` are tools around it."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse

from dotenv import load_dotenv

from bot.config import ConfigError, load_config, load_log_settings
from bot.logs import configure as configure_logs
from bot.logs import stop as stop_logs
from bot.private import credentials_in, redact

logger = logging.getLogger("bot")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _fail(message: object) -> int:
    """A start that cannot go on: one line naming the setting and what to do, exit code 2."""
    stop_logs()  # what was logged comes first
    print(f"postmortem-bot: {redact(str(message))}", file=sys.stderr)
    return 2


def _database_error(path: Path, error: Exception) -> str:
    where = f": {error.filename}" if isinstance(error, OSError) and error.filename else ""
    reason = f"{error.strerror}{where}" if isinstance(error, OSError) else str(error)
    return (
        f"DATABASE_PATH: cannot open {path} ({reason}): point it at a file in a folder the bot "
        "can create and write, on a persistent volume"
    )


def run() -> int:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        return _fail(error)

    # Slack imports stay here so that `--help` and config errors are instant.
    from bot.incidents import utcnow
    from bot.private import open_to_others
    from bot.publisher import Publisher
    from bot.scheduler import ReminderScheduler
    from bot.sections import TemplateError
    from bot.server import Health, create_http_server, create_wsgi
    from bot.slack.app import (
        create_app,
        create_reminder_sender,
        replan_reminders,
        repo_for,
    )
    from bot.slack.echoes import Echoes
    from bot.slack.executor import ListenerExecutor
    from bot.slack.pacing import Pacer
    from bot.slack.socket_mode import SocketMode
    from bot.slack.startup import StartupError, check_slack
    from bot.store import Store

    try:
        store = Store(config.database_path)
    except (OSError, sqlite3.Error) as error:
        return _fail(_database_error(config.database_path, error))
    if open_to_others(config.data_dir):  # made by someone else: said, not changed
        logger.warning(
            "other users of this machine can enter the data folder %s (mode %o): chmod 700 %s",
            config.data_dir,
            config.data_dir.stat().st_mode & 0o777,
            config.data_dir,
        )
    # Stopped in the reverse order: the server and the socket first, the store last.
    with contextlib.ExitStack() as running:
        running.callback(store.close)
        try:
            socket_url = check_slack(config)
        except StartupError as error:
            return _fail(error)
        publisher = Publisher(repo_for(config)).start()
        running.callback(publisher.stop)  # the commits queued are made
        pacer = Pacer()
        echoes = Echoes(store, pacer, utcnow)
        running.callback(echoes.wait_idle)  # recorded entries reach their channel
        listeners = ListenerExecutor()
        running.callback(listeners.shutdown, wait=True)  # acknowledged work finishes
        try:
            app = create_app(
                config,
                store,
                publisher,
                listener_executor=listeners,
                pacer=pacer,
                echoes=echoes,
                recover=True,
            )
        except TemplateError as error:  # the team's template, checked at start
            return _fail(error)
        replan_reminders(config, store)
        sender = create_reminder_sender(config, store, app.client)
        scheduler = ReminderScheduler(store, sender.reminders, sender.fire).start()
        running.callback(scheduler.stop)
        health = Health(store)
        health.scheduler = scheduler
        signal.signal(signal.SIGTERM, _stop)
        if config.app_token is not None:
            socket_mode = SocketMode(app, config.app_token, config.api_url)
            running.callback(socket_mode.close)
            try:
                socket_mode.connect(socket_url, timeout=30)
            except TimeoutError:
                host = urlparse(socket_url or "").hostname
                return _fail(
                    f"SLACK_APP_TOKEN: Slack's Socket Mode WebSocket ({host}) did not open within "
                    "30 s: let this machine reach it on port 443 (proxy, firewall)"
                )
        try:
            wsgi = create_wsgi(None if config.socket_mode else app, health, config.signing_secret)
            server = create_http_server(wsgi, "0.0.0.0", config.port)
        except OSError as error:
            reason = error.strerror
            return _fail(f"PORT: cannot listen on port {config.port} ({reason}): set a free one")
        running.callback(server.close)
        mode = "Socket Mode" if config.socket_mode else "HTTP"
        health.ready = True
        # What start-up built (modules, the app) lives as long as the process: keep it out of
        # the collector, whose full passes over it otherwise stall every request for ~30 ms
        # under load.
        gc.freeze()
        logger.info("postmortem-bot ready (%s) on port %s", mode, server.effective_port)
        try:
            server.run()
        finally:
            logger.info("stopping")
    return 0


def render(hotfix: str, team: str | None, log: bool) -> int:
    """Print an incident's post-mortem draft (or its log) from the database, offline."""
    from bot.config import load_offline
    from bot.drafts import Drafts
    from bot.errors import BotError
    from bot.incidents import Incidents
    from bot.postmortem import DEFAULT_TEMPLATES
    from bot.retro import Retro
    from bot.sections import TemplateError, load_sections
    from bot.store import Store

    try:
        database, templates = load_offline(os.environ)
    except ConfigError as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2
    if not database.exists():
        print(f"postmortem-bot: no database at {database} (set DATABASE_PATH)", file=sys.stderr)
        return 2
    store = Store(database)
    teams = store.teams()
    if team is None and len(teams) != 1:
        known = ", ".join(teams) or "none"
        print(f"postmortem-bot: say which workspace with --team (known: {known})", file=sys.stderr)
        return 2
    incidents = Incidents(store)
    folder = templates or DEFAULT_TEMPLATES
    try:
        sections = load_sections(folder)
    except TemplateError as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2
    drafts = Drafts(incidents, Retro(store, incidents.clock, sections), folder, incidents.clock)
    try:
        incident = incidents.find(team or teams[0], hotfix)
        postmortem, hotfix_log, _ = drafts.render(incident)
    except BotError as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    sys.stdout.write(hotfix_log if log else postmortem)
    return 0


def lint(files: list[str], templates: str | None) -> int:
    """Print each post-mortem file's open points (or that it is ready), read from the file
    alone: exit 1 if any has open points, 2 if one cannot be read or is no post-mortem."""
    from bot.lint import NotAPostMortem, learn, lint_file
    from bot.postmortem import DEFAULT_TEMPLATES
    from bot.sections import TemplateError

    try:
        shape = learn(Path(templates or os.environ.get("TEMPLATES_DIR") or DEFAULT_TEMPLATES))
    except (TemplateError, NotAPostMortem) as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2
    worst = 0
    for name in files:
        try:
            points = lint_file(Path(name), shape)
        except NotAPostMortem as error:
            print(f"{name}: {error}", flush=True)
            worst = 2
            continue
        if not points:
            print(f"{name}: ready", flush=True)
            continue
        print(f"{name}: {len(points)} open point{'s' * (len(points) != 1)}")
        print("".join(f"  - {point}\n" for point in points), end="", flush=True)
        worst = max(worst, 1)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot: HTTP server, or Socket Mode with SLACK_APP_TOKEN")
    sub.add_parser("check", help="check settings, the Slack token and scopes, the repository")
    demo_cmd = sub.add_parser(
        "demo", help="play a whole incident in the sandbox Slack (no workspace needed)"
    )
    demo_cmd.add_argument(
        "--review",
        action="store_true",
        help="end with review mode: a pull request on a local GitHub, merged with git",
    )
    sub.add_parser(
        "playground", help="an interactive terminal Slack on the sandbox, to try the bot"
    )
    render_cmd = sub.add_parser("render", help="print an incident's post-mortem draft, offline")
    render_cmd.add_argument("hotfix", help="the incident, e.g. hotfix-001")
    render_cmd.add_argument("--team", help="Slack team id, when the database holds several")
    render_cmd.add_argument("--log", action="store_true", help="print hotfix.md instead")
    lint_cmd = sub.add_parser(
        "lint", help="list a post-mortem file's open points (exit 1 if any): for its repo's CI"
    )
    lint_cmd.add_argument("files", nargs="+", help="e.g. hotfix-001/postmortem.md")
    lint_cmd.add_argument(
        "--templates", help="folder of the team's postmortem.md.j2 (default: TEMPLATES_DIR)"
    )
    insights_cmd = sub.add_parser(
        "insights", help="print the figures across incidents of a period, offline"
    )
    insights_cmd.add_argument(
        "--since", default="90d", help="30d, 90d, 12w, quarter, year or a date (default: 90d)"
    )
    insights_cmd.add_argument("--until", help="now (default), a date or an ISO time, UTC")
    insights_cmd.add_argument(
        "--severity", nargs="+", default=[], help="only these, e.g. sev1 sev2 (default: all)"
    )
    insights_cmd.add_argument("--bucket", choices=["week", "month"], default="week")
    form = insights_cmd.add_mutually_exclusive_group()
    form.add_argument("--csv", dest="form", action="store_const", const="csv")
    form.add_argument("--json", dest="form", action="store_const", const="json")
    insights_cmd.add_argument("--team", help="Slack team id, when the database holds several")
    args = parser.parse_args(argv)
    # Settings from a .env file in the current folder, if there is one; the environment wins.
    load_dotenv(Path.cwd() / ".env", override=False)
    quiet = args.command in ("demo", "playground", "check", "render", "lint", "insights")
    try:
        level, json_lines = load_log_settings(os.environ, quiet)
    except ConfigError as error:
        return _fail(error)
    configure_logs(
        level=level,
        json_lines=json_lines,
        secrets=[
            *(
                os.environ.get(n)
                for n in (
                    "SLACK_BOT_TOKEN",
                    "SLACK_SIGNING_SECRET",
                    "SLACK_APP_TOKEN",
                    "GITHUB_TOKEN",
                    "GITLAB_TOKEN",
                )
            ),
            *credentials_in(os.environ.get("POSTMORTEM_REPO")),
        ],
    )
    if args.command == "run":
        return run()
    if args.command == "check":
        from bot.check import run_check

        return run_check(os.environ)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(review=args.review)
    if args.command == "playground":
        from bot.playground import run_playground

        return run_playground()
    if args.command == "lint":
        return lint(args.files, args.templates)
    if args.command == "insights":
        from bot.incidents import utcnow
        from bot.insights_cli import run_insights

        return run_insights(
            os.environ,
            utcnow(),
            since=args.since,
            until=args.until,
            severities=args.severity,
            bucket=args.bucket,
            form=args.form or "table",
            team=args.team,
        )
    return render(args.hotfix, args.team, args.log)


if __name__ == "__main__":
    sys.exit(main())
