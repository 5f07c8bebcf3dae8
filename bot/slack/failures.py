"""What can go wrong in a Web API call after the ack, and how to name it for people and logs."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.errors import BotError

# Slack said no, or never answered (timeouts and connection errors are OSErrors).
FAILURES: tuple[type[Exception], ...] = (SlackApiError, OSError)
# Slack's answers no retry will fix (the target is gone, closed to the bot, or the token may not):
# a reminder's DM, the digest's channel, an escalation report them at once.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "messages_tab_disabled",
    }
)


def reason(exc: Exception) -> str:
    """Slack's error code (`not_in_channel`), or what happened on the way (`timeout`)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timeout"
    return type(exc).__name__


class Told(BotError):
    """A failure after the ack, written for the person who asked: the app's error handler
    delivers it as it is (through the response URL, or by DM)."""
