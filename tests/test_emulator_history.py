"""The local Slack's threads and history: paging as Slack pages, refusing as Slack refuses."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient

from bot.manifest import manifest_events
from bot.sandbox import BOT_TOKEN, Emulator
from bot.sandbox.errors import Refused
from bot.sandbox.server import BOT_SCOPES
from tests import test_emulator
from tests.conftest import SHARED

READING = BOT_SCOPES | {"channels:history", "groups:history", "reactions:read", "reactions:write"}
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack():
    with Emulator(scopes=READING | {"pins:read"}) as emulator:
        yield emulator


api = test_emulator.api  # the bot's WebClient against this emulator
error_of = test_emulator.error_of


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


# --- reactions, pins, edits, deletions and the events about them ------------------------

SAMPLES = SHARED / "slack" / "java-slack-sdk-json-samples" / "events"
OPENAPI = (
    SHARED / "slack" / "slack-api-specs" / "web-api" / "slack_web_openapi_v2_without_examples.json"
)
EVERYTHING = frozenset(
    {
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
        "pin_added",
        "pin_removed",
    }
)


class Inbox:
    """The app's side: a real HTTP endpoint that acks every event and keeps it."""

    def __init__(self):
        self.events = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    def take(self, slack):
        slack.wait_idle()
        taken, self.events = [e["event"] for e in self.events], []
        return taken


@pytest.fixture
def inbox(slack):
    box = Inbox()
    slack.app_url = box.url
    slack.subscribed = EVERYTHING
    yield box
    box.server.shutdown()


def sample(name):
    path = SAMPLES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"Slack's event samples are not at hand ({SAMPLES}); checked where they are")
    return json.loads(path.read_text())


def message_object_keys():
    """A message object as Slack's samples show one anywhere (an event, an edit's
    `message`, a pin's `item.message`), and as the OpenAPI spec's objs_message describes it
    (reply_users): the union of their keys."""
    spec = json.loads(OPENAPI.read_text()) if OPENAPI.exists() else {"definitions": {}}
    keys = dict.fromkeys(spec["definitions"].get("objs_message", {}).get("properties", {}), "")
    for name, path in (
        ("MessagePayload", ()),
        ("MessageChangedPayload", ("message",)),
        ("MessageDeletedPayload", ("previous_message",)),
        ("PinAddedPayload", ("item", "message")),
    ):
        found = sample(name)["event"]
        for key in path:
            found = found[key]
        keys.update(found)
    return keys


def assert_shaped_like(ours, theirs, where="event"):
    """Every key we send is one Slack has been seen to send, nested objects too (a nested
    message object against every message object of the samples)."""
    extra = set(ours) - set(theirs)
    assert not extra, f"{where}: {sorted(extra)} not in Slack's sample"
    for key, value in ours.items():
        if key in ("message", "previous_message") and isinstance(value, dict):
            assert_shaped_like(value, message_object_keys(), f"{where}.{key}")
        elif isinstance(value, dict) and isinstance(theirs[key], dict) and theirs[key]:
            assert_shaped_like(value, theirs[key], f"{where}.{key}")


def test_each_event_is_shaped_as_slack_sends_it(slack, inbox, api):
    message_keys = {
        **sample("MessagePayload")["event"],
        **sample("MessageBotPayload")["event"],
        "subtype": "",
    }
    parent = slack.say("alice", "general", "db down")
    reply = slack.say("bob", "general", "on it", thread_ts=parent.ts)
    alert = slack.app_posts("PagerDuty", "general", "[FIRING]", profile=False)
    for event in inbox.take(slack):
        assert_shaped_like(event, message_keys)
    assert alert.bot_id
    checks = [
        (lambda: slack.react("bob", "general", parent.ts, "pushpin"), "ReactionAddedPayload"),
        (lambda: slack.unreact("bob", "general", parent.ts, "pushpin"), "ReactionRemovedPayload"),
        (lambda: slack.pin("carol", "general", reply.ts), "PinAddedPayload"),
        (lambda: slack.unpin("carol", "general", reply.ts), "PinRemovedPayload"),
        (lambda: slack.edit("alice", "general", parent.ts, "db up"), "MessageChangedPayload"),
        (lambda: slack.delete("bob", "general", reply.ts), "MessageDeletedPayload"),
    ]
    for act, name in checks:
        act()
        [event] = inbox.take(slack)
        theirs = sample(name)
        assert event["type"] == theirs["event"]["type"]
        assert event.get("subtype") == theirs["event"].get("subtype")
        assert_shaped_like(event, theirs["event"], name)
    envelope = sample("ReactionAddedPayload")
    slack.react("carol", "general", parent.ts, "eyes")
    slack.wait_idle()
    assert_shaped_like(inbox.events[-1], envelope, "envelope")


def test_what_the_events_say(slack, inbox):
    parent = slack.say("alice", "general", "db down")
    reply = slack.say("bob", "general", "on it", thread_ts=parent.ts)
    [posted, replied] = inbox.take(slack)
    assert posted["channel_type"] == "channel" and posted["user"] == slack.user("alice")
    assert "thread_ts" not in posted
    assert replied["thread_ts"] == parent.ts and replied["parent_user_id"] == slack.user("alice")
    slack.react("carol", "general", reply.ts, "pushpin")
    [added] = inbox.take(slack)
    assert added["item"] == {"type": "message", "channel": slack.general.id, "ts": reply.ts}
    assert added["user"] == slack.user("carol") and added["item_user"] == slack.user("bob")
    assert reply.reactions == {"pushpin": [slack.user("carol")]}
    slack.pin("alice", "general", parent.ts)
    [pinned] = inbox.take(slack)
    assert pinned["item"]["message"]["ts"] == parent.ts and pinned["pin_count"] == 1
    assert parent.pinned
    slack.edit("bob", "general", reply.ts, "fixed <it>")
    [changed] = inbox.take(slack)
    assert changed["message"]["text"] == "fixed &lt;it&gt;"
    assert changed["message"]["edited"]["user"] == slack.user("bob")
    assert changed["previous_message"]["text"] == "on it"
    assert changed["message"]["thread_ts"] == parent.ts
    slack.delete("bob", "general", reply.ts)
    [deleted] = inbox.take(slack)
    assert deleted["deleted_ts"] == reply.ts
    assert deleted["previous_message"]["text"] == "fixed &lt;it&gt;"
    assert "reply_count" not in parent.as_api()


def test_events_only_as_subscribed_and_where_the_bot_is(slack, inbox):
    slack.subscribed = frozenset({"reaction_added", "message.groups"})
    message = slack.say("alice", "general", "public: message.channels is not subscribed")
    slack.react("bob", "general", message.ts, "eyes")
    slack.pin("bob", "general", message.ts)
    assert [e["type"] for e in inbox.take(slack)] == ["reaction_added"]
    people = {slack.user("alice"), slack.user("bob"), slack.ws.bot.id}
    private = slack.ws.add_channel("sev1", slack.user("alice"), is_private=True, members=people)
    slack.say("alice", "sev1", "private: message.groups")
    [event] = inbox.take(slack)
    assert event["channel_type"] == "group"
    slack.subscribed = EVERYTHING
    elsewhere = slack.ws.add_channel("random", slack.user("bob"), members=people - {"U0BOT"})
    said = slack.say("bob", "random", "the bot is not here")
    slack.react("alice", "random", said.ts, "eyes")
    slack.edit("bob", "random", said.ts, "still not")
    assert inbox.take(slack) == []
    assert private.messages and elsewhere.messages


def test_the_manifest_decides_by_default():
    """As today's tests run: manifest.yml's events; a person's post sends no event unless
    it subscribes to message.channels."""
    manifest = manifest_events()
    with Emulator() as slack:
        assert slack.subscribed == manifest
        box = Inbox()
        slack.app_url = box.url
        slack.say("alice", "general", "hello")
        assert [e["type"] for e in box.take(slack)] == (
            ["message"] if "message.channels" in manifest else []
        )
        box.server.shutdown()


def test_only_the_author_edits_or_deletes(slack):
    said = slack.say("alice", "general", "mine")
    with pytest.raises(Refused, match="cant_update_message"):
        slack.edit("bob", "general", said.ts, "yours now")
    with pytest.raises(Refused, match="cant_delete_message"):
        slack.delete("bob", "general", said.ts)
    with pytest.raises(Refused, match="message_not_found"):
        slack.delete("alice", "general", "1.000001")
    assert slack.messages("general")[-1].text == "mine"
    slack.delete("alice", "general", said.ts)
    assert said not in slack.messages("general")


def test_people_react_and_pin_as_slack_lets_them(slack):
    said = slack.say("alice", "general", "root cause found")
    slack.react("bob", "general", said.ts, "bulb")
    with pytest.raises(Refused, match="already_reacted"):
        slack.react("bob", "general", said.ts, "bulb")
    with pytest.raises(Refused, match="invalid_name"):
        slack.react("bob", "general", said.ts, ":bulb:")
    with pytest.raises(Refused, match="no_reaction"):
        slack.unreact("carol", "general", said.ts, "bulb")
    slack.pin("carol", "general", said.ts)
    with pytest.raises(Refused, match="already_pinned"):
        slack.pin("bob", "general", said.ts)
    slack.unpin("bob", "general", said.ts)
    with pytest.raises(Refused, match="not_pinned"):
        slack.unpin("bob", "general", said.ts)


def test_the_bots_own_reactions_and_pins(slack, inbox, api):
    said = slack.say("alice", "general", "keep me")
    inbox.take(slack)
    api.reactions_add(channel=slack.general.id, timestamp=said.ts, name="white_check_mark")
    refused = error_of(
        lambda: api.reactions_add(
            channel=slack.general.id, timestamp=said.ts, name="white_check_mark"
        )
    )
    assert refused["error"] == "already_reacted"
    for name, error in (("Check Mark", "invalid_name"), ("ok", "message_not_found")):
        ts = said.ts if error == "invalid_name" else "1.000001"
        refused = error_of(
            lambda n=name, t=ts: api.reactions_add(channel=slack.general.id, timestamp=t, name=n)
        )
        assert refused["error"] == error
    [added] = inbox.take(slack)
    assert added["type"] == "reaction_added" and added["user"] == slack.ws.bot.id
    assert said.reactions == {"white_check_mark": [slack.ws.bot.id]}
    got = api.reactions_get(channel=slack.general.id, timestamp=said.ts)
    assert got["message"]["reactions"] == [
        {"name": "white_check_mark", "users": [slack.ws.bot.id], "count": 1}
    ]
    api.reactions_remove(channel=slack.general.id, timestamp=said.ts, name="white_check_mark")
    refused = error_of(
        lambda: api.reactions_remove(channel=slack.general.id, timestamp=said.ts, name="ok")
    )
    assert refused["error"] == "no_reaction"
    assert [e["type"] for e in inbox.take(slack)] == ["reaction_removed"]

    api.pins_add(channel=slack.general.id, timestamp=said.ts)
    [pinned] = inbox.take(slack)
    assert pinned["type"] == "pin_added" and pinned["user"] == slack.ws.bot.id
    listed = api.pins_list(channel=slack.general.id)["items"]
    assert [i["message"]["ts"] for i in listed] == [said.ts]
    assert listed[0]["created_by"] == slack.ws.bot.id
    api.pins_remove(channel=slack.general.id, timestamp=said.ts)
    refused = error_of(lambda: api.pins_remove(channel=slack.general.id, timestamp=said.ts))
    assert refused["error"] == "not_pinned"
    assert [e["type"] for e in inbox.take(slack)] == ["pin_removed"]
    assert api.pins_list(channel=slack.general.id)["items"] == []


def test_the_bots_own_posts_edits_and_deletions_are_events_too(slack, inbox, api):
    parent = slack.say("alice", "general", "db down")
    inbox.take(slack)
    posted = api.chat_postMessage(channel=slack.general.id, text="kept", thread_ts=parent.ts)
    assert posted["message"]["thread_ts"] == parent.ts
    api.chat_update(channel=slack.general.id, ts=posted["ts"], text="kept (1)")
    api.chat_delete(channel=slack.general.id, ts=posted["ts"])
    events = inbox.take(slack)
    assert [(e.get("subtype"), e.get("bot_id")) for e in events[:1]] == [(None, "B0BOT")]
    assert [e.get("subtype") for e in events[1:]] == ["message_changed", "message_deleted"]
    assert parent.as_api().get("reply_count") is None
