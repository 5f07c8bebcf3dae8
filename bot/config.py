"""Configuration: every setting the bot reads from the environment, validated once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from pathlib import Path
from urllib.parse import urlparse

from bot.digest_at import DigestAt, parse_digest_at
from bot.durations import parse_duration
from bot.errors import UsageError
from bot.escalate_to import EscalateTo, parse_escalate_to
from bot.git_settings import REVIEW_MODES, branch_problem, repo_problem, reviewer_accounts
from bot.models import ONE_TIME, Milestone
from bot.settings import SETTINGS
from bot.timeline import split_milestone
from bot.when import parse_zone_setting
from bot.working_hours import WorkingHours, parse_hours


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says what is expected."""


_DEFAULTS = {s.name: s.default for s in SETTINGS}
HOSTING = ("GITHUB_TOKEN", "GITHUB_API_URL", "GITLAB_TOKEN", "GITLAB_URL")  # for bot/hosts
# Slack's emoji names (standard and custom): lowercase letters, digits, `_`, `-`, `+`, `'`
_EMOJI_RE = re.compile(r"^[a-z0-9_+'-]{1,100}$")
CONFIRMATION_EMOJI = "memo"  # the bot's own reaction on a message it kept (README)
_PREFIX_RE = re.compile(r"^[a-z0-9_-]{0,20}$")
_CHANNEL_ID_RE = re.compile(r"^[CG][A-Z0-9]{2,}$")
_AUTHOR_RE = re.compile(
    r"^(?P<name>[^<>\x00-\x1f\x7f]+)<(?P<email>[^<>\s\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+)>$"
)


@dataclass(frozen=True)
class Config:
    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str
    port: int
    database_path: Path
    channel_prefix: str
    announce_channel: str | None
    deadline: timedelta = timedelta(hours=48)
    reminders_before: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=4))
    nudge_every: timedelta | None = timedelta(days=1)
    action_reminder_before: timedelta = timedelta(hours=24)
    repo: str | None = None
    branch: str = "main"
    git_author: tuple[str, str] = ("postmortem-bot", "postmortem-bot@localhost")
    templates_dir: Path | None = None
    timeline_zone: tzinfo | None = None  # None: each person's own (TIMELINE_TIME_ZONE=user)
    api_timeout: int = 15  # seconds a Web API call may take (work after the ack only)
    timeline_reactions: tuple[str, ...] = ("pushpin",)  # emoji names that keep a message
    milestone_reactions: tuple[tuple[str, Milestone], ...] = ()  # (emoji, milestone) pairs
    review: str = "commit"  # POSTMORTEM_REVIEW: commit, or pull-request
    reviewer_accounts: tuple[tuple[str, str], ...] = ()  # (Slack user ID, host account)
    hosting: tuple[tuple[str, str], ...] = ()  # the HOSTING settings given (tokens: secret)
    digest_channel: str | None = None  # DIGEST_CHANNEL: the weekly digest goes there
    digest_at: DigestAt | None = None  # DIGEST_AT (None: no digest, DIGEST_CHANNEL not set)
    hours: WorkingHours | None = None  # REMINDER_HOURS (None: `always`)
    escalate_after: timedelta | None = None  # ESCALATE_AFTER (None: off)
    escalate_to: EscalateTo | None = None  # ESCALATE_TO (set whenever escalate_after is)

    @property
    def reviewing(self) -> bool:
        """Review mode: drafts go to a branch per incident; a merge publishes."""
        return self.review == "pull-request"

    @property
    def data_dir(self) -> Path:
        return self.database_path.parent

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or _DEFAULTS[name]


def _list(env: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in (_get(env, name) or "").split(",") if part.strip()]


def _duration(env: Mapping[str, str], name: str, text: str | None = None) -> timedelta:
    spec = text if text is not None else (_get(env, name) or "")
    try:
        value = parse_duration(spec)
    except UsageError:
        raise ConfigError(
            f"{name}: expected a duration such as 30s, 15m, 4h, 2d or 1d12h, got {spec!r}"
        ) from None
    if not value:
        raise ConfigError(f"{name}: expected a duration longer than zero")
    return value


def load_config(env: Mapping[str, str]) -> Config:
    """Read and validate the settings; raise ConfigError naming the first bad one."""
    bot_token = _get(env, "SLACK_BOT_TOKEN")
    if not bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: expected the bot token (xoxb-...)")
    if not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN: expected a bot token starting with xoxb-")

    app_token = _get(env, "SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: expected an app-level token starting with xapp-")

    signing_secret = _get(env, "SLACK_SIGNING_SECRET")
    if app_token is None and not signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: expected the app's signing secret "
            "(required in HTTP mode; set SLACK_APP_TOKEN for Socket Mode)"
        )

    api_url = _get(env, "SLACK_API_URL") or ""
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL: expected an http(s) URL such as https://slack.com/api/")
    if not api_url.endswith("/"):
        api_url += "/"

    port_text = _get(env, "PORT") or ""
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"PORT: expected a port number from 1 to 65535, got {port_text!r}")

    prefix = _get(env, "INCIDENT_CHANNEL_PREFIX") or ""
    if not _PREFIX_RE.match(prefix):
        raise ConfigError(
            "INCIDENT_CHANNEL_PREFIX: expected up to 20 lowercase letters, digits, - or _"
        )

    announce = _get(env, "ANNOUNCE_CHANNEL")
    if announce is not None and not _CHANNEL_ID_RE.match(announce):
        raise ConfigError(
            "ANNOUNCE_CHANNEL: expected a channel ID such as C0123456789 (not a #name)"
        )

    repo = _get(env, "POSTMORTEM_REPO")
    if repo is not None and (problem := repo_problem(repo)):
        raise ConfigError(f"POSTMORTEM_REPO: {problem}")
    branch = _get(env, "POSTMORTEM_BRANCH") or ""
    if problem := branch_problem(branch):
        raise ConfigError(
            f"POSTMORTEM_BRANCH: {branch!r} is not a branch name git accepts: {problem}"
        )
    author = _AUTHOR_RE.match(_get(env, "POSTMORTEM_GIT_AUTHOR") or "")
    if not author:
        raise ConfigError("POSTMORTEM_GIT_AUTHOR: expected `Name <email>`")
    _, templates_dir = load_offline(env)
    deadline = _duration(env, "POSTMORTEM_DEADLINE")
    reminders = tuple(
        sorted(
            {_duration(env, "REMINDERS_BEFORE", part) for part in _list(env, "REMINDERS_BEFORE")},
            reverse=True,
        )
    )
    if any(r >= deadline for r in reminders):
        raise ConfigError("REMINDERS_BEFORE: every reminder must come before POSTMORTEM_DEADLINE")
    zone_setting = _get(env, "TIMELINE_TIME_ZONE") or ""
    try:
        timeline_zone = parse_zone_setting(zone_setting)
    except ValueError:
        raise ConfigError(
            "TIMELINE_TIME_ZONE: expected `user`, `utc` or an IANA time zone such as "
            f"Europe/Berlin, got {zone_setting!r}"
        ) from None
    nudge = _get(env, "OVERDUE_NUDGE_EVERY") or ""
    nudge_every = None if nudge.lower() == "off" else _duration(env, "OVERDUE_NUDGE_EVERY")

    reactions, milestones = _reactions(env)
    review = (_get(env, "POSTMORTEM_REVIEW") or "").lower()
    if review not in REVIEW_MODES:
        raise ConfigError(f"POSTMORTEM_REVIEW: expected `commit` or `pull-request`, got {review!r}")
    if review == "pull-request" and repo is None:
        raise ConfigError(
            "POSTMORTEM_REVIEW: `pull-request` needs POSTMORTEM_REPO, the repository where "
            "pull requests are opened"
        )
    try:
        accounts = reviewer_accounts(_get(env, "REVIEWER_ACCOUNTS") or "")
    except ValueError as error:
        raise ConfigError(f"REVIEWER_ACCOUNTS: {error}") from None
    digest_channel, digest_at = _digest(env)
    try:
        hours = parse_hours(_get(env, "REMINDER_HOURS") or "")
    except ValueError as error:
        raise ConfigError(f"REMINDER_HOURS: {error}") from None
    escalate_after, escalate_to = _escalation(env)
    return Config(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url,
        port=int(port_text),
        database_path=Path(_get(env, "DATABASE_PATH") or ""),
        channel_prefix=prefix,
        announce_channel=announce,
        deadline=deadline,
        reminders_before=reminders,
        nudge_every=nudge_every,
        action_reminder_before=_duration(env, "ACTION_REMINDER_BEFORE"),
        repo=repo,
        branch=branch,
        git_author=(author["name"].strip(), author["email"]),
        templates_dir=templates_dir,
        timeline_zone=timeline_zone,
        timeline_reactions=reactions,
        milestone_reactions=milestones,
        review=review,
        reviewer_accounts=accounts,
        hosting=tuple((k, v) for k in HOSTING if (v := _get(env, k))),
        digest_channel=digest_channel,
        digest_at=digest_at,
        hours=hours,
        escalate_after=escalate_after,
        escalate_to=escalate_to,
    )


def _digest(env: Mapping[str, str]) -> tuple[str | None, DigestAt | None]:
    """DIGEST_CHANNEL and DIGEST_AT (checked even without a channel: a typo shows at once)."""
    channel = _get(env, "DIGEST_CHANNEL")
    if channel is not None and not _CHANNEL_ID_RE.match(channel):
        raise ConfigError("DIGEST_CHANNEL: expected a channel ID such as C0123456789 (not a #name)")
    try:
        at = parse_digest_at(_get(env, "DIGEST_AT") or "")
    except ValueError as error:
        raise ConfigError(f"DIGEST_AT: {error}") from None
    return channel, at if channel else None


def _escalation(env: Mapping[str, str]) -> tuple[timedelta | None, EscalateTo | None]:
    """ESCALATE_AFTER (a duration, or `off`) and ESCALATE_TO, which go together: a duration
    without a target, or a target with ESCALATE_AFTER unset, is a ConfigError. `off` with a
    target keeps the target and escalates nothing."""
    text = _get(env, "ESCALATE_TO")
    try:
        to = parse_escalate_to(text) if text is not None else None
    except ValueError as error:
        raise ConfigError(f"ESCALATE_TO: {error}") from None
    after_text = _get(env, "ESCALATE_AFTER")
    if after_text is None:
        if to is not None:
            raise ConfigError(
                "ESCALATE_TO: needs ESCALATE_AFTER, how long past a deadline to escalate "
                "(`1d`; `off` escalates nothing)"
            )
        return None, None
    if after_text.lower() == "off":
        return None, to
    after = _duration(env, "ESCALATE_AFTER")
    if to is None:
        raise ConfigError(
            "ESCALATE_AFTER: needs ESCALATE_TO, who is told: a user ID (U0123ABCD) or a "
            "channel ID (C0123456789)"
        )
    return after, to


def _emoji(name: str, text: str) -> str:
    """`:pushpin:` or `pushpin` -> "pushpin"; ConfigError naming the setting otherwise."""
    emoji = text.strip().strip(":").lower()
    if not _EMOJI_RE.match(emoji):
        raise ConfigError(
            f"{name}: {text.strip()!r} is not an emoji name (lowercase letters, digits, _ - +)"
        )
    if emoji == CONFIRMATION_EMOJI:
        raise ConfigError(
            f"{name}: {emoji} is the bot's own confirmation reaction; choose another emoji"
        )
    return emoji


def _reactions(
    env: Mapping[str, str],
) -> tuple[tuple[str, ...], tuple[tuple[str, Milestone], ...]]:
    """TIMELINE_REACTION and TIMELINE_MILESTONE_REACTIONS, checked together (no emoji in
    both, no milestone that only a command may move)."""
    keep = tuple(
        dict.fromkeys(_emoji("TIMELINE_REACTION", p) for p in _list(env, "TIMELINE_REACTION"))
    )
    if not keep:
        raise ConfigError(
            "TIMELINE_REACTION: name at least one emoji (or leave it unset for pushpin)"
        )
    default = "" if env.get("TIMELINE_REACTION") else " (its default)"
    pairs: dict[str, Milestone] = {}
    name = "TIMELINE_MILESTONE_REACTIONS"
    for part in _list(env, name):
        emoji_text, colon, word = part.rpartition(":")
        if not colon or not emoji_text.strip(":") or not word.strip():
            raise ConfigError(f"{name}: expected `emoji:milestone` pairs, got {part!r}")
        emoji = _emoji(name, emoji_text)
        milestone, rest = split_milestone(word.strip() + ":")
        if milestone is None or rest:
            known = ", ".join(m.value for m in Milestone if m not in ONE_TIME)
            raise ConfigError(f"{name}: {word.strip()!r} is not a milestone ({known})")
        if milestone in ONE_TIME:
            command = (
                "`/incident resolve`"
                if milestone is Milestone.RESOLVED
                else f"`/timeline HH:MM {milestone.value}: ...`"
            )
            raise ConfigError(
                f"{name}: {milestone.value} cannot be set by an emoji: only {command} records "
                f"“{milestone.label}”"
            )
        if emoji in keep:
            raise ConfigError(
                f"{name}: {emoji} is in TIMELINE_REACTION too{default}; give it one meaning"
            )
        if emoji in pairs and pairs[emoji] is not milestone:
            raise ConfigError(f"{name}: {emoji} is given two milestones")
        pairs[emoji] = milestone
    return keep, tuple(pairs.items())


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")


def load_log_settings(env: Mapping[str, str], quiet: bool) -> tuple[str, bool]:
    """(level, one JSON object per line?) from LOG_LEVEL and LOG_FORMAT; the defaults are
    INFO and json for the server, WARNING and text for the `quiet` commands (check, demo, ...).
    Raises ConfigError naming a bad one."""
    level = env.get("LOG_LEVEL", "").strip() or ("WARNING" if quiet else "INFO")
    if level.upper() not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {level!r}")
    form = env.get("LOG_FORMAT", "").strip() or ("text" if quiet else "json")
    if form.lower() not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT: expected json or text, got {form!r}")
    return level.upper(), form.lower() == "json"


def load_offline(env: Mapping[str, str]) -> tuple[Path, Path | None]:
    """What offline commands (`render`) need: the database and the templates, no Slack."""
    templates = _get(env, "TEMPLATES_DIR")
    if templates is not None and not Path(templates, "postmortem.md.j2").is_file():
        raise ConfigError(
            f"TEMPLATES_DIR: expected a folder with postmortem.md.j2, got {templates}"
        )
    return Path(_get(env, "DATABASE_PATH") or ""), Path(templates) if templates else None
