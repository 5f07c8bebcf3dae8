"""The local Slack's threads and history: paging as Slack pages, refusing as Slack refuses."""

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import BOT_TOKEN, Emulator
from bot.sandbox.server import BOT_SCOPES

READING = BOT_SCOPES | {"channels:history", "groups:history", "reactions:read", "reactions:write"}
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack():
    with Emulator(scopes=READING | {"pins:read"}) as emulator:
        yield emulator


@pytest.fixture
def api(slack):
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def error_of(call):
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response


def test_a_reply_counts_on_its_parent_and_both_carry_thread_ts(slack):
    parent = slack.say("alice", "general", "db is down", at=T0)
    first = slack.say("bob", "general", "looking", thread_ts=parent.ts, at=T0 + timedelta(1))
    last = slack.say("carol", "general", "me too", thread_ts=parent.ts)
    again = slack.say("bob", "general", "again", thread_ts=parent.ts)
    shown = parent.as_api()
    assert shown["thread_ts"] == parent.ts == f"{T0.timestamp():.6f}"
    assert shown["reply_count"] == 3
    assert shown["reply_users"] == [slack.user("bob"), slack.user("carol")]
    assert shown["reply_users_count"] == 2
    assert shown["latest_reply"] == max(first.ts, last.ts, again.ts, key=float)
    assert first.as_api()["thread_ts"] == parent.ts
    assert first.as_api()["parent_user_id"] == slack.user("alice")
    assert "thread_ts" not in slack.say("alice", "general", "plain").as_api()


def test_posts_at_one_moment_get_unique_ordered_ts(slack):
    made = [slack.say("alice", "general", f"m{i}", at=T0) for i in range(3)]
    assert len({m.ts for m in made}) == 3
    assert [m.ts for m in slack.messages("general")] == sorted((m.ts for m in made), key=float)


def test_paging_2000_messages_gives_each_once_newest_first(slack, api):
    posts = [("alice", T0 + timedelta(seconds=i), f"message {i}") for i in range(2000)]
    posts += [("bob", T0 + timedelta(seconds=5, milliseconds=1), "a reply", 5)]
    posts += [("app:PagerDuty", T0 + timedelta(seconds=3000), "[FIRING] db")]
    made = slack.backfill("general", posts)
    assert slack.idle  # no events
    seen, cursor, pages = [], None, 0
    while True:
        page = api.conversations_history(channel=slack.general.id, limit=999, cursor=cursor)
        seen += page["messages"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert pages == 3
    stamps = [m["ts"] for m in seen]
    assert stamps == sorted(stamps, key=float, reverse=True)
    assert len(stamps) == len(set(stamps)) == 2001  # the reply is not in the history
    assert seen[0]["subtype"] == "bot_message" and seen[0]["bot_id"]
    parent = next(m for m in seen if m["ts"] == made[5].ts)
    assert parent["reply_count"] == 1 and parent["thread_ts"] == made[5].ts
    assert made[-2].ts not in stamps


def test_history_default_and_maximum_page_sizes(slack, api):
    slack.backfill("general", [("alice", T0 + timedelta(seconds=i), "x") for i in range(1200)])
    assert len(api.conversations_history(channel=slack.general.id)["messages"]) == 100
    assert len(api.conversations_history(channel=slack.general.id, limit=5000)["messages"]) == 999


def test_oldest_latest_inclusive(slack, api):
    made = slack.backfill("general", [("alice", T0 + timedelta(seconds=i), "x") for i in range(10)])
    between = api.conversations_history(
        channel=slack.general.id, oldest=made[2].ts, latest=made[6].ts
    )
    assert [m["ts"] for m in between["messages"]] == [made[i].ts for i in (5, 4, 3)]
    assert between["latest"] == made[6].ts
    inclusive = api.conversations_history(
        channel=slack.general.id, oldest=made[2].ts, latest=made[6].ts, inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == [made[i].ts for i in (6, 5, 4, 3, 2)]
    assert error_of(lambda: api.conversations_history(channel=slack.general.id, oldest="x"))[
        "error"
    ] == ("invalid_ts_oldest")


def test_a_bad_cursor_is_refused(slack, api):
    for cursor in ("not-a-cursor", "bmV4dF90czp4eXo=", "dXNlcjpVMDYxTkZUVDI="):
        refused = error_of(lambda c=cursor: api.conversations_history(channel="C0", cursor=c))
        # the channel is checked first, as Slack does
        assert refused["error"] == "channel_not_found"
        refused = error_of(
            lambda c=cursor: api.conversations_history(channel=slack.general.id, cursor=c)
        )
        assert refused["error"] == "invalid_cursor", cursor


def test_history_refuses_channels_the_bot_is_not_in(slack, api):
    bobs = slack.ws.add_channel("bobs-public", slack.user("bob"))
    secret = slack.ws.add_channel("secret", slack.user("bob"), is_private=True)
    slack.say("bob", "bobs-public", "hello")
    assert error_of(lambda: api.conversations_history(channel=bobs.id))["error"] == (
        "not_in_channel"
    )
    assert error_of(lambda: api.conversations_history(channel=secret.id))["error"] == (
        "channel_not_found"
    )
    assert error_of(lambda: api.conversations_replies(channel=secret.id, ts="1.0"))["error"] == (
        "channel_not_found"
    )


def test_history_needs_its_scope():
    with Emulator(scopes=BOT_SCOPES) as slack:
        api = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        refused = error_of(lambda: api.conversations_history(channel=slack.general.id))
        assert refused["error"] == "missing_scope"
        assert refused.headers["x-oauth-scopes"] == ",".join(sorted(BOT_SCOPES))


def test_every_answer_carries_the_granted_scopes(slack, api):
    answer = api.auth_test()
    assert answer.headers["x-oauth-scopes"] == ",".join(sorted(READING | {"pins:read"}))


def test_replies_parent_first_then_pages(slack, api):
    posts = [("alice", T0, "parent")]
    posts += [("bob", T0 + timedelta(seconds=1 + i), f"reply {i}", 0) for i in range(25)]
    made = slack.backfill("general", posts)
    seen, cursor = [], None
    while True:
        page = api.conversations_replies(
            channel=slack.general.id, ts=made[0].ts, limit=10, cursor=cursor
        )
        seen += page["messages"]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert [m["ts"] for m in seen] == [m.ts for m in made]
    assert seen[0]["reply_count"] == 25
    # the ts of a reply answers with its whole thread, as Slack's reference says
    whole = api.conversations_replies(channel=slack.general.id, ts=made[7].ts)
    assert [m["ts"] for m in whole["messages"]] == [m.ts for m in made]
    alone = slack.say("carol", "general", "no replies")
    assert [
        m["ts"]
        for m in api.conversations_replies(channel=slack.general.id, ts=alone.ts)["messages"]
    ] == [alone.ts]
    assert error_of(lambda: api.conversations_replies(channel=slack.general.id, ts="123.456"))[
        "error"
    ] == ("thread_not_found")


def test_tier_3_allows_50_calls_a_minute(slack, api):
    now = [1000.0]
    slack.api.limiter.clock = lambda: now[0]
    for _ in range(50):
        api.conversations_history(channel=slack.general.id)
    limited = error_of(lambda: api.conversations_replies(channel=slack.general.id, ts="1.0"))
    assert limited["error"] != "ratelimited"  # each method has its own allowance
    refused = error_of(lambda: api.conversations_history(channel=slack.general.id))
    assert refused.status_code == 429 and refused["error"] == "ratelimited"
    assert refused.headers["Retry-After"] == "60"
    now[0] += 60
    api.conversations_history(channel=slack.general.id)
