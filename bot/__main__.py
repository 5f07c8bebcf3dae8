"""Command line: `python -m bot run` starts the bot (HTTP or Socket Mode) in one process."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from bot.config import ConfigError, load_config

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
    from bot.server import Health, create_http_server, create_wsgi
    from bot.slack.app import create_app
    from bot.store import Store

    store = Store(config.database_path)
    health = Health(store)
    listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    app = create_app(config, store, listener_executor=listeners)
    signal.signal(signal.SIGTERM, _stop)
    socket_handler = None
    if config.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket_handler = SocketModeHandler(app, config.app_token)
        socket_handler.connect()  # type: ignore[no-untyped-call]
        server = create_http_server(create_wsgi(None, health), "0.0.0.0", config.port)
        mode = "Socket Mode"
    else:
        server = create_http_server(create_wsgi(app, health), "0.0.0.0", config.port)
        mode = "HTTP"
    health.ready = True
    logger.info("postmortem-bot ready (%s) on port %s", mode, server.effective_port)
    try:
        server.run()
    finally:
        logger.info("stopping")
        server.close()
        if socket_handler is not None:
            socket_handler.close()  # type: ignore[no-untyped-call]
        listeners.shutdown(wait=True)  # let acknowledged work finish before the store closes
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot: HTTP server, or Socket Mode with SLACK_APP_TOKEN")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "run":
        return run()
    return 2


if __name__ == "__main__":
    sys.exit(main())
