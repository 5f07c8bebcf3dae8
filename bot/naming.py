"""Incident channel names: prefix, number and title, within Slack's naming rules."""

from __future__ import annotations

import re
import unicodedata

MAX_CHANNEL_NAME = 80


def slugify(title: str) -> str:
    """Lowercase ASCII words joined by `-`; accents are dropped, other scripts fall away."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def channel_name(prefix: str, number: int, title: str, attempt: int = 0) -> str:
    """`inc-001-checkout-api-returning-500s`; attempt 1, 2, ... add `-2`, `-3` after name_taken.

    Slack allows lowercase letters, digits, `-` and `_`, at most 80 characters. A title with no
    Latin letters (e.g. Japanese) still yields a valid name: `inc-004-incident`.
    """
    head = f"{prefix}{number:03d}"
    tail = f"-{attempt + 1}" if attempt else ""
    slug = slugify(title) or "incident"
    room = MAX_CHANNEL_NAME - len(head) - len(tail) - 1
    slug = slug[:room].rstrip("-")
    return f"{head}-{slug}{tail}" if slug else f"{head}{tail}"
