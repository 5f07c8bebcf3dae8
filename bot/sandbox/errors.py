"""What the emulated Slack answers instead of doing something: a Web API refusal, and a
person's action Slack would not allow."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Web API refusal: `error` as Slack names it, the HTTP status (429 for `ratelimited`),
    headers (Retry-After) and any other fields of the answer (response_metadata, needed...)."""

    def __init__(
        self, error: str, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra


class Refused(Exception):
    """A person tried what Slack's client would not let them do (edit someone else's message,
    react twice with one emoji...); `error` is the Web API's name for it (cant_update_message,
    already_reacted, ...)."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error
