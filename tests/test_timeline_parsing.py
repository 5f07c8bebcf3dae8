"""`/timeline` text: the times people mean (their zone, the nearest occurrence, DST), the forms
people type, milestones and limits. Pure functions over an injected `now` and zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.durations import format_duration, in_words, parse_duration
from bot.errors import UsageError
from bot.models import Milestone
from bot.timeline import parse_entry
from bot.when import parse_zone_setting, split_when

NOW = datetime(2026, 11, 26, 15, 30, 45, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc():
    return UTC


def zone(z):
    return lambda: z


def never():
    raise AssertionError("the zone was asked for, but the text needs none")


def at(text, now=NOW, tz=UTC):
    written, _ = split_when(text, now, zone(tz))
    assert written is not None, text
    return written.at


def test_plain_text_is_an_event_now_and_asks_for_no_zone():
    entry = parse_entry("Rolled back the deploy", NOW, never)
    assert (entry.at, entry.text, entry.milestone, entry.explicit_time) == (
        NOW,
        "Rolled back the deploy",
        None,
        False,
    )
    assert parse_entry("-15m paged", NOW, never).at == NOW - timedelta(minutes=15)
    assert parse_entry("14:05Z paged", NOW, never).at == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)


def test_clock_time_is_read_in_the_persons_zone():
    entry = parse_entry("14:05 detected: PagerDuty alert on checkout 5xx", NOW, zone(BERLIN))
    assert entry.at == datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
    assert entry.milestone is Milestone.DETECTED
    assert entry.text == "PagerDuty alert on checkout 5xx"
    assert at("07:05", tz=LOS_ANGELES) == datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
    assert at("20:35", tz=KOLKATA) == datetime(2026, 11, 26, 15, 5, tzinfo=UTC)


def test_a_few_minutes_ahead_is_refused_never_moved_to_yesterday():
    now = datetime(2026, 11, 30, 9, 39, tzinfo=UTC)
    with pytest.raises(UsageError, match="is 10 minutes from now") as refused:
        parse_entry("09:49 detected: disk alert fired", now, utc)
    assert "it is 09:39 UTC" in str(refused.value)
    assert "yesterday 09:49" in str(refused.value)  # how to say yesterday, if that was meant


def test_a_bare_time_is_the_last_time_the_clock_showed_it_unless_just_ahead():
    now = datetime(2026, 11, 30, 12, 33, tzinfo=UTC)
    assert at("00:30", now) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 12 h ago, today
    assert at("19:00", now) == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # 6 h 27 ahead: no
    assert at("12:34", now) == now, "a minute ahead is now (clocks differ)"
    with pytest.raises(UsageError, match="5 hours 57 minutes from now") as refused:
        split_when("18:30 x", now, utc)
    assert "For yesterday's, write `yesterday 18:30`" in str(refused.value)
    late = datetime(2026, 11, 30, 23, 50, tzinfo=UTC)
    with pytest.raises(UsageError) as refused:  # 00:30 is 40 minutes ahead, tomorrow
        split_when("00:30 x", late, utc)
    assert "For today's, write `today 00:30`" in str(refused.value)


def test_the_responder_at_utc_plus_2_gets_today_not_yesterday():
    now = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # 03:30 in Cairo
    entry = parse_entry("03:20 fix: rolled back", now, zone(ZoneInfo("Africa/Cairo")))
    assert entry.at == datetime(2026, 11, 30, 1, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "tz, now, typed, expected",
    [
        # just after midnight: a time shortly before midnight is yesterday's
        (UTC, datetime(2026, 11, 30, 0, 10), "23:50", datetime(2026, 11, 29, 23, 50)),
        # the same in Berlin (00:10 CET is 23:10 UTC the day before)
        (BERLIN, datetime(2026, 11, 29, 23, 10), "23:55", datetime(2026, 11, 29, 22, 55)),
        # just before midnight in Los Angeles (UTC the next day)
        (LOS_ANGELES, datetime(2026, 12, 1, 7, 55), "23:30", datetime(2026, 12, 1, 7, 30)),
        # in Kolkata (+05:30) just after midnight
        (KOLKATA, datetime(2026, 11, 29, 18, 40), "23:50", datetime(2026, 11, 29, 18, 20)),
        # year end, leap day
        (BERLIN, datetime(2027, 1, 1, 0, 5), "00:58", datetime(2026, 12, 31, 23, 58)),
        (UTC, datetime(2028, 2, 29, 23, 30), "23:20", datetime(2028, 2, 29, 23, 20)),
        (UTC, datetime(2028, 3, 1, 0, 30), "23:20", datetime(2028, 2, 29, 23, 20)),
    ],
)
def test_the_nearest_occurrence_across_midnight(tz, now, typed, expected):
    assert at(typed, now.replace(tzinfo=UTC), tz) == expected.replace(tzinfo=UTC)


def test_dst_switches():
    # Berlin springs forward 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST)
    spring = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 05:00 CEST
    assert at("01:59", spring, BERLIN) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert at("03:01", spring, BERLIN) == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match="did not exist in Europe/Berlin on 2026-03-29"):
        split_when("02:30 x", spring, zone(BERLIN))
    # ... and falls back 2026-10-25 at 01:00 UTC: 02:30 happens twice; the latest past one
    autumn = datetime(2026, 10, 25, 3, 40, tzinfo=UTC)
    assert at("02:30", autumn, BERLIN) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    between = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10 CET, after the first 02:30
    assert at("02:30", between, BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # Los Angeles falls back 2026-11-01 at 09:00 UTC (02:00 PDT -> 01:00 PST)
    la = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 04:00 PST
    assert at("00:30", la, LOS_ANGELES) == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # PDT
    assert at("03:30", la, LOS_ANGELES) == datetime(2026, 11, 1, 11, 30, tzinfo=UTC)  # PST


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("14:05", datetime(2026, 11, 26, 14, 5)),
        ("14:05:30", datetime(2026, 11, 26, 14, 5, 30)),
        ("14h05", datetime(2026, 11, 26, 14, 5)),
        ("2:05pm", datetime(2026, 11, 26, 14, 5)),
        ("2:05 p.m.", datetime(2026, 11, 26, 14, 5)),
        ("2pm", datetime(2026, 11, 26, 14, 0)),
        ("12pm", datetime(2026, 11, 26, 12, 0)),
        ("12:30 pm", datetime(2026, 11, 26, 12, 30)),
        ("14:05Z", datetime(2026, 11, 26, 14, 5)),
        ("14:05 UTC", datetime(2026, 11, 26, 14, 5)),
        ("15:05+01:00", datetime(2026, 11, 26, 14, 5)),
        ("15:05 UTC+1", datetime(2026, 11, 26, 14, 5)),
        ("09:05-0500", datetime(2026, 11, 26, 14, 5)),
        ("16:05 +02:00", datetime(2026, 11, 26, 14, 5)),
        ("15:05 Europe/Berlin", datetime(2026, 11, 26, 14, 5)),
        ("06:05 America/Los_Angeles", datetime(2026, 11, 26, 14, 5)),
        ("yesterday 23:50", datetime(2026, 11, 25, 23, 50)),
        ("today 01:00", datetime(2026, 11, 26, 1, 0)),
        ("2026-11-24 09:15", datetime(2026, 11, 24, 9, 15)),
        ("2026-11-24T09:15Z", datetime(2026, 11, 24, 9, 15)),
        ("-15m", datetime(2026, 11, 26, 15, 15, 45)),
        ("-1h30m", datetime(2026, 11, 26, 14, 0, 45)),
        ("15 min ago", datetime(2026, 11, 26, 15, 15, 45)),
        ("2 hours ago", datetime(2026, 11, 26, 13, 30, 45)),
        ("14:05:", datetime(2026, 11, 26, 14, 5)),
        ("15:05 europe/berlin", datetime(2026, 11, 26, 14, 5)),
        ("yesterday at 23:50", datetime(2026, 11, 25, 23, 50)),
        ("yesterday, 23:50", datetime(2026, 11, 25, 23, 50)),
        ("\u221215m", datetime(2026, 11, 26, 15, 15, 45)),  # a minus sign, as phones type it
        ("\u201315m", datetime(2026, 11, 26, 15, 15, 45)),  # an en dash
        ("\u200b14:05", datetime(2026, 11, 26, 14, 5)),  # a zero-width space, pasted
        ("19:35 +5:30", datetime(2026, 11, 26, 14, 5)),
        ("13:05 \u221201:00", datetime(2026, 11, 26, 14, 5)),  # a minus sign in the offset
        ("13:05 UTC\u22121", datetime(2026, 11, 26, 14, 5)),
        ("19:35 Asia/Kolkata:", datetime(2026, 11, 26, 14, 5)),
        ("15:05 Europe/Berlin\u00a0", datetime(2026, 11, 26, 14, 5)),
        ("14:05 -", datetime(2026, 11, 26, 14, 5)),
    ],
)
def test_the_forms_people_type(typed, expected):
    written, rest = split_when(f"{typed} the event", NOW, utc)
    assert written is not None and written.at == expected.replace(tzinfo=UTC)
    assert rest == "the event"


@pytest.mark.parametrize(
    "text, message",
    [
        ("+10m monitoring: watching", "10 minutes from now"),
        ("2026-11-27 09:00 tomorrow", "from now"),
        ("25:00 nonsense", "not a time of day"),
        ("12:75 nonsense", "not a time of day"),
        ("13pm nonsense", "not a time of day"),
        ("14h65 nonsense", "not a time of day"),
        ("3:1 odds", "looks like a time"),
        ("14:5 typo", "looks like a time"),
        ("2026-02-30 10:00 no such day", "not a date"),
        ("14:05+15:00 too far east", "not a UTC offset"),
        ("14:05 CET abbreviation", "names more than one zone"),
        ("14:05 cet abbreviation", "names more than one zone"),
        ("09:05 PST: alert fired", "names more than one zone"),
        ("14:05 (CET) a", "names more than one zone"),
        ("14:05 US/Pacifc a", "Did you mean `US/Pacific`"),
        ("14:05 America/NewYork typo", "Did you mean `America/New_York`"),
        ("14:05+14:59 too far east", "not a UTC offset"),
        ("0001-01-01 00:00+01:00 the first day", "not a date I can use"),
        ("9999-12-31 23:59-01:00 the last day", "not a date I can use"),
        ("-99999999999999d long ago", "more than a year"),
        ("14:05 PST abbreviation", "names more than one zone"),
        ("14:05", "What happened?"),
        ("14:05 detected:", "What happened?"),
        ("x" * 3001, "limit is 3,000"),
    ],
)
def test_refusals_say_what_was_wrong(text, message):
    with pytest.raises(UsageError, match=message):
        parse_entry(text, NOW, utc)


@pytest.mark.parametrize(
    "text",
    [
        "+1 to the rollback",
        "2 hours of downtime",
        "Zookeeper lost quorum",
        "5xx rate at 3%",
        "CET users saw errors",
    ],
)
def test_text_that_only_starts_with_numbers_is_text(text):
    entry = parse_entry(text, NOW, never)
    assert (entry.at, entry.text) == (NOW, text)


@pytest.mark.parametrize("rest", ["west region down", "api/gateway restarted", "EU & US"])
def test_words_after_a_time_that_are_not_a_zone_are_the_text(rest):
    written, text = split_when(f"14:05 {rest}", NOW, utc)
    assert written is not None and written.at.hour == 14 and text == rest


def test_every_typed_milestone_keyword_is_recognised_case_insensitively():
    for milestone in Milestone:
        entry = parse_entry(f"{milestone.value.upper()}: something", NOW, never)
        assert entry.milestone is milestone


def test_root_cause_in_two_words_is_the_milestone():
    for typed in ("root cause: bad push", "Root_Cause: bad push", "root-cause : bad push"):
        entry = parse_entry(typed, NOW, never)
        assert (entry.milestone, entry.text) == (Milestone.ROOT_CAUSE, "bad push")


def test_words_that_only_look_like_keywords_stay_text():
    entry = parse_entry("fixed: nothing yet; 5xx errors at 14:05", NOW, never)
    assert entry.milestone is None
    assert entry.text == "fixed: nothing yet; 5xx errors at 14:05"


def test_nothing_typed_is_no_time():
    assert split_when("", NOW, never) == (None, "")
    assert split_when("   ", NOW, never) == (None, "")


def test_zone_setting():
    assert parse_zone_setting("user") is None
    assert parse_zone_setting("UTC") is UTC
    assert parse_zone_setting("Europe/Berlin") == BERLIN
    with pytest.raises(ValueError):
        parse_zone_setting("Mars/Olympus")


def test_durations():
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("30s") == timedelta(seconds=30)
    with pytest.raises(UsageError):
        parse_duration("soon")
    assert format_duration(timedelta(minutes=5)) == "5m"
    assert format_duration(timedelta(hours=2)) == "2h"
    assert format_duration(timedelta(days=1, hours=2, minutes=3)) == "1d 2h 3m"
    assert format_duration(timedelta(seconds=-300)) == "-5m", "never 0s for a contradiction"
    assert format_duration(timedelta(seconds=42)) == "42s"
    assert in_words(timedelta(minutes=10)) == "10 minutes"
    assert in_words(timedelta(hours=1, minutes=1)) == "1 hour 1 minute"
