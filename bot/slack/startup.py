"""Before the bot serves: does Slack take its tokens? One line naming the setting when it does
not; retries, saying so, while Slack cannot be reached."""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config

logger = logging.getLogger(__name__)
_client_logger = logging.getLogger(f"{__name__}.client")  # each failure is said once, below
_client_logger.setLevel(logging.CRITICAL)

# Errors that mean "not now" rather than "not this token": Slack's common errors
# (slack-api-ref methods/_errors/common.json) and those of auth.test and apps.connections.open.
TRANSIENT = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "ratelimited",
        "team_added_to_org",
        "org_login_required",
    }
)
RETRY_DELAYS_S = (1, 2, 4, 8)  # then give up: ~15 s, and the platform's restart policy takes over


class StartupError(Exception):
    """The bot cannot start; the message (one line) names the setting and what to do."""


def _answer(exc: SlackApiError) -> tuple[str, bool]:
    """(Slack's error or the HTTP status, whether trying again may help)."""
    status = int(getattr(exc.response, "status_code", 200) or 200)
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if not error:
        return f"HTTP {status}", status >= 500 or status == 429
    return str(error), error in TRANSIENT or status >= 500


def _reason(exc: Exception) -> str:
    cause = getattr(exc, "reason", exc)  # urllib wraps the socket's error
    return str(getattr(cause, "strerror", None) or cause or type(cause).__name__)


def check_slack(
    config: Config,
    delays: Sequence[float] = RETRY_DELAYS_S,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """`auth.test` with SLACK_BOT_TOKEN and, in Socket Mode, `apps.connections.open` with
    SLACK_APP_TOKEN; returns the WebSocket URL Slack gave (None in HTTP mode).

    While Slack cannot be reached (connection errors, HTTP 5xx, TRANSIENT errors) it logs a
    warning and tries again after each of `delays` seconds. Raises StartupError when Slack
    refuses a token, answers as no Slack does, or is still unreachable after the last delay."""
    client = WebClient(
        base_url=config.api_url, timeout=10, logger=_client_logger, retry_handlers=[]
    )
    tries = 0
    while True:
        setting = "SLACK_BOT_TOKEN"
        try:
            client.auth_test(token=config.bot_token)
            if config.app_token is None:
                return None
            setting = "SLACK_APP_TOKEN"
            url = client.apps_connections_open(app_token=config.app_token)["url"]
            return str(url)
        except SlackApiError as exc:
            reason, transient = _answer(exc)
            if not transient:
                raise StartupError(_refusal(config, setting, reason)) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = _reason(exc)
        if tries == len(delays):
            raise StartupError(
                f"SLACK_API_URL: Slack did not answer at {config.api_url} ({reason}) in "
                f"{tries + 1} tries: check SLACK_API_URL and this machine's outbound network "
                "(proxy, firewall, DNS)"
            )
        logger.warning(
            "Slack is not reachable at %s (%s); trying again in %g s",
            config.api_url,
            reason,
            delays[tries],
        )
        sleep(delays[tries])
        tries += 1


def _refusal(config: Config, setting: str, error: str) -> str:
    if error.startswith("HTTP "):
        return (
            f"SLACK_API_URL: {config.api_url} does not answer as Slack's Web API ({error}): "
            "leave it unset for Slack, or point it at a Slack emulator's /api/"
        )
    if setting == "SLACK_BOT_TOKEN":
        return (
            f"SLACK_BOT_TOKEN: Slack refused the bot token ({error}): copy the Bot User OAuth "
            "Token (xoxb-...) from OAuth & Permissions; reinstall the app if it was removed"
        )
    return (
        f"SLACK_APP_TOKEN: Slack refused the app-level token ({error}): create one with the "
        "connections:write scope under Basic Information, and enable Socket Mode"
    )
