"""The settings git is given (POSTMORTEM_REPO, POSTMORTEM_BRANCH), checked as git checks them:
nothing git could read as an option, and a branch name git itself accepts."""

from __future__ import annotations

import re
import shutil
import subprocess

# git-check-ref-format(1), "Git imposes the following rules", in the words a person needs;
# with `--branch`, git also refuses a leading `-` and the name HEAD. First match wins.
_BRANCH_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^-"), "it must not begin with `-` (git would read it as an option)"),
    (re.compile(r"^HEAD$"), "it cannot be HEAD"),
    (re.compile(r"^@$"), "it cannot be the single character @"),
    (re.compile(r"[\x00-\x20\x7f~^:]"), "it cannot contain spaces, control characters, ~, ^ or :"),
    (re.compile(r"[?*\[]"), "it cannot contain ?, * or ["),
    (re.compile(r"\\"), "it cannot contain a backslash"),
    (re.compile(r"^/|/$|//"), "it cannot begin or end with / or contain //"),
    (re.compile(r"(^|/)\."), "no part of it (between slashes) can begin with a dot"),
    (re.compile(r"\.lock(/|$)"), "no part of it (between slashes) can end with .lock"),
    (re.compile(r"\.\."), "it cannot contain two dots in a row"),
    (re.compile(r"\.$"), "it cannot end with a dot"),
    (re.compile(r"@\{"), "it cannot contain @{"),
)


def branch_problem(name: str) -> str | None:
    """Why git would not take `name` as a branch (the rule of git-check-ref-format(1) it
    breaks, e.g. "no part of it (between slashes) can end with .lock"), or None if it would.
    git itself has the last word (`git check-ref-format --branch`) where it is installed."""
    if not name:
        return "it is empty"
    for pattern, rule in _BRANCH_RULES:
        if pattern.search(name):
            return rule
    if shutil.which("git") is not None:
        checked = subprocess.run(
            ["git", "check-ref-format", "--branch", name],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if checked.returncode != 0:
            return "`git check-ref-format --branch` refuses it"
    return None


def repo_problem(repo: str) -> str | None:
    """Why `repo` (POSTMORTEM_REPO: a URL or a path) cannot be handed to git, or None. A value
    beginning with `-` is an option to git wherever it goes (`--upload-pack=<command>` runs the
    command); a line break or control character has no place in a URL or a path git takes
    (git refuses a URL with a newline in it, for credentials' sake)."""
    if repo.startswith("-"):
        return (
            "it must not begin with `-` (git would read it as an option): "
            "expected a URL or a path, e.g. https://host/org/postmortems.git"
        )
    if re.search(r"[\x00-\x1f\x7f]", repo):
        return "it cannot contain control characters or line breaks"
    return None


REVIEW_MODES = ("commit", "pull-request")  # POSTMORTEM_REVIEW
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")  # a Slack user ID
# GitHub logins: letters, digits, single hyphens; GitLab usernames add `_` and `.`
_ACCOUNT = re.compile(r"^@?[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def reviewer_accounts(text: str) -> tuple[tuple[str, str], ...]:
    """REVIEWER_ACCOUNTS, `U0123ABCD=octocat,U0456EFGH=alice` -> ((user ID, account), ...)
    (a leading @ dropped). Raises ValueError saying which pair is wrong and why."""
    pairs: list[tuple[str, str]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        user, sep, account = (x.strip() for x in part.partition("="))
        if not sep or not _USER_ID.match(user) or not _ACCOUNT.match(account):
            raise ValueError(
                f"expected `SLACK_USER_ID=account` pairs such as `U0123ABCD=octocat`, got {part!r}"
            )
        if any(user == known for known, _ in pairs):
            raise ValueError(f"{user} is given twice; give each Slack user one account")
        pairs.append((user, account.removeprefix("@")))
    return tuple(pairs)
