"""The local Slack refuses what Slack refuses; otherwise the other tests prove nothing."""

import json
import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import BOT_TOKEN, Emulator


@pytest.fixture
def api(slack):
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def error_of(call):
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response


def raw(slack, method, body=b"", headers=None):
    request = urllib.request.Request(
        slack.api_url + method, data=body, method="POST", headers=headers or {}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_unknown_method(slack, api):
    assert error_of(lambda: api.api_call("chat.postMessag", params={}))["error"] == (
        "unknown_method"
    )


def test_tokens(slack, api):
    assert raw(slack, "auth.test")["error"] == "not_authed"
    bad = raw(slack, "auth.test", headers={"Authorization": "Bearer xoxb-nope"})
    assert bad["error"] == "invalid_auth"
    assert (
        error_of(
            lambda: WebClient(token="xapp-emulator-app-token", base_url=slack.api_url).auth_test()
        )["error"]
        == "not_allowed_token_type"
    )
    assert api.auth_test()["user_id"] == slack.ws.bot.id


def test_missing_and_unknown_arguments(slack, api):
    assert (
        error_of(lambda: api.conversations_invite(channel=slack.general.id, users=""))["error"]
        == "invalid_arguments"
    )
    with pytest.warns(UserWarning):  # slack_sdk warns too
        assert (
            error_of(lambda: api.chat_postMessage(channel=slack.general.id))["error"] == "no_text"
        )
    assert error_of(lambda: api.conversations_create(name=""))["error"] == "invalid_name_required"
    unknown = error_of(
        lambda: api.api_call(
            "chat.postMessage", json={"channel": slack.general.id, "text": "x", "colour": "red"}
        )
    )
    assert unknown["error"] == "invalid_arguments"
    assert "colour" in unknown["response_metadata"]["messages"][0]


def test_channel_names_and_name_taken(slack, api):
    assert error_of(lambda: api.conversations_create(name="Has Caps"))["error"] == (
        "invalid_name_specials"
    )
    assert error_of(lambda: api.conversations_create(name="x" * 81))["error"] == (
        "invalid_name_maxlength"
    )
    api.conversations_create(name="inc-001-db")
    assert error_of(lambda: api.conversations_create(name="inc-001-db"))["error"] == "name_taken"


def test_not_in_channel_and_private_channels(slack, api):
    bobs = slack.ws.add_channel("bobs-room", slack.user("bob"))
    secret = slack.ws.add_channel("secret", slack.user("bob"), is_private=True)
    assert error_of(lambda: api.conversations_setTopic(channel=bobs.id, topic="t"))["error"] == (
        "not_in_channel"
    )
    assert error_of(lambda: api.pins_add(channel=bobs.id, timestamp="1.2"))["error"] == (
        "not_in_channel"
    )
    assert error_of(lambda: api.chat_postMessage(channel=secret.id, text="x"))["error"] == (
        "channel_not_found"
    )
    api.chat_postMessage(channel=bobs.id, text="public channels take chat:write.public posts")


def test_only_the_bots_own_messages_can_be_updated_or_deleted(slack, api):
    general = slack.general.id
    theirs = slack.say("carol", "general", "carol's words").ts
    ours = api.chat_postMessage(channel=general, text="the bot's words")["ts"]

    def refusal(call):
        return error_of(call)["error"]

    assert refusal(lambda: api.chat_update(channel=general, ts=theirs, text="x")) == (
        "cant_update_message"
    )
    assert refusal(lambda: api.chat_delete(channel=general, ts=theirs)) == "cant_delete_message"
    assert refusal(lambda: api.chat_update(channel=general, ts="9.9", text="x")) == (
        "message_not_found"
    )
    assert refusal(lambda: api.chat_delete(channel=general, ts="9.9")) == "message_not_found"
    assert api.chat_update(channel=general, ts=ours, text="changed")["text"] == "changed"
    api.chat_delete(channel=general, ts=ours)
    assert [m.text for m in slack.general.messages] == ["carol's words"]


def test_missing_scope_is_reported_with_the_needed_scope():
    with Emulator(scopes=frozenset({"chat:write"})) as slack:
        api = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        refused = error_of(lambda: api.conversations_create(name="x"))
        assert refused["error"] == "missing_scope" and refused["needed"]
        assert refused.headers["x-oauth-scopes"] == "chat:write"


@pytest.mark.parametrize(
    "blocks, why",
    [
        ([{"type": "section"}], "section needs text or fields"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "1 to 3000"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}], "text type"),
        ([{"type": "divider", "colour": "red"}], "unknown field"),
        ([{"type": "carousel"}], "unknown block type"),
        ([{"type": "divider"}] * 51, "no more than 50"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}
                    ],
                }
            ],
            "1 to 75",
        ),
        (
            [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}],
            "duplicate block_id",
        ),
    ],
)
def test_invalid_blocks(slack, api, blocks, why):
    refused = error_of(
        lambda: api.chat_postMessage(channel=slack.general.id, text="t", blocks=blocks)
    )
    assert refused["error"] == "invalid_blocks"
    assert why in refused["response_metadata"]["messages"][0]


def test_message_text_limit(slack, api):
    assert (
        error_of(lambda: api.chat_postMessage(channel=slack.general.id, text="x" * 40_001))["error"]
        == "msg_too_long"
    )


def test_trigger_ids_expire_and_are_single_use(slack, api):
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Hi"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    assert error_of(lambda: api.views_open(trigger_id="made.up", view=view))["error"] == (
        "invalid_trigger_id"
    )
    fresh = slack.api.issue_trigger()
    api.views_open(trigger_id=fresh, view=view)
    assert error_of(lambda: api.views_open(trigger_id=fresh, view=view))["error"] == (
        "exchanged_trigger_id"
    )
    stale = slack.api.issue_trigger()
    issued, used = slack.api.triggers[stale]
    slack.api.triggers[stale] = (issued - 3.5, used)  # as if 3.5 s had passed
    assert error_of(lambda: api.views_open(trigger_id=stale, view=view))["error"] == (
        "expired_trigger_id"
    )


def test_rate_limits_answer_429_with_retry_after(slack, api):
    channel = slack.general.id
    for _ in range(4):
        api.chat_postMessage(channel=channel, text="burst")
    refused = error_of(lambda: api.chat_postMessage(channel=channel, text="one too many"))
    assert refused.status_code == 429 and refused["error"] == "ratelimited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 4
    for _ in range(20):  # Tier 2: 20 a minute
        api.conversations_create(name=f"c{_}-{time.monotonic_ns()}")
    tier2 = error_of(lambda: api.conversations_create(name="one-more"))
    assert tier2.status_code == 429 and int(tier2.headers["Retry-After"]) > 30


def test_injected_faults(slack, api):
    slack.fail("auth.test", "internal_error", status=500)
    assert error_of(api.auth_test).status_code == 500
    assert api.auth_test()["ok"]


def test_slash_commands_arrive_escaped_like_slack_sends_them(slack):
    delivered = slack.encode("@bob & <!channel> @here #general <3")
    assert delivered == (
        f"<@{slack.user('bob')}|bob> &amp; &lt;!channel&gt; <!here> "
        f"<#{slack.general.id}|general> &lt;3"
    )
