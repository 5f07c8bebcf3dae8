"""`/timeline import` of a channel with more threads than Slack's tier reads in a minute: page 1
shows before every thread is read, the replies read later come on pages at the end, each once,
and the last page waits for them."""

from datetime import timedelta

import pytest

from tests.conftest import START, Clock, wait_for
from tests.test_timeline_import import choose, entries, options, page, start, told


@pytest.fixture
def clock():
    return Clock(START)  # stopped: Slack's rate window and the bot's waits move when told


@pytest.fixture
def tiers(slack, clock):
    """Slack's rate limiter on the test's clock: 50 calls a minute, the minute moved by hand."""
    slack.api.limiter.clock = lambda: clock().timestamp()
    return clock


def threaded(slack, channel, count, threads):
    """`count` messages 4 s apart (every 50th an alert), `threads` of them (spread evenly)
    with 3 replies each."""
    plain = count - 3 * threads
    posts = [
        (
            "app:Grafana" if i % 50 == 0 else ("bob", "carol")[i % 2],
            START + timedelta(minutes=1, seconds=4 * i),
            f"message {i}",
        )
        for i in range(plain)
    ]
    for t in range(threads):
        parent = t * (plain // threads)
        posts += [
            ("carol", posts[parent][1] + timedelta(seconds=1 + r), f"reply {t}.{r}", parent)
            for r in range(3)
        ]
    return slack.backfill(channel.name, posts)


def the_import(bot, slack, channel):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    row = bot.store._one(
        "SELECT id FROM imports WHERE team_id = ? AND incident_id = ? ORDER BY id DESC",
        [slack.ws.team_id, incident.id],
    )
    return bot.store.get_import(slack.ws.team_id, row["id"])


def intro(view):
    return view["blocks"][0]["text"]["text"]


def walk_to_the_end(slack, number, seen):
    """Submit each page from `number` on untouched with "next", adding it to `seen`, until
    the form waits for threads (returns that view) or closes (returns None)."""
    while True:
        view = page(slack, number=number)
        seen.append(view)
        reply = slack.submit("alice", {})
        assert reply.status == 200, reply.body
        if reply.body == "":
            return None
        assert reply.json["response_action"] == "update", reply.body
        shown = reply.json["view"]
        if "Still reading" in str(shown["blocks"]):
            return shown
        number += 1


def test_page_1_shows_before_the_threads_are_read_and_their_replies_come_once(
    slack, bot, channel, tiers
):
    made = threaded(slack, channel, 600, 70)  # 70 threads: more than a minute's 50
    start(slack, channel)
    first = page(slack)
    # 45 threads read before page 1 (room left in the minute), 25 still to read
    assert "*25 thread(s) are still being read*" in intro(first)
    assert "*Page 1 of" in intro(first) and "+*" in intro(first)
    # the reader reads 5 more in this minute, then Slack says 429 and it waits for the clock
    wait_for(lambda: the_import(bot, slack, channel).threads_left == 20, what="20 left")
    seen = []
    waiting = walk_to_the_end(slack, 1, seen)
    assert waiting is not None, "the last page finished the import while threads were read"
    assert "*20 thread(s)*" in str(waiting["blocks"])
    assert entries(slack, bot, channel) == []  # nothing kept while threads are being read
    again = slack.submit("alice", {})  # "Check now": still reading
    assert "Still reading" in again.text and the_import(bot, slack, channel).status == "waiting"
    number = the_import(bot, slack, channel).page
    tiers.now += timedelta(seconds=61)  # Slack's minute is over; the reader goes on
    later = page(slack, number=number)  # the bot updates the waiting form itself
    assert "Thread replies read later" in intro(later)
    assert walk_to_the_end(slack, number, seen) is None  # all read: the last page keeps
    values = [value for view in seen for value, *_ in options(view)]
    texts = [text for view in seen for _, text, _, _ in options(view)]
    assert len(values) == len(set(values)) == len(made) == 600
    replies = [m.text for m in made if m.text.startswith("reply ")]
    assert len(replies) == 210
    for reply in replies:
        assert sum(text.endswith(f": {reply}") for text in texts) == 1, reply
    preselected = sum(pre for view in seen for *_, pre in options(view))
    wait_for(lambda: len(entries(slack, bot, channel)) == preselected, timeout=30, what="kept")


def test_threads_slack_will_not_give_are_named_and_the_rest_is_kept(slack, bot, channel, tiers):
    threaded(slack, channel, 300, 60)
    start(slack, channel)
    assert "*15 thread(s) are still being read*" in intro(page(slack))
    wait_for(lambda: the_import(bot, slack, channel).threads_left == 10, what="10 left")
    slack.fail("conversations.replies", "internal_error")
    tiers.now += timedelta(seconds=61)
    wait_for(lambda: the_import(bot, slack, channel).threads_left == 0, what="given up")
    state = the_import(bot, slack, channel)
    assert state.threads_unread == 10 and "`internal_error`" in state.unread_why
    seen = []
    assert walk_to_the_end(slack, 1, seen) is None  # nothing left to wait for: the last keeps
    assert "*10 thread(s) were not read* (Slack said `internal_error`)" in intro(seen[-1])
    assert "Thread replies read later" in intro(seen[-1])  # the 5 read after page 1
    words = told(slack, "alice", "Kept").text
    assert "10 thread(s) were not read" in words


def test_the_last_page_waits_then_keeps_when_no_reply_is_worth_proposing(
    slack, bot, channel, tiers
):
    posts = [("bob", START + timedelta(minutes=1, seconds=i), f"message {i}") for i in range(60)]
    posts += [("carol", START + timedelta(minutes=2, seconds=i), "", i) for i in range(60)]
    made = slack.backfill(channel.name, posts)
    for reply in made[60:]:
        reply.extra = {"subtype": "channel_join"}  # nothing worth proposing in the threads
    start(slack, channel)
    first = page(slack)
    assert "*15 thread(s) are still being read*" in intro(first)
    reply = slack.submit("alice", choose(first, ["message"]))  # the last page: it waits
    assert "Still reading" in reply.text and entries(slack, bot, channel) == []
    tiers.now += timedelta(seconds=61)
    wait_for(
        lambda: "Kept 60 of the 60" in str((slack.modal("alice", wait=0) or {}).get("blocks")),
        timeout=15,
        what="the form says what was kept",
    )
    told(slack, "alice", "Kept 60 of the 60")
    assert the_import(bot, slack, channel).status == "done"
    assert len(entries(slack, bot, channel)) == 60
