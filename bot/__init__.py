"""postmortem-bot: a Slack bot that takes an on-call team from the first alert to a post-mortem."""

__version__ = "0.1.0"
