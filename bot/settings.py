"""Every setting the bot reads from the environment: its name, default and help, the one list
the README's settings table is checked against (bot/config.py validates them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


# The single list of settings: the README's settings table is checked against it.
SETTINGS: tuple[Setting, ...] = (
    Setting("SLACK_BOT_TOKEN", None, "Bot token (`xoxb-...`) from OAuth & Permissions. Required."),
    Setting(
        "SLACK_SIGNING_SECRET",
        None,
        "Signing secret from Basic Information. Required in HTTP mode.",
    ),
    Setting(
        "SLACK_APP_TOKEN",
        None,
        "App-level token (`xapp-...`, scope `connections:write`). When set, the bot uses "
        "Socket Mode instead of HTTP.",
    ),
    Setting(
        "SLACK_API_URL",
        "https://slack.com/api/",
        "Base URL of the Slack Web API; point it at a local Slack emulator for tests.",
    ),
    Setting("PORT", "3000", "HTTP port for `/slack/events` and `/healthz`."),
    Setting(
        "DATABASE_PATH",
        "./data/incidents.db",
        "SQLite file; parent folders are created. Keep it on a persistent volume.",
    ),
    Setting(
        "INCIDENT_CHANNEL_PREFIX",
        "inc-",
        "Prefix of incident channel names (lowercase letters, digits, `-`, `_`).",
    ),
    Setting(
        "ANNOUNCE_CHANNEL",
        None,
        "Optional channel ID (e.g. `C0123456789`) where new public incidents are announced.",
    ),
    Setting(
        "POSTMORTEM_DEADLINE",
        "48h",
        "How long after resolution the post-mortem is due (`30s`, `15m`, `4h`, `2d`, `1d12h`).",
    ),
    Setting(
        "REMINDERS_BEFORE",
        "24h,4h",
        "When to DM the post-mortem owners, before the deadline (comma-separated durations).",
    ),
    Setting(
        "OVERDUE_NUDGE_EVERY",
        "1d",
        "After an overdue notice, how often to nudge the owners until it is published: 5 times "
        "at most, none once the incident channel is archived (`off`: never).",
    ),
    Setting(
        "REMINDER_HOURS",
        "mon-fri 09:00-18:00",
        "When reminders may reach people, on each one's Slack time zone: one due outside "
        "waits for their next working hours, unless that comes after the deadline "
        "(`mon,wed,fri 08:30-17:00`; `always`: at any hour).",
    ),
    Setting(
        "ACTION_REMINDER_BEFORE",
        "24h",
        "When to remind an action item's owner before its due date.",
    ),
    Setting(
        "DIGEST_CHANNEL",
        None,
        "Optional channel ID where a weekly digest goes: the week's incidents, post-mortems "
        "still open, action items overdue with their owners, and the last 90 days' chart. "
        "Invite the bot to it.",
    ),
    Setting(
        "DIGEST_AT",
        "mon 09:00",
        "When the digest goes: a weekday and a time, in UTC or an IANA zone "
        "(`fri 16:30 Europe/Berlin`).",
    ),
    Setting(
        "ESCALATE_AFTER",
        None,
        "How long past its deadline an unpublished post-mortem, or past its due date an open "
        "action item, is told once to ESCALATE_TO (`1d`; unset or `off`: never). Needs "
        "ESCALATE_TO.",
    ),
    Setting(
        "ESCALATE_TO",
        None,
        "Who hears of escalations: a user ID (`U0123ABCD`, or `<@U0123ABCD>`) for a DM, or a "
        "channel ID (`C0123456789`; invite the bot to a private one). Needs ESCALATE_AFTER.",
    ),
    Setting(
        "POSTMORTEM_REPO",
        None,
        "Git repository for post-mortems (any URL or path, e.g. a bare repository; not "
        "beginning with `-`). Without it, a local repository in the data folder. Credentials "
        "in the URL (`https://x-access-token:<token>@host/...`) are never shown: messages, logs "
        "and `check` say `https://***@host/...`.",
    ),
    Setting(
        "POSTMORTEM_BRANCH",
        "main",
        "Branch the post-mortems are committed to: a name `git check-ref-format --branch` accepts.",
    ),
    Setting(
        "POSTMORTEM_GIT_AUTHOR",
        "postmortem-bot <postmortem-bot@localhost>",
        "Author of the bot's commits, as `Name <email>`.",
    ),
    Setting(
        "POSTMORTEM_REVIEW",
        "commit",
        "`commit`: drafts are committed to POSTMORTEM_BRANCH and `/incident publish` publishes. "
        "`pull-request`: each incident's drafts go to a branch `postmortem/hotfix-NNN`, "
        "`/incident publish` opens a pull request, and merging it publishes. Needs "
        "POSTMORTEM_REPO.",
    ),
    Setting(
        "REVIEWER_ACCOUNTS",
        None,
        "Review mode: the git host accounts of Slack users, asked to review their "
        "post-mortems (`U0123ABCD=octocat,U0456EFGH=alice`). Without one, the host's code "
        "owners rules choose.",
    ),
    Setting(
        "GITHUB_TOKEN",
        None,
        "Review mode on GitHub or GitHub Enterprise: a token that may open pull requests "
        "(`repo` scope, or a fine-grained token with pull requests: write). Without a token, "
        "the bot posts the page that opens one.",
    ),
    Setting("GITHUB_API_URL", None, "GitHub's API, where it is not the default for the host."),
    Setting(
        "GITLAB_TOKEN",
        None,
        "Review mode on GitLab: a token with the `api` scope, to open merge requests.",
    ),
    Setting("GITLAB_URL", None, "GitLab's address, where it is not the repository's host."),
    Setting(
        "TIMELINE_TIME_ZONE",
        "user",
        "How a time typed without a zone (`/timeline 14:05 ...`) is read: `user` (in the "
        "typing person's Slack time zone), `utc`, or one IANA zone for the whole team "
        "(`Europe/Berlin`).",
    ),
    Setting(
        "TIMELINE_REACTION",
        "pushpin",
        "Emoji whose reaction keeps a message of an incident channel in the timeline "
        "(names as Slack writes them, with or without colons, several comma-separated: "
        "`pushpin,round_pushpin`).",
    ),
    Setting(
        "TIMELINE_MILESTONE_REACTIONS",
        None,
        "Emoji that keep a message and mark a milestone, as `emoji:milestone` pairs "
        "(`mag:investigating,bulb:root-cause,white_check_mark:verified`); milestones as "
        "`/timeline` takes them, but `began` and `resolved`, which only a command moves.",
    ),
    Setting(
        "TEMPLATES_DIR",
        None,
        "Folder with your own `postmortem.md.j2` and `hotfix.md.j2` (default: the bundled "
        "`templates/`).",
    ),
)
