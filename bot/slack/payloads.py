"""Reading Slack payloads into plain values, and turning workflow errors into replies."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack

from bot.errors import BotError, UsageError, quoted
from bot.slack.text import decode, escape, parse_mention, split_args
from bot.store import Store

logger = logging.getLogger(__name__)


def team_of(body: dict[str, Any]) -> str:
    """The workspace (`T…`) a request from Slack happened in, for every kind of payload; ""
    if the body names none (then no incident is found: nothing happens).

    Where Slack puts it (java-slack-sdk-json-samples, `app-backend/` and `events/`; Slack's
    "organization-wide apps" reference):

    - slash commands: the form's `team_id` (with `enterprise_id` on Enterprise Grid);
    - Events API (`app_home_opened`, `member_joined_channel`, `reaction_added`, ...): the
      envelope's `team_id`. Not `authorizations[0].team_id`: on an org-wide install that is
      null (Bolt's own tests, tests/scenario_tests/test_events_org_apps.py);
    - interactivity (`block_actions`, `view_submission`, `view_closed`, `shortcut`,
      `message_action`): `team.id`, but on an org-wide install `team` is null
      (slack_bolt/request/internals.py, extract_team_id, says so); then `view.team_id` (the
      workspace a modal or App Home was opened in) or `user.team_id` (the clicker's).

    Not Bolt's `context.team_id`: it reads `authorizations[0].team_id` first for events
    (null on Grid, so None) and `view.app_installed_team_id` first for views (the org's `E…`
    id on an org-wide install, the installing workspace in a Slack Connect channel)."""
    if team_id := body.get("team_id"):  # commands, events
        return str(team_id)
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):  # interactivity, workspace install
        return str(team["id"])
    for part in ("view", "user"):  # interactivity, org-wide install: `team` is null
        if isinstance(found := body.get(part), dict) and found.get("team_id"):
            return str(found["team_id"])
    return ""


@dataclass(frozen=True)
class Command:
    """A slash command as plain values: text decoded once, mentions kept as (id, name)."""

    team_id: str
    channel_id: str
    user_id: str
    raw: str
    trigger_id: str = ""

    @classmethod
    def from_body(cls, body: dict[str, Any], store: Store) -> Command:
        command = cls(
            team_id=team_of(body),
            channel_id=body.get("channel_id", ""),
            user_id=body["user_id"],
            raw=(body.get("text") or "").strip(),
            trigger_id=body.get("trigger_id", ""),
        )
        store.remember_user(command.team_id, command.user_id, body.get("user_name", ""))
        for word in split_args(command.raw):
            if found := parse_mention(word):
                store.remember_user(command.team_id, *found)
        return command

    @property
    def args(self) -> list[str]:
        return split_args(self.raw)

    def text_after(self, count: int) -> str:
        """The decoded text after the first `count` words, as the person typed it."""
        rest = self.raw
        for word in self.args[:count]:
            rest = rest[rest.index(word) + len(word) :]
        return decode(rest.strip())


def users_in(words: list[str], usage: str) -> list[str]:
    """User ids of `<@U123|name>` mentions; UsageError if any word is not a mention."""
    users = []
    for word in words:
        found = parse_mention(word)
        if found is None:
            raise UsageError(
                f"{quoted(decode(word))} is not a person. Mention them with @, e.g. `{usage}`."
            )
        users.append(found[0])
    if not users:
        raise UsageError(f"Who? Mention someone with @: `{usage}`.")
    return users


def error_text(error: BotError) -> str:
    """A workflow error as Slack text: `<title>` shows as typed; the bot's mentions still work."""
    return re.sub(r"&lt;(@[UW][A-Z0-9]+)&gt;", r"<\1>", escape(str(error)))


def replies_errors(handler: Callable[..., None]) -> Callable[..., None]:
    """Run a command handler; a BotError before the ack becomes an ephemeral reply instead.

    The workflow raises errors whose messages are written for the user; nothing is stored
    when it raises, so the reply is all that happens.
    """

    @functools.wraps(handler)
    def wrapper(*args: Any, ack: Ack, **kwargs: Any) -> None:
        acked = False

        def tracking_ack(*a: Any, **kw: Any) -> None:
            nonlocal acked
            acked = True
            ack(*a, **kw)

        try:
            handler(*args, ack=tracking_ack, **kwargs)
        except BotError as error:
            if acked:
                raise
            logger.info("refused: %s", error)
            ack(response_type="ephemeral", text=f":warning: {error_text(error)}")

    return wrapper
