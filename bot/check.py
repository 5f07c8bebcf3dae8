"""`python -m bot check`: is this deployment ready? Each problem in plain words, with its fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config, ConfigError, load_config
from bot.drafts import check_templates as check_templates_in
from bot.hosts import HostError, host_for, where
from bot.manifest import manifest_scopes
from bot.postmortem import DEFAULT_TEMPLATES
from bot.private import open_to_others, redact
from bot.sections import TemplateError


@dataclass
class Report:
    """What `check` prints: each line with the credentials of any URL in it hidden."""

    out: TextIO
    problems: list[str] = field(default_factory=list)

    def ok(self, text: str) -> None:
        print(f"  ✓ {redact(text)}", file=self.out)

    def bad(self, text: str, fix: str) -> None:
        self.problems.append(redact(text))
        print(f"  ✗ {redact(text)}\n      → {redact(fix)}", file=self.out)


def check_slack(config: Config, report: Report) -> None:
    client = WebClient(token=config.bot_token, base_url=config.api_url, timeout=15)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        report.bad(
            f"Slack refused the bot token ({error}).",
            "Copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions into "
            "SLACK_BOT_TOKEN; reinstall the app if it was revoked.",
        )
        return
    except OSError as exc:
        report.bad(
            f"Slack is not reachable at {config.api_url} ({exc}).",
            "Check SLACK_API_URL and this machine's outbound network.",
        )
        return
    report.ok(f"The token works: bot @{auth['user']} in workspace {auth['team']}.")
    granted = {s.strip() for s in auth.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
    wanted = manifest_scopes()
    if wanted is None:
        report.ok("manifest.yml is not here; scopes not compared.")
    elif missing := sorted(wanted - granted):
        for scope in missing:  # each on its own line, with its fix (README, "Create the app")
            report.bad(
                f"Missing scope {scope}: the token lacks a scope manifest.yml asks for.",
                f"Add {scope} under OAuth & Permissions (or update the app from manifest.yml), "
                "then reinstall the app to the workspace.",
            )
    else:
        report.ok(f"The token has every scope manifest.yml asks for ({len(wanted)}).")
    if config.digest_channel:
        assert config.digest_at is not None
        check_digest_channel(client, config.digest_channel, config.digest_at.words, report)
    if config.app_token:
        app = WebClient(token=config.app_token, base_url=config.api_url, timeout=15)
        try:
            app.apps_connections_open(app_token=config.app_token)
            report.ok("Socket Mode: the app-level token opens a connection.")
        except SlackApiError as exc:
            report.bad(
                f"Socket Mode: the app-level token was refused ({exc.response.get('error')}).",
                "Create an app-level token with connections:write (Basic Information) "
                "and enable Socket Mode; put it in SLACK_APP_TOKEN.",
            )


def check_digest_channel(client: WebClient, channel: str, when: str, report: Report) -> None:
    """The weekly digest's channel: the bot sees it (conversations.info), it is not archived,
    and the bot is a member (`is_member`; the chart's upload needs it)."""
    fix = (
        "Invite the bot to the channel (`/invite @postmortem-bot`), or set DIGEST_CHANNEL to "
        "one it is in."
    )
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        report.bad(f"DIGEST_CHANNEL {channel}: Slack said {exc.response.get('error')}.", fix)
        return
    if info.get("is_archived"):
        report.bad(
            f"DIGEST_CHANNEL {channel} (#{info.get('name')}) is archived.",
            "Set DIGEST_CHANNEL to a live channel.",
        )
    elif not info.get("is_member"):
        report.bad(f"DIGEST_CHANNEL {channel} (#{info.get('name')}): the bot is not in it.", fix)
    else:
        report.ok(f"The weekly digest goes to #{info.get('name')} on {when}.")


def check_repo(config: Config, report: Report) -> None:
    if shutil.which("git") is None:
        report.bad("git is not installed.", "Install git (e.g. `apt-get install git`).")
        return
    if not config.repo:
        if data_folder_problem(config.data_dir) is None:
            report.ok(f"Post-mortems go to a local repository: {config.data_dir / 'postmortems'}")
        return
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    listed = subprocess.run(
        ["git", "ls-remote", "--heads", "--", config.repo],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    if listed.returncode != 0:
        report.bad(
            f"The post-mortem repository is not reachable: {' '.join(listed.stderr.split())[:200]}",
            "Check POSTMORTEM_REPO and the credentials git uses on this machine "
            "(SSH key or credential helper).",
        )
        return
    with tempfile.TemporaryDirectory() as scratch:

        def git(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["git", "-C", scratch, *args], capture_output=True, text=True, timeout=60, env=env
            )

        git("init", "-q")
        git(
            "-c",
            "user.name=check",
            "-c",
            "user.email=check@localhost",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "postmortem-bot check",
        )
        pushed = git("push", "--dry-run", "--", config.repo, "HEAD:refs/heads/postmortem-bot-check")
    if pushed.returncode != 0:
        report.bad(
            f"The post-mortem repository is read-only for this machine: "
            f"{' '.join(pushed.stderr.split())[:200]}",
            "Give the bot's credentials push access to POSTMORTEM_REPO.",
        )
    else:
        report.ok(
            f"The post-mortem repository is reachable and writable: {config.repo} "
            f"(branch {config.branch})."
        )


def check_review(config: Config, report: Report) -> None:
    """Review mode (POSTMORTEM_REVIEW=pull-request): the base branch is there, and how pull
    requests will be opened (the host's API with a token that sees the repository, the page
    that opens one, or the branch named)."""
    if not config.reviewing or not config.repo:
        return
    listed = subprocess.run(
        ["git", "ls-remote", "--heads", "--", config.repo, config.branch],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if listed.returncode == 0 and not listed.stdout.strip():
        report.bad(
            f"Review mode: the repository has no branch {config.branch}, the base every pull "
            "request goes to.",
            f"Push a first commit to {config.branch} (a README will do), or set "
            "POSTMORTEM_BRANCH to the repository's main branch.",
        )
    place = where(config.repo)
    host = host_for(config.repo, dict(config.hosting))
    if host is not None:
        try:
            page = host.repository()
        except HostError as error:
            report.bad(f"Review mode: {error}", "See “Review as a pull request” in README.md.")
            return
        report.ok(
            f"Review mode: pull requests are opened through the host's API for {page}; "
            "merging one publishes its post-mortem."
        )
    elif place is not None and place.kind in ("github", "gitlab"):
        token = "GITHUB_TOKEN" if place.kind == "github" else "GITLAB_TOKEN"
        report.ok(
            f"Review mode without a token: the bot posts the page that opens a pull request on "
            f"{place.web_url}; with {token} it opens them itself and relays review comments."
        )
    else:
        report.ok(
            "Review mode with plain git: POSTMORTEM_REPO is on no host the bot knows, so it "
            "names the branch to open a pull request from; merges are still noticed with git."
        )


def data_folder_problem(folder: Path) -> str | None:
    """Why the bot could not keep its files in `folder`, or None: it must be a folder the bot
    can write in, or one it can make (tried for real: a scratch folder is made and removed in
    it, or in its nearest existing parent, since permission bits do not tell for root or for
    /proc)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, so the data folder {folder} cannot be made"
    try:
        Path(tempfile.mkdtemp(prefix=".postmortem-bot-check-", dir=existing)).rmdir()
    except OSError as error:
        where = "" if existing == folder else f" (it would be made in {existing})"
        return f"the data folder {folder} is not writable{where}: {error.strerror}"
    return None


def check_files(config: Config, report: Report) -> None:
    """The data folder is a writable folder (or can be made); it and the database (with its
    -wal and -shm) are the bot's user's only: they hold every incident, private ones too, and
    the clone's `.git/config` the repository's credentials. Only what exists is looked at for
    its mode (the bot makes the rest private)."""
    folder = config.data_dir
    if problem := data_folder_problem(folder):
        report.bad(
            problem[0].upper() + problem[1:] + ".",
            "Point DATABASE_PATH at a file in a writable (persistent) folder.",
        )
        return
    if open_to_others(folder):
        report.bad(
            f"Other users of this machine can read the data folder {folder} "
            f"(mode {folder.stat().st_mode & 0o777:o}).",
            f"chmod 700 {folder}",
        )
    database = config.database_path
    opened = [
        path
        for suffix in ("", "-wal", "-shm")
        if open_to_others(path := database.with_name(database.name + suffix))
    ]
    if opened:
        report.bad(
            f"Other users of this machine can read the database {database} "
            f"(mode {opened[0].stat().st_mode & 0o777:o}).",
            f"chmod 600 {' '.join(str(path) for path in opened)}",
        )
    if folder.is_dir() and not opened and not open_to_others(folder):
        report.ok(f"The data folder is the bot's user's only: {folder}")


def check_templates(config: Config, report: Report) -> None:
    folder = config.templates_dir or DEFAULT_TEMPLATES
    try:
        catalog = check_templates_in(folder)
    except TemplateError as error:
        report.bad(str(error), "Fix the template, or unset TEMPLATES_DIR to use the bundled one.")
        return
    report.ok(f"Templates render, with {len(catalog)} sections to write: {folder}")


def run_check(env: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    print("postmortem-bot check", file=out)
    try:
        config = load_config(env)
    except ConfigError as error:
        print(
            f"  ✗ {redact(str(error))}\n      → See the settings table in README.md.",
            file=out,
        )
        return 2
    report = Report(out)
    report.ok(f"Settings are valid ({'Socket Mode' if config.socket_mode else 'HTTP mode'}).")
    check_slack(config, report)
    check_files(config, report)
    check_repo(config, report)
    check_review(config, report)
    check_templates(config, report)
    if report.problems:
        print(f"{len(report.problems)} problem(s) to fix.", file=out)
        return 1
    print("Ready to run: python -m bot run", file=out)
    return 0
