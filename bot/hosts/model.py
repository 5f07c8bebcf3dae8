"""What a code host answers (PullRequest, Comment), the Host protocol both clients follow, and
HostError, the one exception they raise, with words a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.errors import BotError

State = Literal["open", "merged", "closed"]
ErrorKind = Literal[
    "bad_token", "no_permission", "not_found", "protected", "rate_limited", "unreachable", "invalid"
]


@dataclass(frozen=True)
class PullRequest:
    """A pull request (GitHub) or merge request (GitLab). `number` is what people see (#12,
    !12); `url` its web page; `merged_by` a login and `merged_at` tz-aware UTC once merged;
    `refused_reviewers` the logins the host would not request a review from (not a
    collaborator/member, no such user, the author); `existed` True when it was already open
    and open_pull_request returned it instead of opening another; `review_error` the words
    of a HostError that stopped reviews being requested at all (then all are refused)."""

    number: int
    url: str
    state: State
    head: str
    base: str
    merged_by: str | None = None
    merged_at: datetime | None = None
    refused_reviewers: tuple[str, ...] = ()
    existed: bool = False
    review_error: str | None = None


@dataclass(frozen=True)
class Comment:
    """A comment on a pull request: in its conversation, or on a line of its diff (then
    `path` and `line`, the line in the new file, or None where the host gives none).
    `created_at` is tz-aware UTC; `url` links to the comment itself."""

    id: int
    author: str
    body: str
    url: str
    created_at: datetime
    path: str | None = None
    line: int | None = None


class HostError(BotError):
    """A host refused or could not be reached. `kind` is what to do about it; `str(error)` the
    words for a person ("GITHUB_TOKEN was refused (401 Bad credentials): make a new token
    ..."); `retry_after` the seconds the host asked to wait (rate_limited), if it said."""

    def __init__(self, kind: ErrorKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retry_after = retry_after


class Host(Protocol):
    """A code host's pull requests for one repository. Every method raises HostError."""

    def open_pull_request(
        self, head: str, base: str, title: str, body: str, reviewers: list[str]
    ) -> PullRequest: ...

    def pull_request(self, number: int) -> PullRequest: ...

    def comments(self, number: int, since_id: int | None = None) -> list[Comment]: ...

    def repository(self) -> str:
        """The repository's web page, as the host shows it to this token (`check`)."""
        ...


def after(comments: list[Comment], since_id: int | None) -> list[Comment]:
    """`comments` oldest first (time, then id), only those after comment `since_id`."""
    ordered = sorted(comments, key=lambda c: (c.created_at, c.id))
    if since_id is None:
        return ordered
    for index, comment in enumerate(ordered):
        if comment.id == since_id:
            return ordered[index + 1 :]
    return [c for c in ordered if c.id > since_id]
