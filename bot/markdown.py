"""User text in the Markdown the bot writes (the post-mortem, the incident log): it reads as it
was typed, and it can never change the document's structure."""

from __future__ import annotations

import re

# Lines that would become a heading or a rule (`>` is already &gt; by then, so no quotes).
_STRUCTURE_RE = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|={3,}\s*$|-{3,}\s*$|\*{3,}\s*$|_{3,}\s*$)")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str) -> str:
    """One line of text inside a label or list item."""
    return _html(" ".join(str(text).split()))


def block(text: str) -> str:
    """Paragraphs: lists and emphasis stay, headings, rules and quotes are escaped."""
    lines = _html(str(text).strip()).splitlines()
    return "\n".join(
        _STRUCTURE_RE.sub(lambda m: m.group(1) + "\\" + m.group(2), ln) for ln in lines
    )


def cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, newlines as <br>."""
    return "<br>".join(_html(ln).replace("|", "\\|") for ln in str(text).strip().splitlines())


def comment(text: str) -> str:
    """Text inside an HTML comment: it must not close the comment."""
    return inline(text).replace("--", "- -")


def lines(text: str) -> list[str]:
    return [ln.strip().lstrip("-*•").strip() for ln in str(text).splitlines() if ln.strip()]
