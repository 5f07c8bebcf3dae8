"""Command line: `python -m bot run` starts the bot (HTTP or Socket Mode) in one process."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from types import FrameType

from bot.config import ConfigError, load_config
from bot.logs import configure as configure_logs

logger = logging.getLogger("bot")


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run() -> int:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2

    # Slack imports stay here so that `--help` and config errors are instant.
    from bot.incidents import utcnow
    from bot.publish import Publisher
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
    from bot.store import Store

    store = Store(config.database_path)
    health = Health(store)
    listeners = ListenerExecutor(max_workers=16, thread_name_prefix="listener")
    publisher = Publisher(repo_for(config)).start()
    pacer = Pacer()
    echoes = Echoes(store, pacer, utcnow)
    try:
        app = create_app(
            config, store, publisher, listener_executor=listeners, pacer=pacer, echoes=echoes
        )
    except TemplateError as error:  # the team's template, checked at start
        print(f"postmortem-bot: {error}", file=sys.stderr)
        publisher.stop()
        store.close()
        return 2
    replan_reminders(config, store)
    sender = create_reminder_sender(config, store, app.client)
    scheduler = ReminderScheduler(store, sender.reminders, sender.fire).start()
    health.scheduler = scheduler
    signal.signal(signal.SIGTERM, _stop)
    socket_mode = None
    if config.app_token is not None:
        socket_mode = SocketMode(app, config.app_token, config.api_url)
        socket_mode.connect()
        server = create_http_server(create_wsgi(None, health), "0.0.0.0", config.port)
        mode = "Socket Mode"
    else:
        server = create_http_server(create_wsgi(app, health), "0.0.0.0", config.port)
        mode = "HTTP"
    health.ready = True
    # What start-up built (modules, the app) lives as long as the process: keep it out of the
    # collector, whose full passes over it otherwise stall every request for ~30 ms under load.
    gc.freeze()
    logger.info("postmortem-bot ready (%s) on port %s", mode, server.effective_port)
    try:
        server.run()
    finally:
        logger.info("stopping")
        server.close()
        if socket_mode is not None:
            socket_mode.close()
        scheduler.stop()
        listeners.shutdown(wait=True)  # let acknowledged work finish before the store closes
        echoes.wait_idle()  # and the timeline entries it recorded reach their channel
        publisher.stop()  # and the commits it queued
        store.close()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot: HTTP server, or Socket Mode with SLACK_APP_TOKEN")
    sub.add_parser("check", help="check settings, the Slack token and scopes, the repository")
    sub.add_parser("demo", help="play a whole incident in the sandbox Slack (no workspace needed)")
    sub.add_parser(
        "playground", help="an interactive terminal Slack on the sandbox, to try the bot"
    )
    render_cmd = sub.add_parser("render", help="print an incident's post-mortem draft, offline")
    render_cmd.add_argument("hotfix", help="the incident, e.g. hotfix-001")
    render_cmd.add_argument("--team", help="Slack team id, when the database holds several")
    render_cmd.add_argument("--log", action="store_true", help="print hotfix.md instead")
    args = parser.parse_args(argv)
    quiet = args.command in ("demo", "playground", "check", "render")
    configure_logs(
        level=os.environ.get("LOG_LEVEL", "WARNING" if quiet else "INFO"),
        json_lines=os.environ.get("LOG_FORMAT", "text" if quiet else "json") == "json",
        secrets=[
            os.environ.get(n)
            for n in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
        ],
    )
    if args.command == "run":
        return run()
    if args.command == "check":
        from bot.check import run_check

        return run_check(os.environ)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo()
    if args.command == "playground":
        from bot.playground import run_playground

        return run_playground()
    return render(args.hotfix, args.team, args.log)


if __name__ == "__main__":
    sys.exit(main())
