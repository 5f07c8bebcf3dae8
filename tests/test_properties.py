"""Property-based tests over everything that parses what people type: no exception escapes but
the named ones, whose messages tell the person what was wrong."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.action_words import parse_action
from bot.durations import parse_duration
from bot.errors import BotError, UsageError, quoted
from bot.free_text import without_controls
from bot.markdown import cell, inline
from bot.naming import channel_name
from bot.slack.text import decode, escape, parse_mention, split_args
from bot.timeline import parse_entry

CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NOW = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
typed = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400) | st.from_regex(
    r"([-+]?\d{1,3} ?[smhd]( ago)?|\d{1,2}[:h]\d{2}(:\d{2})?( ?[ap]\.?m\.?)?"
    r"( ?(UTC|Z|GMT)|[+-]\d{2}:?\d{2})?|(yesterday |today |\d{4}-\d{2}-\d{2}[ T])"
    r"\d{1,2}:\d{2})( [a-z-]+:)? .{0,40}",
    fullmatch=True,
)
zones = st.sampled_from(
    [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Kolkata")]
)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=600, deadline=None)
@given(typed, zones, moments)
def test_timeline_text_parses_or_says_why(text, zone, now):
    try:
        entry = parse_entry(text, now, lambda: zone)
    except UsageError as error:
        assert str(error) and len(str(error)) < 400
        return
    assert entry.at <= now and entry.at.tzinfo is not None
    assert 0 < len(entry.text) <= 3000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_durations_parse_or_say_why(spec):
    try:
        assert parse_duration(spec).total_seconds() >= 0
    except UsageError as error:
        assert "duration" in str(error) or "year" in str(error)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_decode_and_escape_round_trip(typed_text):
    shown = escape(typed_text)
    assert "<" not in shown and ">" not in shown
    assert decode(shown) == without_controls(typed_text)
    if not CONTROL_RE.search(typed_text.replace("\r", "")):
        assert decode(shown) == typed_text.replace("\r", "\n")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_what_is_kept_has_no_control_characters_and_loses_nothing_else(text):
    kept = without_controls(text)
    assert not CONTROL_RE.search(kept)
    assert kept.replace("\n", "") == CONTROL_RE.sub("", text.replace("\r", "").replace("\n", ""))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_quoted_text_is_one_short_line(text):
    shown = quoted(text)
    assert shown.startswith("`") and shown.endswith("`") and shown.count("`") == 2
    assert "\n" not in shown and len(shown) <= 42


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_mentions_and_words_never_raise(text):
    for word in split_args(text):
        parse_mention(word)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30).filter(lambda w: " " not in w), max_size=12))
def test_action_items_parse_or_say_why(words):
    try:
        parsed = parse_action(words, lambda w: "U1" if w.startswith("<@") else None)
    except BotError as error:
        assert "`" in str(error) or "owner" in str(error) or "500" in str(error)
        return
    assert parsed.text


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300),
    st.integers(min_value=1, max_value=99999),
    st.integers(min_value=0, max_value=20),
)
def test_channel_names_are_always_valid(title, number, attempt):
    import re

    assert re.fullmatch(r"[a-z0-9_-]{1,80}", channel_name("inc-", number, title, attempt))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_markdown_filters_keep_structure(text):
    assert "\n" not in inline(text)
    assert "\n" not in cell(text) and "|" not in cell(text).replace("\\|", "")
    # what blocks render as: tests/test_markdown.py, with GitHub's own renderer
