"""Incident channel names follow Slack's rules whatever the title."""

import re

from bot.naming import channel_name

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def test_example_from_the_issue():
    assert channel_name("inc-", 1, "Checkout API returning 500s") == (
        "inc-001-checkout-api-returning-500s"
    )


def test_numbers_grow_past_999():
    assert channel_name("inc-", 1234, "db").startswith("inc-1234-db")


def test_non_latin_titles_still_give_valid_names():
    assert channel_name("inc-", 4, "決済が失敗しています") == "inc-004-incident"
    assert channel_name("inc-", 5, "Ошибка оплаты") == "inc-005-incident"
    assert channel_name("inc-", 6, "Café crème brûlée outage") == "inc-006-cafe-creme-brulee-outage"


def test_long_titles_are_cut_to_80_characters_without_a_trailing_dash():
    name = channel_name("inc-", 7, "word " * 50)
    assert VALID.match(name) and len(name) <= 80 and not name.endswith("-")


def test_name_taken_attempts_add_a_suffix_and_stay_valid():
    names = {channel_name("inc-", 8, "x" * 200, attempt) for attempt in range(5)}
    assert len(names) == 5
    assert all(VALID.match(n) for n in names)
    assert channel_name("inc-", 8, "db down", 1) == "inc-008-db-down-2"


def test_punctuation_and_emoji_fall_away():
    name = channel_name("inc-", 9, "🔥 Payments <EU> & UK | down!!")
    assert name == "inc-009-payments-eu-uk-down"
