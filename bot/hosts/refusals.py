"""A host's HTTP refusal turned into a HostError of the right kind, in words that say what to
change: one table for GitHub and GitLab, each client naming its host and token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.hosts.model import HostError

SERVER_ERRORS = range(500, 600)


@dataclass(frozen=True)
class Voice:
    """How a client names things in its messages: "GitHub", "GITHUB_TOKEN", the scope a token
    needs, and the repository ("acme/postmortems")."""

    host: str
    token: str
    scope: str
    repo: str


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait: Retry-After (both hosts send seconds), else, given `now` (seconds
    since the epoch), until GitHub's `x-ratelimit-reset` (an epoch second; sent with
    `x-ratelimit-remaining: 0` when the hourly limit is spent); None if neither says."""
    value = header(headers, "Retry-After")
    reset = header(headers, "x-ratelimit-reset")
    try:
        if value is not None:
            return max(0.0, float(value))
        if (
            reset is not None
            and now is not None
            and header(headers, "x-ratelimit-remaining") == "0"
        ):
            return max(0.0, float(reset) - now)
    except ValueError:
        pass
    return None


def is_rate_limit(status: int, message: str, headers: Mapping[str, str] | None) -> bool:
    """429 (GitLab; GitHub too), or GitHub's 403 with Retry-After, `x-ratelimit-remaining: 0`
    or "rate limit" in its message (docs.github.com/rest/using-the-rest-api/rate-limits-for-
    the-rest-api, "Exceeding the rate limit")."""
    if status == 429:
        return True
    return status == 403 and (
        retry_after(headers) is not None
        or header(headers, "x-ratelimit-remaining") == "0"
        or "rate limit" in message.lower()
    )


def refusal(
    voice: Voice,
    status: int,
    message: str,
    what: str,
    headers: Mapping[str, str] | None = None,
    hints: Mapping[str, str] | None = None,
    now: float | None = None,
) -> HostError:
    """The HostError for an HTTP answer `status` with the host's `message`, met while `what`
    ("opening a pull request from `a` into `main`", "reading pull request #3"). `hints`: what
    to do when the message holds a given text ("head invalid": "push the branch first");
    `now`: the epoch second, to tell how long until a spent rate limit resets."""
    said = message if message.startswith(str(status)) else f"{status} {message}".strip()
    if status == 401:
        return HostError(
            "bad_token",
            f"{voice.token} was refused by {voice.host} ({said}): make a new token with "
            f"{voice.scope} and set {voice.token} to it.",
        )
    if is_rate_limit(status, message, headers):
        wait = retry_after(headers, now)
        later = f"in {wait:.0f} seconds" if wait is not None else "later"
        return HostError(
            "rate_limited",
            f"{voice.host} asked the bot to slow down while {what} ({said}); it can try again "
            f"{later}.",
            wait,
        )
    if "protected" in message.lower() or status == 405:
        return HostError(
            "protected",
            f"{voice.host} refused {what} because of branch protection on {voice.repo} "
            f"({said}): change the branch's protection rules, or ask someone who may.",
        )
    if status == 403:
        return HostError(
            "no_permission",
            f"The account of {voice.token} may not do this on {voice.repo} ({said}) while "
            f"{what}: give it write access to the repository, or use a token with "
            f"{voice.scope}.",
        )
    if status == 404:
        return HostError(
            "not_found",
            f"{voice.host} found nothing while {what} ({said}): check that POSTMORTEM_REPO "
            f"names {voice.repo} rightly and that the account of {voice.token} can see it "
            "(a private repository answers 404 to those who cannot).",
        )
    if status in SERVER_ERRORS:
        return unreachable(voice, what, said)
    todo = next((hint for text, hint in (hints or {}).items() if text in message), None)
    return HostError(
        "invalid", f"{voice.host} refused {what} ({said})" + (f": {todo}." if todo else ".")
    )


def unreachable(voice: Voice, what: str, why: str) -> HostError:
    return HostError(
        "unreachable",
        f"{voice.host} could not be reached while {what} ({why}): check the host's status "
        "and the network; the bot can try again later.",
    )


def branch_hints(head: str, base: str, host: str, words: tuple[str, str, str]) -> dict[str, str]:
    """What to do when `host` refuses a pull request's branches, keyed by the host's words for
    an unknown head, an unknown base, and a head with nothing new for the base."""
    gone, no_base, nothing = words
    return {
        gone: f"`{head}` is not a branch on {host}: push it to POSTMORTEM_REPO first",
        no_base: f"`{base}` is not a branch there: check POSTMORTEM_BRANCH",
        nothing: f"`{head}` has nothing that `{base}` lacks: commit the post-mortem to it first",
    }
