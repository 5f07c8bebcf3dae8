"""How long a write may wait for a busy database: while someone waits for the answer, only until
the answer is due (Slack gives 3 seconds for all that happens before an ack, a slow
`users.info` included); once it is out, as long as the store allows."""

from __future__ import annotations

import contextvars
import time

_due: contextvars.ContextVar[float | None] = contextvars.ContextVar("answer_due", default=None)


def answering(seconds: float) -> None:
    """Someone waits for this context's answer: it is due in `seconds` from now."""
    _due.set(time.monotonic() + seconds)


def answered() -> None:
    """The answer is out: nobody waits for this context any more."""
    _due.set(None)


def left() -> float | None:
    """Seconds left until the answer is due (0.0 once it is late); None when nobody waits."""
    due = _due.get()
    return None if due is None else max(0.0, due - time.monotonic())
