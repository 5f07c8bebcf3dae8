"""Adversarial review of issue 14's `/timeline import`: each test is an attack through signed
requests and the emulator. The ones that fail name a defect; the ones that pass held."""

import re
from datetime import timedelta

from bot.slack.import_blocks import OPTION_TEXT
from tests.conftest import wait_for
from tests.test_timeline_import import (
    at,
    choose,
    entries,
    page,
    start,
    summaries,
    texts,
    told,
    walk,
)

BROKEN_ESCAPE = re.compile(r"&(?!amp;|lt;|gt;)")


def test_a_message_deleted_while_the_form_is_open_is_not_kept(slack, bot, channel):
    """Proposals are stored with their words when read (bot/store/imports.py); the message
    deleted in Slack before the commander submits is kept anyway (import_commands.py _keep
    keeps `proposal.text` unread again), so the post-mortem quotes what was retracted."""
    made = slack.backfill(
        channel.name,
        [
            ("bob", at(2), "root cause: the intern's deploy"),
            ("carol", at(3), "deployed the fix to prod"),
        ],
    )
    start(slack, channel)
    view = page(slack)
    slack.join("bob", channel.name)
    slack.delete("bob", channel.name, made[0].ts)
    bot.settle()
    slack.submit("alice", choose(view, ["intern", "deployed"]))
    told(slack, "alice", "Kept")
    assert not any("intern" in e.text for e in entries(slack, bot, channel))


def test_a_message_edited_while_the_form_is_open_is_kept_as_it_says_now(slack, bot, channel):
    """The same stale words, for an edit between the form and its submission."""
    made = slack.backfill(channel.name, [("bob", at(2), "root cause: the intern's deploy")])
    start(slack, channel)
    view = page(slack)
    slack.join("bob", channel.name)
    slack.edit("bob", channel.name, made[0].ts, "root cause: a config push")
    bot.settle()
    slack.submit("alice", choose(view, ["intern"]))
    told(slack, "alice", "Kept")
    assert [e.text for e in entries(slack, bot, channel)] == ["root cause: a config push"]


def test_a_message_kept_by_a_reaction_while_the_form_is_open_is_kept_once(slack, bot, channel):
    made = slack.backfill(channel.name, [("bob", at(2), "failover done")])
    start(slack, channel)
    view = page(slack)
    slack.react("carol", channel.name, made[0].ts, "pushpin")
    bot.settle()
    slack.submit("alice", choose(view, ["failover"]))
    told(slack, "alice", "Nothing was kept")
    assert [e.text for e in entries(slack, bot, channel)] == ["failover done"]


def test_the_channel_archived_mid_import_still_answers_the_commander(slack, bot, channel):
    slack.backfill(channel.name, [("bob", at(2), "deployed the fix to prod")])
    start(slack, channel)
    view = page(slack)
    slack.archive(channel.name)
    slack.submit("alice", choose(view, ["deployed"]))
    wait_for(lambda: len(entries(slack, bot, channel)) == 1, what="the entry")
    bot.settle()
    dms = [m.text for m in slack.ws.im(slack.user("alice")).messages]
    heard = [e.text for e in slack.ephemerals("alice")] + dms
    assert any("Kept 1" in t or "kept 1" in t for t in heard), heard
    slack.problems.clear()  # Slack refused the posts to the archived channel: that is the test


def test_the_incident_resolved_mid_import_keeps_what_was_chosen(slack, bot, channel):
    slack.backfill(channel.name, [("bob", at(2), "deployed the fix to prod")])
    start(slack, channel)
    view = page(slack)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    slack.submit("alice", choose(view, ["deployed"]))
    told(slack, "alice", "Kept 1 of the 1")


def test_hostile_words_in_proposals_stay_within_block_kit_and_harmless(slack, bot, channel):
    long_amp = "a" * 50 + " & " + "<b>" * 5  # an escape lands on the 75-character cut
    family = "x" * 55 + "👨\u200d👩\u200d👧\u200d👦" * 4  # a ZWJ family on the cut
    slack.backfill(
        channel.name,
        [
            ("bob", at(2), long_amp),
            ("bob", at(3), family),
            ("bob", at(4), "@channel <!here> look \u202egnp.exe"),
            ("bob", at(5), "*bold* _it_ ~gone~ `code` ```block```"),
        ],
    )
    start(slack, channel)
    view = page(slack)
    shown = texts(view)
    assert len(shown) == 4
    for text in shown:
        assert len(text) <= OPTION_TEXT
        assert not BROKEN_ESCAPE.search(text), text
        assert "<!" not in text and "<@" not in text
    assert "\u200d👦" in shown[1] or shown[1].endswith("…"), shown[1]
    assert not any(c in "".join(shown) for c in "\u202a\u202b\u202c\u202d\u202e"), (
        "a bidi override shown in the form (option() escapes but keeps controls)"
    )


def test_2000_messages_in_one_hour_are_proposed_each_once(slack, bot, channel):
    posts = [
        (("bob", "carol")[i % 2], at(0) + timedelta(seconds=1.7 * i + 1), f"m{i} status")
        for i in range(2000)
    ]
    slack.backfill(channel.name, posts)
    start(slack, channel)
    pages = walk(slack)
    values = [value for options_ in pages for value, *_ in options_]
    assert len(values) == len(set(values)) == 2000


def test_a_message_with_files_and_no_text_is_proposed(slack, bot, channel):
    made = slack.backfill(channel.name, [("bob", at(2), "")])
    made[0].files = [
        {
            "id": "F0HEAP",
            "name": "heap.png",
            "title": "heap dump at 15:32",
            "permalink": "https://acme.slack.com/files/U1/F0HEAP/heap.png",
        }
    ]
    made[0].extra = {"subtype": "file_share"}
    start(slack, channel)
    view = page(slack)
    assert any("heap dump at 15:32" in t for t in texts(view))
    slack.submit("alice", choose(view, ["heap dump"]))
    entry = wait_for(lambda: entries(slack, bot, channel), what="the entry")[0]
    assert "heap dump at 15:32" in entry.text


def test_replies_of_a_deleted_parent_are_proposed_and_its_tombstone_is_not(slack, bot, channel):
    made = slack.backfill(
        channel.name,
        [
            ("bob", at(2), "This message was deleted."),
            ("carol", at(3), "the replica is 40 min behind", 0),
        ],
    )
    made[0].extra = {"subtype": "tombstone", "hidden": True}
    start(slack, channel)
    shown = texts(page(slack))
    assert any("replica is 40 min behind" in t for t in shown)
    assert not any("was deleted" in t for t in shown)


def test_thread_replies_refused_are_named_and_the_rest_proposed(slack, bot, channel):
    slack.backfill(
        channel.name,
        [("bob", at(2), "checkout down"), ("carol", at(3), "it's the pool", 0)],
    )
    slack.fail("conversations.replies", "internal_error", times=5)
    start(slack, channel)
    view = page(slack)
    assert any("checkout down" in t for t in texts(view))
    assert "not read" in str(view["blocks"][0])


def test_a_second_import_while_the_first_reads_keeps_each_message_once(slack, bot, channel):
    """Each message kept once (held); but the first import, replaced while it read, returns
    when save_proposals refuses (bot/slack/import_commands.py handle_import, "a newer
    `/timeline import` replaced this one") and leaves its form saying "Reading…" for ever
    (the emulator stacks the two modals; closing the second shows the first)."""
    slack.backfill(channel.name, [("bob", at(2), "deployed the fix to prod")])
    slack.fail("conversations.history", "ratelimited", status=429, retry_after=1, times=1)
    start(slack, channel)
    start(slack, channel)  # while the first waits out its 429
    view = wait_for(
        lambda: next(
            (
                slack.api.views[v]
                for v in slack.api.open_views[slack.user("alice")]
                if "*Page 1 of" in str(slack.api.views[v]["blocks"][0])
            ),
            None,
        ),
        timeout=15,
        what="a page 1",
    )
    stack = slack.api.open_views[slack.user("alice")]
    stack.remove(view["id"])
    stack.append(view["id"])
    slack.submit("alice", choose(view, ["deployed"]))
    wait_for(lambda: entries(slack, bot, channel), what="the entry")
    bot.settle()
    assert len(entries(slack, bot, channel)) == 1 and len(summaries(channel)) == 1
    # the other form: it must not say "Reading…" for ever
    others = [slack.api.views[v] for v in slack.api.open_views[slack.user("alice")]]
    assert not any("Reading" in str(v["blocks"]) for v in others), (
        "a replaced import's form says it is reading, for ever"
    )
