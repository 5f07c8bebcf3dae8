"""`/timeline` text: times (now, HH:MM, dates, offsets, relative), milestones, limits."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from bot.models import Milestone
from bot.timeline import format_duration, parse_duration, parse_entry

NOW = datetime(2026, 11, 26, 15, 30, 45, tzinfo=UTC)


def test_plain_text_is_an_event_now():
    entry = parse_entry("Rolled back the deploy", NOW)
    assert (entry.at, entry.text, entry.milestone, entry.explicit_time) == (
        NOW,
        "Rolled back the deploy",
        None,
        False,
    )


def test_clock_time_is_today_in_utc():
    entry = parse_entry("14:05 detected: PagerDuty alert on checkout 5xx", NOW)
    assert entry.at == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
    assert entry.milestone is Milestone.DETECTED
    assert entry.text == "PagerDuty alert on checkout 5xx"
    assert entry.at.tzinfo is not None


def test_clock_time_still_ahead_today_means_yesterday():
    entry = parse_entry("23:50 first page", NOW)
    assert entry.at == datetime(2026, 11, 25, 23, 50, tzinfo=UTC)


def test_full_date_and_time():
    entry = parse_entry("2026-11-24 09:15 root-cause: bad config push", NOW)
    assert entry.at == datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    assert entry.milestone is Milestone.ROOT_CAUSE


def test_explicit_offset_is_converted_to_utc():
    entry = parse_entry("14:05+01:00 deployed: v2.3.1 to prod", NOW)
    assert entry.at == datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
    assert entry.milestone is Milestone.DEPLOYED
    dated = parse_entry("2026-11-26 08:00-05:00 call with vendor", NOW)
    assert dated.at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


def test_relative_time():
    assert parse_entry("-15m investigating: logs", NOW).at == NOW - timedelta(minutes=15)
    assert parse_entry("-1h30m paged", NOW).at == NOW - timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-11-27 09:00 tomorrow", "in the future"),
        ("16:00+03:00 a time that is ahead", None),
        ("25:00 nonsense", "not a time of day"),
        ("12:75 nonsense", "not a time of day"),
        ("2026-02-30 10:00 no such day", "not a date"),
        ("14:05", "What happened?"),
        ("14:05 detected:", "What happened?"),
        ("x" * 3001, "limit is 3,000"),
    ],
)
def test_refusals_say_what_was_wrong(text, message):
    if message is None:
        # 16:00+03:00 is 13:00 UTC, in the past: accepted, converted
        assert parse_entry(text, NOW).at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
        return
    with pytest.raises(UsageError, match=message):
        parse_entry(text, NOW)


def test_every_typed_milestone_keyword_is_recognised_case_insensitively():
    for milestone in Milestone:
        entry = parse_entry(f"{milestone.value.upper()}: something", NOW)
        assert entry.milestone is milestone


def test_words_that_only_look_like_keywords_stay_text():
    entry = parse_entry("fixed: nothing yet; 5xx errors at 14:05", NOW)
    assert entry.milestone is None
    assert entry.text == "fixed: nothing yet; 5xx errors at 14:05"


def test_durations():
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("30s") == timedelta(seconds=30)
    with pytest.raises(UsageError):
        parse_duration("soon")
    assert format_duration(timedelta(minutes=5)) == "5m"
    assert format_duration(timedelta(hours=2)) == "2h"
    assert format_duration(timedelta(days=1, hours=2, minutes=3)) == "1d 2h 3m"
    assert format_duration(timedelta(seconds=-5)) == "0s"
    assert format_duration(timedelta(seconds=42)) == "42s"
