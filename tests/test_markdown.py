"""The Markdown filters, checked the way readers see the draft: rendered by cmark-gfm (GitHub's
renderer) and read back as HTML. Whatever people type, the outline is the template's, every
table row keeps its cells, no HTML but the bot's own appears, and code comes out as typed."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import cmarkgfm
import jinja2
import pytest
from cmarkgfm.cmark import Options
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.markdown import block, cell, comment, inline, lines

# Unsafe: raw HTML is passed through, so any that gets in shows up as an element here (GitHub
# would filter some of it; the point is that none reaches the renderer). No tagfilter either.
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
_EXTENSIONS = ["table", "strikethrough", "autolink", "tasklist"]
OURS = {"p", "strong", "em", "del", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br"}
OURS |= {"table", "thead", "tbody", "tr", "th", "td", "input", "a"}  # task boxes, autolinks
OURS |= {f"h{n}" for n in range(1, 7)}


class Page(HTMLParser):
    """What a reader sees of rendered HTML: headings, tables, code, elements, comments."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.outline: list[tuple[str, str]] = []
        self.rows: list[int] = []  # the number of cells of every table row
        self.code: list[str] = []
        self.fenced: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.comments: list[str] = []
        self.text: dict[str, list[str]] = {"p": [], "td": [], "li": []}
        self._open: list[str] = []
        self._buffers: list[tuple[str, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1
        if tag in ("code", "td", "p", "li") or re.fullmatch(r"h[1-6]", tag):
            self._buffers.append((tag, []))
        if tag not in ("br", "input", "hr"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
        if self._buffers and self._buffers[-1][0] == tag:
            _, parts = self._buffers.pop()
            text = "".join(parts)
            if tag == "code":
                (self.fenced if "pre" in self._open else self.code).append(text)
            elif tag in self.text:
                self.text[tag].append(text)
            else:
                self.outline.append((tag, text))
            for _, outer in self._buffers:
                outer.append(text)

    def handle_data(self, data: str) -> None:
        if self._buffers:
            self._buffers[-1][1].append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def html_of(markdown: str) -> str:
    """Markdown as GitHub renders it, except that raw HTML is kept (so any shows up)."""
    return cmarkgfm.markdown_to_html_with_extensions(markdown, _OPTIONS, _EXTENSIONS)


def render(markdown: str) -> Page:
    return Page(html_of(markdown))


# A draft in small: every filter where the templates use it. User text is only ever data.
SKELETON = jinja2.Environment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
)
SKELETON.filters.update(inline=inline, block=block, cell=cell, comment=comment, lines=lines)
DRAFT = SKELETON.from_string(
    """<!-- Written with postmortem-bot. Not ready: {{ c | comment }} -->
# Post-Mortem: {{ a | inline }}

**Participants**: {{ b | inline }}
**Incident Commander**: {{ a | inline }}

---

## Executive Summary
{{ s | block }}

## Incident Details

### Technical Root Cause
**Code Issue**:
{{ s | block }}

**Why It Existed**:
{{ b | block }}

#### Users
- **Total Affected**: {{ a | inline }}
- **User Segments**: {{ b | inline }}

### Timeline (Detailed)
| Time | Event | Who | Notes |
|------|-------|-----|-------|
| 22:40 | {{ a | cell }} | {{ b | cell }} | {{ s | cell }} |
| 23:05 | {{ s | cell }} | {{ c | cell }} | x |

## Action Items
- [ ] **AI-001**: {{ a | inline }} (owner: {{ b | inline }}; due: none)
  - **Why**: {{ c | inline }}

### Lessons
{% for line in s | lines %}
{{ loop.index }}. {{ line | inline }}
{% endfor %}

### Metrics and Logs
- **Time to detect**: 25m

{{ c | block }}

---
*Post-mortem completed*
"""
)
OUTLINE = [
    ("h2", "Executive Summary"),
    ("h2", "Incident Details"),
    ("h3", "Technical Root Cause"),
    ("h4", "Users"),
    ("h3", "Timeline (Detailed)"),
    ("h2", "Action Items"),
    ("h3", "Lessons"),
    ("h3", "Metrics and Logs"),
]


def draft(a: str = "x", b: str = "x", s: str = "x", c: str = "x") -> str:
    return DRAFT.render(a=a, b=b, s=s, c=c)


def assert_structure(markdown: str) -> Page:
    page = render(markdown)
    assert page.outline[0][0] == "h1" and page.outline[0][1].startswith("Post-Mortem:")
    assert page.outline[1:] == OUTLINE, markdown
    assert page.rows == [4, 4, 4], markdown  # the header and two rows, four cells each
    assert page.tags <= OURS, (page.tags - OURS, markdown)
    assert all(re.match(r"(https?|ftp|mailto|xmpp):", href) for href in page.links), page.links
    assert len(page.comments) == 1 and "--" not in page.comments[0]
    return page


META = [
    *("```", "~~~", "`", "``", "=", "-", "---", "#", "## ", ">", "<", "&", "|", "[", "]"),
    *("(", ")", "*", "**", "_", "__", "~", "~~", "<!--", "-->", "--!>", "<script>", "<div>"),
    *("\n", "\n\n", "\r", "\\", " ", "    ", "\t", "1. ", "- ", "+ ", "[x] ", "[a]: /u", "](u)"),
    *("![i](x.png)", "<br>", "<b>", "&amp;", "&copy;", "&#35;", "www.x.io/", "http://", ":"),
    *("a@b.io", "<a@b.io>", "{{ config }}", "{% raw %}", "<http://x>", ":-:", "|-|", "x", "y"),
    *("  ", "   ", "\n    ", "> ```", "   ```", "1. ```", "-     "),
]
hostile = st.lists(st.sampled_from(META) | st.text(max_size=4), max_size=30).map("".join)
typed = hostile | st.text(max_size=120)


@settings(max_examples=400, deadline=None)
@given(typed, typed, typed, typed)
def test_nothing_typed_changes_the_outline_the_tables_or_adds_html(a, b, s, c):
    assert_structure(draft(a, b, s, c))


# --- the examples ------------------------------------------------------------------

RULE = "rate(http_5xx[5m]) > 0.03 && count > 100"


def test_inline_code_is_committed_and_shown_as_typed():
    assert inline(f"alert: `{RULE}`") == f"alert: `{RULE}`"
    assert block(f"The alert `{RULE}` fired.") == f"The alert `{RULE}` fired."
    page = assert_structure(draft(a=f"`{RULE}`", s=f"The alert `{RULE}` fired."))
    assert RULE in page.code and "&gt;" not in "".join(page.code)


def test_fenced_code_is_committed_and_shown_as_typed():
    text = f"Before:\n```promql\n{RULE}\n<b>x</b> &amp; # not a heading\n```\nAfter."
    assert block(text) == text
    page = assert_structure(draft(s=text))
    assert f"{RULE}\n<b>x</b> &amp; # not a heading\n" in page.fenced


def test_a_setext_underline_makes_no_heading():
    for underline in ("=", "-", "==", "--", "===", "  -  ", "- ", "\t="):
        assert_structure(draft(s=f"Injected\n{underline}", b=f"Injected\n{underline}"))
    assert block("Injected\n=") == "Injected\n\\="


def test_an_unclosed_fence_is_closed_at_the_end_of_its_value():
    summary = "It broke:\n```\nSELECT * FROM orders;\n# not a heading"
    page = assert_structure(draft(s=summary))
    assert block(summary).endswith("\n```")
    assert "SELECT * FROM orders;\n# not a heading\n" in page.fenced
    longer = block("````\ncode\n```")  # a shorter fence does not close a longer one (§4.5)
    assert longer.endswith("```\n````")
    assert_structure(draft(s="~~~ sql\nx"))


def test_the_title_reads_as_typed_in_the_raw_file_and_rendered():
    title = "Search latency p99 > 5s"
    markdown = draft(a=title)
    assert "# Post-Mortem: Search latency p99 > 5s\n" in markdown
    assert render(markdown).outline[0] == ("h1", "Post-Mortem: Search latency p99 > 5s")
    assert inline("EU & US") == "EU & US" and cell("EU & US") == "EU & US"
    assert block("EU & US\np99 > 5s") == "EU & US\np99 > 5s"


# --- what each filter does --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, written",
    [
        ("a\n  b <i>", "a b \\<i>"),
        (
            "&copy; &amp; &#35; &#x23; &nosuch; AT&T",
            "\\&copy; \\&amp; \\&#35; \\&#x23; &nosuch; AT&T",
        ),
        ("# not a heading", "\\# not a heading"),
        ("C# #", "C# \\#"),  # not a heading's closing sequence
        ("1. not a list", "1\\. not a list"),
        ("- not a list", "\\- not a list"),
        ("> not a quote", "\\> not a quote"),
        ("[x] not a task", "\\[x\\] not a task"),
        ("[ ] not a task", "\\[ ] not a task"),
        ("[a](javascript:alert(1))", "\\[a\\](javascript:alert(1))"),
        ("![i](x.png)", "![i\\](x.png)"),
        ("*bold* _it_ ~gone~ `a|b`", "*bold* _it_ ~gone~ `a|b`"),
        ("2*3*4 and *dangling", "2\\*3\\*4 and \\*dangling"),
        ("snake_case and a * b", "snake_case and a * b"),
        ("C:\\path\\ and \\*", "C:\\path\\ and \\\\\\*"),
        ("www.x.io/<b>", "www\\.x.io/\\<b>"),  # the autolink would swallow the backslash
        ("http://x.io/`a <b> `", "http\\://x.io/`a <b> `"),  # ... or the backtick
        ("`` a ` b ``", "`` a ` b ``"),
        ("```", "\\`\\`\\`"),
    ],
)
def test_inline(typed, written):
    assert inline(typed) == written


def test_inline_escapes_nothing_that_would_not_mean_something():
    plain = "Checkout 5xx > 3% for 20 min (EU & US); fix: revert #4512 - see a.b/c?d=1&e=2 ok!"
    assert inline(plain) == plain and cell(plain) == plain and block(plain) == plain


@settings(max_examples=300, deadline=None)
@given(st.text(" abcXYZ019>&%.,:!?()'\"/+=@-", max_size=60))
def test_ordinary_characters_are_written_as_typed(text):
    text = f"x {text}"
    assert inline(text) == " ".join(text.split()) and cell(text) == text.strip()
    assert block(text) == text.rstrip(" ")


def test_an_action_item_is_not_ticked_by_its_text():
    page = render(f"- [ ] **AI-001**: {inline('checked? [x] [X] not yet')}")
    assert page.text["li"] == [" AI-001: checked? [x] [X] not yet"]  # after the box
    assert "checked" not in html_of(f"- [ ] **AI-001**: {inline('[x]')}")


def test_block_keeps_what_people_format():
    text = "Steps:\n- one *really*\n- two\n  1. nested\n\n> quoted **strong**\n\n    indented"
    assert block(text) == text
    page = render(block(text))
    assert {"ul", "ol", "blockquote", "em", "strong", "pre"} <= page.tags


@pytest.mark.parametrize(
    "typed, written",
    [
        ("# h\n## h\n###### h", "\\# h\n\\## h\n\\###### h"),
        ("---\n***\n_ _ _\n* * *", "\\---\n\\*\\*\\*\n\\_ _ _\n\\* * *"),
        ("> # h\n- ## h\n  ### h\n1. > #### h", "> \\# h\n- \\## h\n  \\### h\n1. > \\#### h"),
        ("a | b\n--|--\n:-:", "a | b\n\\--|--\n\\:-:"),
        ("<div>\n<!-- x\n</div>", "\\<div>\n\\<!-- x\n\\</div>"),
        ("[x]: http://e.io\n[^1]: note", "\\[x]: http://e.io\n\\[^1]: note"),
        ("- [ ] open\n- [x] done", "- [ ] open\n- [x] done"),
        ("  ```\n# h", "  \\`\\`\\`\n\\# h"),  # may go on with a list above: text
        ("\n\ntext  \nline\\\n\n", "text\nline\\\\"),
    ],
)
def test_block(typed, written):
    assert block(typed) == written


def test_cells_keep_their_column_and_show_pipes_and_code():
    written = cell("a | b\n`x | y` <br>\n\\|")
    assert written == "a \\| b<br>`x \\| y` \\<br><br>\\\\\\|"
    page = render(f"| a | b |\n|---|---|\n| {written} | z |")
    assert page.rows == [2, 2] and page.code == ["x | y"]
    assert page.text["td"][0] == "a | bx | y <br>\\|"


def test_comments_cannot_be_closed():
    assert comment("a --> b --!> c ---\nd") == "a - -> b - -!> c - - - d"
    page = render(f"<!-- {comment('-->--!><!-- x -')} -->\n# h")
    assert len(page.comments) == 1 and page.outline == [("h1", "h")]


def test_template_code_stays_text():
    page = render(draft(a="{{ config }} {% raw %}"))
    assert page.outline[0] == ("h1", "Post-Mortem: {{ config }} {% raw %}")


def test_lines_are_list_items_without_their_bullets():
    assert lines("- one\n\n* two\n• three\n  four  ") == ["one", "two", "three", "four"]
    assert lines("+ five\n1. six\n12) seven\n-\n- ") == ["five", "six", "seven"]


# --- the review's examples ---------------------------------------------------------------------

HANDLER = "# retry until it works\nwhile not ok: ok = call(a<b, cfg['x'])\nsee http://x.io/](u)\n"


def test_indented_code_is_kept_as_typed():
    typed = "The handler did:\n\n" + "".join(f"    {ln}\n" for ln in HANDLER.splitlines())
    assert block(typed) == typed.rstrip("\n")
    assert block(typed.replace("    ", "\t")) == typed.replace("    ", "\t").rstrip("\n")
    page = assert_structure(draft(s=typed))
    assert page.fenced == [HANDLER, HANDLER]  # under a heading and under a line of text
    assert "\\" not in "".join(page.fenced)
    # inside a paragraph, or a list item's own paragraph, indented lines are text
    assert block("text\n    # h <b>") == "text\n    \\# h \\<b>"
    assert block("- item\n\n    # h") == "- item\n\n    \\# h"
    nested = "- item\n\n      # code <b>\n\n> quoted\n\n>     # code <b>"
    assert block(nested) == nested
    assert render(block(nested)).fenced == ["# code <b>\n", "# code <b>\n"]


def test_indented_code_that_starts_a_value_is_fenced():
    """Indented, it would go on with the text above it ("**Code Issue**:") or the list above it
    (the metrics): fenced, it is the same code wherever it lands."""
    typed = "".join(f"    {ln}\n" for ln in HANDLER.splitlines()) + "\t`x` ````\n\nAfter."
    assert block(typed) == f"`````\n{HANDLER}`x` ````\n`````\n\nAfter."
    page = assert_structure(draft(s=typed, c=typed))
    assert page.fenced == [f"{HANDLER}`x` ````\n"] * 3
    assert page.text["p"].count("After.") == 3


def test_fences_in_list_items_and_quotes_are_kept_as_typed():
    typed = "1. Run:\n   ```sh\n   # drop cache\n   echo 3 > /proc/x <b>\n   ```\n2. Then *wait*."
    assert block(typed) == typed
    quoted = "> ```\n> # not a heading\n> | a | b |\n> ```"
    assert block(quoted) == quoted
    page = assert_structure(draft(s=f"{typed}\n\n{quoted}"))
    assert page.fenced.count("# drop cache\necho 3 > /proc/x <b>\n") == 2
    assert page.fenced.count("# not a heading\n| a | b |\n") == 2
    assert {"ol", "blockquote", "em"} <= page.tags


def test_fences_left_open_in_list_items_and_quotes_are_closed_there():
    assert block("- Run:\n  ~~~\n  # drop") == "- Run:\n  ~~~\n  # drop\n  ~~~"
    assert block("> - ````\n>   # drop") == "> - ````\n>   # drop\n>   ````"
    # a line the list item does not go on with ends the item and its code: it is text
    assert block("1. Run:\n   ```\n# h\n---") == "1. Run:\n   ```\n\\# h\n\\---"
    for typed in ("- Run:\n  ~~~\n  # drop", "> ```\n> # q", "1. Run:\n   ```\n# h\n---"):
        page = assert_structure(draft(s=typed, c=typed))
        assert len(page.fenced) == 3


@pytest.mark.parametrize(
    "typed, item",
    [
        ("-1 offset in pagination fixed", "-1 offset in pagination fixed"),
        ("--force flag removed", "--force flag removed"),
        ("*args passed through", "*args passed through"),
        ("**Never** ship on Friday", "**Never** ship on Friday"),
        ("1.5x slower", "1.5x slower"),
        ("- -1 offset", "-1 offset"),
        ("• **Never** ship", "**Never** ship"),
        ("2) --force", "--force"),
    ],
)
def test_lines_strip_only_the_list_marker_people_typed(typed, item):
    assert lines(typed) == [item]
    page = render(f"1. {inline(item)}")
    assert page.text["li"] == [item.replace("**", "")]  # shown as typed, bold as bold


# --- properties: code and visible text come out as typed ---------------------------------------

no_breaks = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n")
code_text = st.text(no_breaks, min_size=1, max_size=40).filter(
    lambda t: t.strip(" ") and t[0] != " " and t[-1] != " " and "`" not in t
)
around = hostile.filter(lambda t: "`" not in t)


@settings(max_examples=300, deadline=None)
@given(around, code_text, around)
def test_inline_code_round_trips(before, code, after):
    value = f"{before} `{code}` {after}"
    page = assert_structure(draft(a=value, b=value, c=value))
    assert page.code.count(code) >= 11  # every inline and cell context of the draft


@settings(max_examples=300, deadline=None)
@given(around, st.lists(st.text(no_breaks, max_size=40), max_size=8), st.booleans(), around)
def test_fenced_code_round_trips(before, body, closed, after):
    assume(not any(re.match(r" {0,3}```", ln) for ln in body) and "~~~" not in before)
    value = f"{before}\n```python\n" + "".join(ln + "\n" for ln in body)
    if closed:
        value += f"```\n{after}"
    while not closed and body and not body[-1].strip():
        body = body[:-1]  # blank lines at the end of a value are dropped
    page = assert_structure(draft(s=value))
    assert "".join(ln + "\n" for ln in body) in page.fenced


CONTAINERS = [  # how a block opens in a container (first line) and goes on (the lines after)
    *(("", ""), ("> ", "> "), (">", ">"), (">\t", ">\t"), ("- ", "  "), ("-\t", "\t")),
    *(("1. ", "   "), ("10) ", "    "), ("* ", "\t"), ("> - ", ">   "), ("- > ", "  > ")),
]
body_line = st.text(no_breaks, max_size=30).filter(lambda t: "```" not in t and "~~~" not in t)
one_line = hostile.map(lambda t: re.sub(r"[\r\n]", " ", t))


@st.composite
def chunks(draw: st.DrawFn) -> list[str]:
    """A block in a container: fenced code (maybe left open), indented code, or a line."""
    first, rest = draw(st.sampled_from(CONTAINERS))
    body = draw(st.lists(body_line, min_size=1, max_size=4))
    kind = draw(st.sampled_from(["fence", "open fence", "indented", "text"]))
    if kind == "text":
        return [first + draw(one_line)]
    if kind == "indented":
        start = body[0] if body[0].strip() else "x"  # not an empty item: "-" alone is escaped
        return [first + "    " + start, *(rest + "    " + ln for ln in body[1:])]
    fence = draw(st.sampled_from(["```", "~~~~", "``` sh"]))
    close = [rest + fence.split()[0]] if kind == "fence" else []
    return [first + fence, *(rest + ln for ln in body), *close]


@settings(max_examples=300, deadline=None)
@given(st.lists(chunks(), min_size=1, max_size=5))
def test_code_in_list_items_and_quotes_round_trips(blocks):
    """Every code block people type, in or out of list items and quotes, reads in the draft as
    it does in their own text rendered alone: byte for byte, never as text or markup."""
    typed_lines = ["Intro", "", *"\n\n".join("\n".join(lines) for lines in blocks).split("\n")]
    while not typed_lines[-1].strip():
        typed_lines.pop()  # blank lines at the end of a value are dropped
    value = "\n".join(typed_lines)
    page = assert_structure(draft(s=value))
    typed = Counter(render(value).fenced)
    drafted = Counter(page.fenced)
    assert all(drafted[code] >= 2 * n for code, n in typed.items()), (value, block(value))


visible = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="*_~`"),
    max_size=60,
) | st.lists(st.sampled_from([m for m in META if not set(m) & set("*_~`\r\n\t")]), max_size=20).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(visible)
def test_text_reads_as_typed_once_rendered(text):
    shown = " ".join(text.split())
    assume(shown)
    page = render(draft(a=text, b=text))
    assert page.outline[0][1] == f"Post-Mortem: {shown}"
    assert page.text["td"][1:3] == [text.strip(), text.strip()]
    assert page.text["p"][0].startswith(f"Participants: {shown}\n")


ITEM = "- [ ] **AI-001**: {} (owner: {}; due: none)\n\n**Participants**: {}\n**Commander**: {}"


def _markup(a: str, b: str) -> list[int]:
    markdown = ITEM.format(inline(a), inline(b), inline(a), inline(b))
    html = html_of(markdown)
    for label in ("<strong>AI-001</strong>:", "<strong>Participants</strong>:", "<strong>Comm"):
        assert label in html, html
    return [html.count(tag) for tag in ("<em>", "<strong>", "<del>", "<code>", "checked")]


@settings(max_examples=300, deadline=None)
@given(hostile, hostile)
def test_markup_opens_and_closes_within_one_value(a, b):
    """What one value opens (emphasis, strikethrough, code) it closes: next to another value
    it renders as it does next to plain text, and it never ticks an action item's box."""
    assume("`" not in a + b or "[x]" not in (a + b).lower())  # `[x]` in code: see cmark-gfm
    both, first, second, neither = (_markup(*v) for v in ((a, b), (a, "z"), ("z", b), ("z", "z")))
    assert both == [x + y - z for x, y, z in zip(first, second, neither, strict=True)]
