"""User text in the Markdown the bot writes (the post-mortem, the incident log): it reads as it
was typed, and it can never change the document's structure.

Only a character that would mean something where it lands gets a backslash (CommonMark 0.31.2
§2.4, https://spec.commonmark.org/0.31.2/); code spans (§6.1) and code blocks (§4.4, §4.5), in
list items and block quotes too, are kept byte for byte. GFM rules
(https://github.github.com/gfm/) and block structure are as cmark-gfm, GitHub's renderer,
applies them. Text is data: nothing here is ever template source.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
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
_MARKER = re.compile(r"([-+*]|([0-9]{1,9})[.)])(?= |$)")  # a list item (§5.2), cmark-gfm
_BREAK = re.compile(r"([-*_])(?: *\1){2,} *")  # a thematic break (§4.1) is no list item
_QUOTE = 0  # the width of a block quote's _Box
_TEXT, _INDENTED = "text", "indented"  # see _Blocks
_BULLET = re.compile(r"^(?:[-*+•]|[0-9]{1,2}[.)])(?:\s+|$)")  # what people type before an item
_URL = re.compile(r"(?i)www\.|://")  # GFM extended autolinks (§6.9)
_URL_END = re.compile(r"[ \t\r\n<]")  # cmark-gfm: only these end one
_BACKTICKS = re.compile(r"`+")  # a code span's delimiters (§6.1)
_DELIMITERS = re.compile(r"\*+|_+|~+")  # emphasis (§6.2), GFM strikethrough (§6.5)
# every character that _escape may give a backslash, or that makes it give one elsewhere: text
# without any of them is inline text as it is (an autolink alone changes nothing)
_MAY_ESCAPE = re.compile(r"[`\\<&\]*_~]")


def _code_spans(line: str) -> tuple[list[range], list[int]]:
    """Code spans (§6.1): a run of n backticks to the next run of exactly n; and the
    backticks of runs that close nothing."""
    runs = [m.span() for m in _BACKTICKS.finditer(line)]
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


@lru_cache(maxsize=4096)  # the same few neighbours, over and over
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
    for m in _DELIMITERS.finditer(masked):
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
    inline markup; code spans as they are. `before`/`after`: the characters around the line
    (each position in `marks` is one of the line's)."""
    if not marks and not _MAY_ESCAPE.search(line):
        return line
    spans, lone = _code_spans(line)
    code = {i for span in spans for i in span}
    marks = marks | set(lone)
    for m in _SPECIAL.finditer(line):  # an HTML5 entity name only (§2.5)
        if m.start() not in code and (not m.group(1) or m.group(1) in html5):
            marks.add(m.start())
    masked = list(line)
    for i in code | marks:
        masked[i] = "!"
    marks.update(_unpaired("".join(masked), before, after))
    for m in _URL.finditer(line):  # an autolink runs to a space or `<`, escapes and code too
        stop = _URL_END.search(line, m.end())
        reach = range(m.start(), min(stop.start() + 1 if stop else len(line), len(line)))
        if m.start() not in code and any(i in marks or line[i] == "`" for i in reach):
            marks.add(m.start() + 3 if m.group()[0] in "wW" else m.start())  # www\. or \://
    escaped = list(line)
    for i in marks:
        escaped[i] = "\\" + line[i]
    return "".join(escaped)


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


@dataclass(frozen=True)
class _Box:
    """An open container block (§5): a block quote, or a list item whose content is indented
    `width` columns; `empty` while nothing is in the item (a blank line then ends it)."""

    width: int = _QUOTE
    empty: bool = False

    def strip(self, rest: str) -> str | None:
        """What is left of a line once it continues this container, or None if it does not."""
        indent = _indent(rest)
        if self.width == _QUOTE:
            if indent > 3 or rest[indent : indent + 1] != ">":
                return None
            rest = rest[indent + 1 :]
            return rest[1:] if rest[:1] == " " else rest
        if indent >= self.width:
            return rest[self.width :]
        return "" if not rest.strip(" ") and not self.empty else None


@dataclass(frozen=True)
class _Blocks:
    """The blocks cmark-gfm has open after a line (the appendix of the spec: containers
    outermost first, then the leaf inside them): `leaf` is "", _TEXT (a paragraph), _INDENTED
    (code, §4.4) or the fence of fenced code (§4.5), such as "````"."""

    boxes: tuple[_Box, ...] = ()
    leaf: str = ""

    def read(self, line: str) -> tuple[_Blocks, bool]:
        """The blocks open after `line`, and whether `line` is code."""
        rest = line.expandtabs(4)  # tab stops of 4 (§2.2)
        kept = 0
        for box in self.boxes:
            stripped = box.strip(rest)
            if stripped is None:
                break
            rest, kept = stripped, kept + 1
        whole = kept == len(self.boxes)
        if whole and self.leaf not in ("", _TEXT):
            code = self._code(rest)
            if code:
                return code, True
        return self._open(rest, kept, whole and self.leaf == _TEXT)

    def _code(self, rest: str) -> _Blocks | None:
        """The blocks after a line that continues (or closes) the code open, or None."""
        if self.leaf == _INDENTED:
            return self if _indent(rest) >= 4 or not rest.strip(" ") else None
        fence = rf" {{0,3}}{re.escape(self.leaf[0])}{{{len(self.leaf)},}} *"
        return _Blocks(self.boxes) if re.fullmatch(fence, rest) else self

    def _open(self, rest: str, kept: int, in_text: bool) -> tuple[_Blocks, bool]:
        """The blocks after a line that starts new ones, where `rest` is inside the `kept`
        containers; `in_text` if it may go on with the paragraph there."""
        new: list[_Box] = []
        leaf = _TEXT
        while rest.strip(" "):
            indent, body = _indent(rest), rest.lstrip(" ")
            if indent >= 4:
                if new or self.leaf != _TEXT:  # indented code cannot interrupt a paragraph
                    leaf = _INDENTED
                break
            if body[0] == ">":
                new.append(_Box())
                rest = body[2:] if body[1:2] == " " else body[1:]
                continue
            leaf = _fence(body) or _TEXT
            if leaf != _TEXT or _BREAK.fullmatch(body):
                break
            item = _item(body, indent, in_text and not new)
            if not item:
                break
            new.append(item[0])
            rest = item[1]
        else:
            leaf = ""
        if not new and leaf == _TEXT and self.leaf == _TEXT and kept < len(self.boxes):
            return self, False  # a lazy continuation line (§5.1)
        boxes = self.boxes[:kept] if leaf == "" and not new else _filled(self.boxes[:kept])
        return _Blocks((*boxes, *new), leaf), leaf not in ("", _TEXT)

    def closing(self) -> str:
        """A line that closes the fenced code open, or ""."""
        if self.leaf in ("", _TEXT, _INDENTED):
            return ""
        prefix = "".join("> " if box.width == _QUOTE else " " * box.width for box in self.boxes)
        return prefix + self.leaf


def _indent(line: str) -> int:
    """The columns of indentation of `line` (§2.2)."""
    line = line.expandtabs(4)
    return len(line) - len(line.lstrip(" "))


def _fence(body: str) -> str:
    """The fence that a line opens (§4.5), or ""."""
    opener = re.match(r"`{3,}(?!.*`)|~{3,}", body)
    return opener.group() if opener else ""


def _item(body: str, indent: int, interrupts: bool) -> tuple[_Box, str] | None:
    """The list item that `body` opens (§5.2) and the rest of the line inside it, as cmark-gfm
    reads it, if it may `interrupt` a paragraph there."""
    marker = _MARKER.match(body)
    if not marker:
        return None
    after = body[marker.end() :]
    blank = not after.strip(" ")
    number = marker.group(2)
    if interrupts and (blank or (number and int(number) != 1)):
        return None
    spaces = _indent(after)
    if blank or not 1 <= spaces <= 4:
        spaces = min(spaces, 1)
        return _Box(indent + len(marker.group(1)) + 1, blank), after[spaces:]
    return _Box(indent + len(marker.group(1)) + spaces), after[spaces:]


def _filled(boxes: tuple[_Box, ...]) -> tuple[_Box, ...]:
    """`boxes` once a line has put something in them."""
    return tuple(_Box(box.width) for box in boxes)


def _text_line(line: str) -> str:
    """A line of text: escaped, and whatever would start a leaf block (§4) at its start, or
    after the block quote and list markers (§5) it starts with, too."""
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
    return _escape(line, marks)


def _written(blocks: _Blocks, line: str) -> tuple[str, _Blocks]:
    """`line` as block() writes it where `blocks` are open (code as typed, anything else as
    text), and the blocks open after it."""
    after, code = blocks.read(line)
    if code:
        return line, after
    line = _text_line(line)
    return line, blocks.read(line)[0]


def _fenced(lines: list[str]) -> tuple[list[str], list[str]]:
    """Indented code (§4.4) that starts the value, as fenced code (§4.5): indented, it would be
    text under a line of text and list content under a list. Its lines, less their first 4
    columns, between fences longer than any run of backticks in them; and the lines after it."""
    end = 1
    while end < len(lines) and (not lines[end].strip(" \t") or _indent(lines[end]) >= 4):
        end += 1
    while not lines[end - 1].strip(" \t"):
        end -= 1
    code = [_dedent(line) for line in lines[:end]]
    fence = "`" * (max([2, *(len(run) for line in code for run in re.findall("`+", line))]) + 1)
    return [fence, *code, fence], lines[end:]


def _dedent(line: str) -> str:
    """`line` without its first 4 columns (a tab goes to the next multiple of 4, §2.2)."""
    column = i = 0
    while column < 4 and line[i : i + 1] in (" ", "\t"):
        column += 1 if line[i] == " " else 4 - column % 4
        i += 1
    return line[i:]


def _resume(line: str, previous: str | None) -> _Blocks | None:
    """The blocks open before `line`, if they are known there: a line at column 0 ends every
    list and block quote above it, the template's too, unless it goes on with a paragraph. So
    after a blank line or at a fence; and at the start of the value, if it reads the same
    whether a paragraph of the template's goes on there or not."""
    if line[:1] in ("", " ", "\t"):
        return None
    if previous and previous.strip(" \t") and not _fence(line):
        return None
    if previous is None and len({_written(_Blocks(leaf=leaf), line) for leaf in ("", _TEXT)}) > 1:
        return None
    return _Blocks()


def block(text: str) -> str:
    """Paragraphs, to stand at the start of a line outside any list or block quote (after a
    heading, a blank line or a line of text) and be followed by a blank line. Lists, block
    quotes (§5) and emphasis people typed stay, and so does code (§4.4, §4.5) in and out of
    them, byte for byte; a fence left open is closed at the end of the text, and indented code
    that starts it is fenced. Headings, setext underlines, thematic breaks, tables, HTML and
    link reference definitions (§4.7) are escaped at the start of every line and inside quotes
    and list items, so the outline is the template's. Where the value's blocks are not known
    (after a first line indented by 1-3 spaces, which may go on with a list of the template's)
    lines are text; a code span opens and closes on its line."""
    lines = _NEWLINE.split(str(text))
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    out: list[str] = []
    blocks: _Blocks | None = None
    if lines and _indent(lines[0]) >= 4:
        out, lines = _fenced(lines)
        blocks = _Blocks()
    for i, line in enumerate(lines):
        blocks = blocks or _resume(line, lines[i - 1] if i else None)
        if blocks:
            line, blocks = _written(blocks, line)
        else:
            line = _text_line(line)
        out.append(line)
    closing = blocks.closing() if blocks else ""
    return "\n".join([*out, closing] if closing else out)


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
    """The non-blank lines of a field, without the list marker people typed before each one
    (`- `, `* `, `• `, `+ `, `1. `, `1) `): each one for `inline`. Text is kept: `-1`, `--force`,
    `*args`, `**bold**`."""
    items = (_BULLET.sub("", ln.strip(), count=1) for ln in str(text).splitlines())
    return [item for item in items if item]
