"""The baseline for bench.py: a Bolt app that only acks `/timeline`, on the bot's own server."""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import App

from bot.config import load_config
from bot.server import Health, create_http_server, create_wsgi
from bot.slack.app import create_client
from bot.store import Store

config = load_config(os.environ)
app = App(signing_secret=config.signing_secret, client=create_client(config))
app.command("/timeline")(lambda ack: ack(response_type="in_channel", text="ok"))
health = Health(Store(Path(tempfile.mkdtemp()) / "bare.db"))
health.ready = True
create_http_server(create_wsgi(app, health, config.signing_secret), "127.0.0.1", config.port).run()
