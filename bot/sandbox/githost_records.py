"""What the local code host holds (pull requests, comments, injected faults) and how it writes
them out: times in each host's format, lists in pages with a Link header."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (or plain text), headers


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str
    author: str
    created_at: datetime
    head_sha: str
    state: str = "open"  # open | closed | merged (each host words these its own way)
    updated_at: datetime | None = None
    merged_by: str | None = None
    merged_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    reviewers: list[str] = field(default_factory=list)


@dataclass
class Note:
    """A comment: in the conversation, or on a diff line (`path`, `line`). `system`: GitLab's
    own notes ("requested review from @alice"), which GitHub has not."""

    id: int
    number: int
    author: str
    body: str
    created_at: datetime
    path: str | None = None
    line: int | None = None
    system: bool = False


@dataclass
class Fault:
    """An injected answer: the next `times` requests with `method` whose path ends with
    `path_end` get it instead."""

    method: str
    path_end: str
    answer: Answer
    times: int = 1


def stamp(when: datetime | None, *, millis: bool = False) -> str | None:
    """A time as the host writes it: GitHub "2026-11-26T15:30:00Z", GitLab with ".000Z"."""
    if when is None:
        return None
    when = when.astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{when.microsecond // 1000:03d}Z" if millis else "Z")


def page(items: list[Any], query: dict[str, str], url: str) -> tuple[list[Any], dict[str, str]]:
    """One page of `items` by `page`/`per_page` (default 30, at most 100, as both hosts), with
    the Link header (rel="next"/"last") both hosts send and their clients follow."""
    try:
        per_page = min(100, max(1, int(query.get("per_page", 30))))
        number = max(1, int(query.get("page", 1)))
    except ValueError:
        per_page, number = 30, 1
    last = max(1, -(-len(items) // per_page))
    links = []
    for rel, n in (("next", number + 1), ("last", last)):
        if rel == "last" or n <= last:
            links.append(
                f'<{url}?{urlencode({**query, "page": n, "per_page": per_page})}>; rel="{rel}"'
            )
    headers = {"Link": ", ".join(links), "X-Total": str(len(items)), "X-Total-Pages": str(last)}
    if number < last:
        headers["X-Next-Page"] = str(number + 1)
    return items[(number - 1) * per_page : number * per_page], headers
