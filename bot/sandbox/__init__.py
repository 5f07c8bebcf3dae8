"""A strict local Slack for tests (and, later, the sandbox): Web API, people, signed requests."""

from bot.sandbox.interactions import Reply
from bot.sandbox.server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, Emulator, sign

__all__ = ["APP_TOKEN", "BOT_TOKEN", "SIGNING_SECRET", "Emulator", "Reply", "sign"]
