"""User text in the Markdown the bot writes (the post-mortem, the incident log): it reads as it
was typed, and it can never change the document's structure.

Only a character that would mean something where it lands gets a backslash (CommonMark 0.31.2
§2.4, https://spec.commonmark.org/0.31.2/); code spans (§6.1) and fenced code (§4.5) are kept
byte for byte. GFM rules (https://github.github.com/gfm/) are as cmark-gfm, GitHub's renderer,
applies them. Text is data: nothing here is ever template source.
"""

from __future__ import annotations

import re
import unicodedata
from html.entities import html5

_NEWLINE = re.compile(r"\r\n?|\n")  # the only line endings (§2.1)
_PUNCT = r"!-/:-@\[-`{-~"  # ASCII punctuation (§2.1)
_SPECIAL = re.compile(
    rf"\\(?=[{_PUNCT}]|$)"  # an escape (§2.4) or a hard line break (§6.7): shown as typed
    r"|<(?=[A-Za-z/!?]|[\w.!#$%&'*+/=?^`{|}~-]+@)"  # raw HTML (§6.6) or an autolink (§6.5)
    r"|&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z0-9]+;))"  # a reference (§2.5)
    r"|\](?=\()"  # an inline link or image (§6.3, §6.4)
)
_LEAF = re.compile(
    r"[ \t\v\f]*(?:#{1,6}(?=[ \t]|$)"  # ATX heading (§4.2)
    r"|([*_])(?:[ \t]*\1){2,}[ \t]*$"  # thematic break (§4.1)
    r"|[-=|:][-=|: \t\v\f]*$"  # setext underline (§4.3), ---, GFM table delimiter row (§4.10)
    r"|~{3,})"  # tilde fence (§4.5); a backtick fence is an unmatched run of backticks
)
_DEFINITION = re.compile(r"[ \t]*\[(?![ xX]\](?:[ \t]|$))")  # §4.7, not a task box (GFM §5.3)
_CONTAINER = re.compile(  # block quote (§5.1), list item (§5.2), task box (GFM §5.3)
    r"[ \t]*(?:>[ \t]?|(?:[-+*]|[0-9]{1,9}[.)]|\[[ xX]\])[ \t]+(?=\S))"
)
_URL = re.compile(r"(?i)www\.|://")  # GFM extended autolinks (§6.9)
_URL_END = re.compile(r"[ \t\r\n<]")  # cmark-gfm: only these end one


def _code_spans(line: str) -> tuple[list[range], list[int]]:
    """Code spans (§6.1): a run of n backticks to the next run of exactly n; and the
    backticks of runs that close nothing."""
    runs = [m.span() for m in re.finditer(r"`+", line)]
    spans: list[range] = []
    lone: list[int] = []
    i = 0
    while i < len(runs):
        start, end = runs[i]
        j = next((k for k in range(i + 1, len(runs)) if runs[k][1] - runs[k][0] == end - start), 0)
        if j:
            spans.append(range(start, runs[j][1]))
            i = j + 1
        else:
            lone += range(start, end)
            i += 1
    return spans, lone


def _flags(char: str, before: str, after: str, symbols: bool) -> tuple[bool, bool]:
    """(can open, can close) of a delimiter run (§6.2). cmark-gfm counts only Unicode P as
    punctuation beyond ASCII, CommonMark 0.31 counts S too: `symbols` picks one."""

    def space(c: str) -> bool:
        return c in "\t\n\f\r" or unicodedata.category(c) == "Zs"

    def punct(c: str) -> bool:
        kind = unicodedata.category(c)[0]
        return kind == "P" or (kind == "S" and (symbols or c.isascii()))

    left = not space(after) and (not punct(after) or space(before) or punct(before))
    right = not space(before) and (not punct(before) or space(after) or punct(after))
    if char == "_":
        return left and (not right or punct(before)), right and (not left or punct(after))
    return left, right


def _unpaired(masked: str, before: str, after: str) -> list[int]:
    """Every `*`, `_`, `~` that can open or close (§6.2, GFM strikethrough §6.5) unless they
    all pair up as properly nested, same-length opener/closer runs: then nothing can pair with
    markup outside this line, and the emphasis people typed stays."""
    runs: list[re.Match[str]] = []
    stack: list[str] = []
    ok = True  # no run that opens and closes, each closer closes the innermost opener
    for m in re.finditer(r"\*+|_+|~+", masked):
        if m.group()[0] == "~" and len(m.group()) > 2:
            continue  # three or more tildes are text in cmark-gfm
        b = masked[m.start() - 1] if m.start() else before
        a = masked[m.end()] if m.end() < len(masked) else after
        flags = {_flags(m.group()[0], b, a, symbols) for symbols in (True, False)}
        if any(any(f) for f in flags):
            runs.append(m)
            opens, closes = flags.pop() if len(flags) == 1 else (True, True)
            if (opens and closes) or (closes and (not stack or stack.pop() != m.group())):
                ok = False
            elif opens:
                stack.append(m.group())
    return [] if ok and not stack else [i for m in runs for i in range(*m.span())]


def _escape(line: str, marks: set[int], before: str = " ", after: str = " ") -> str:
    """`line` with a backslash before each position in `marks` and before whatever would be
    inline markup; code spans as they are. `before`/`after`: the characters around the line."""
    spans, lone = _code_spans(line)
    code = {i for span in spans for i in span}
    marks = marks | set(lone)
    for m in _SPECIAL.finditer(line):  # an HTML5 entity name only (§2.5)
        if m.start() not in code and (not m.group(1) or m.group(1) in html5):
            marks.add(m.start())
    masked = "".join("!" if i in code or i in marks else c for i, c in enumerate(line))
    marks.update(_unpaired(masked, before, after))
    for m in _URL.finditer(line):  # an autolink runs to a space or `<`, escapes and code too
        stop = _URL_END.search(line, m.end())
        reach = range(m.start(), min(stop.start() + 1 if stop else len(line), len(line)))
        if m.start() not in code and any(i in marks or line[i] == "`" for i in reach):
            marks.add(m.start() + 3 if m.group()[0] in "wW" else m.start())  # www\. or \://
    return "".join("\\" + c if i in marks else c for i, c in enumerate(line))


def inline(text: str) -> str:
    """One line (whitespace collapsed outside code spans) for a label, list item, heading or
    paragraph line: nothing in it can start a block (§4, §5) at the start of a line or list
    item, close a heading (§4.2), become HTML, a link, an image or a task box (GFM §5.3), or
    open markup that a later value could close."""
    flat = _NEWLINE.sub(" ", str(text))
    parts, last = [], 0
    for span in _code_spans(flat)[0]:
        parts += [re.sub(r"\s+", " ", flat[last : span.start]), flat[span.start : span.stop]]
        last = span.stop
    line = "".join([*parts, re.sub(r"\s+", " ", flat[last:])]).strip()
    marks = set()
    ordinal = re.match(r"[0-9]{1,9}([.)])(?= |$)", line)  # a list item (§5.2)
    if ordinal:
        marks.add(ordinal.start(1))
    elif _LEAF.match(line) or re.match(r"[>\[]|[-+*](?= |$)", line):  # §5.1, §5.2, GFM §5.3
        marks.add(0)
    closing = re.search(r" (#+)$", line)  # a heading's closing sequence (§4.2)
    if closing:
        marks.add(closing.start(1))
    code = {i for span in _code_spans(line)[0] for i in span}
    # cmark-gfm checks a task box (GFM §5.3) if `[x]` is anywhere on the item's line
    marks.update(m.start(1) for m in re.finditer(r"\[[xX](\])", line) if m.start() not in code)
    return _escape(line, marks)


def block(text: str) -> str:
    """Paragraphs, to stand at the start of a line and be followed by a blank line. Lists,
    block quotes (§5) and emphasis people typed stay, and so does fenced code (§4.5) opened at
    the start of a line, closed at the end of the text if it was not. Headings, setext
    underlines, thematic breaks, tables, HTML and link reference definitions (§4.7) are
    escaped at the start of every line and inside quotes and list items, so the outline is
    the template's. Indented lines are treated as text (they may be list content), and a code
    span is one that opens and closes on its line."""
    lines = _NEWLINE.split(str(text))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    out: list[str] = []
    fence = ""
    for line in lines:
        if fence:
            out.append(line)
            if re.fullmatch(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", line):
                fence = ""
            continue
        opener = re.match(r"`{3,}(?!.*`)|~{3,}", line)
        if opener:
            fence = opener.group()
            out.append(line)
            continue
        line = line.rstrip(" \t")
        marks, pos = set(), 0
        while True:
            leaf = _LEAF.match(line, pos) or _DEFINITION.match(line, pos)
            if leaf:
                marks.add(pos + len(leaf.group()) - len(leaf.group().lstrip(" \t\v\f")))
                break
            container = _CONTAINER.match(line, pos)
            if not container:
                break
            pos = container.end()
        out.append(_escape(line, marks))
    return "\n".join([*out, fence] if fence else out)


def cell(text: str) -> str:
    """A GFM table cell (§4.10, inline content only): escaped as inline text is, each line on
    its own; `|` as `\\|` everywhere, code spans too (GFM unescapes it before it reads the
    cell); lines joined with `<br>`, the one HTML tag the bot writes itself."""
    lines = _NEWLINE.split(str(text).strip())
    shown = [
        _escape(ln, set(), " " if i == 0 else ">", " " if i == len(lines) - 1 else "<")
        for i, ln in enumerate(lines)
    ]
    return "<br>".join(shown).replace("|", "\\|")


def comment(text: str) -> str:
    """Text between `<!-- ` and ` -->` (§4.6 type 2): one line without `--`, so neither
    Markdown nor HTML (`-->`, `--!>`) ends the comment early."""
    return re.sub(r"-(?=-)", "- ", " ".join(str(text).split()))


def lines(text: str) -> list[str]:
    """The non-blank lines of a field, without the bullets people typed: each one `inline`."""
    return [ln.strip().lstrip("-*•").strip() for ln in str(text).splitlines() if ln.strip()]
