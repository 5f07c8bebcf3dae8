"""`/timeline import`: the commander reviews the channel's history in a modal, page by page, and
keeps what is ticked with its own time and author; the milestones suggested are marked."""

from datetime import timedelta

import pytest

from bot.models import Milestone
from tests.conftest import START, wait_for
from tests.test_kept_messages import PAGERDUTY


def at(minutes):
    return START + timedelta(minutes=minutes)


def page(slack, who="alice", number=1):
    """The import form `who` has open, once it shows page `number`."""

    def shown():
        view = slack.modal(who, wait=0)
        is_page = view and view.get("callback_id") == "timeline_import"
        return view if is_page and f"*Page {number} of" in str(view["blocks"][0]) else None

    return wait_for(shown, timeout=30, what=f"page {number} of the import form")


def options(view):
    """(value, text, description, pre-selected) of every proposal on a page, in order."""
    found = []
    for block in view["blocks"]:
        element = block.get("element") or {}
        if element.get("type") != "checkboxes":
            continue
        ticked = {o["value"] for o in element.get("initial_options", [])}
        for o in element["options"]:
            text = o["text"]["text"]
            found.append(
                (
                    o["value"],
                    text,
                    (o.get("description") or {}).get("text", ""),
                    o["value"] in ticked,
                )
            )
    return found


def texts(view):
    return [text for _, text, _, _ in options(view)]


def boxes(view):
    return [
        b["block_id"]
        for b in view["blocks"]
        if (b.get("element") or {}).get("type") == "checkboxes"
    ]


def choose(view, wanted):
    """The submission's values: on each checkboxes block, the options whose text has one of
    `wanted` (an empty list unticks everything)."""
    values = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        if element.get("type") == "checkboxes":
            values[block["block_id"]] = [
                o["value"]
                for o in element["options"]
                if any(w in o["text"]["text"] for w in wanted)
            ]
    return values


def showing(slack, view, who="alice"):
    """Slack shows `view` on top of `who`'s modals again (an earlier page, as another of their
    Slack clients may still show it)."""
    slack.api.views[view["id"]] = view
    stack = slack.api.open_views[slack.user(who)]
    if view["id"] not in stack:
        stack.append(view["id"])


def resubmit(slack, view, values, who="alice"):
    showing(slack, view, who)
    return slack.submit(who, values)


def entries(slack, bot, channel):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    return [e for e in bot.store.entries(slack.ws.team_id, incident.id) if e.source == "message"]


def told(slack, who, words):
    return wait_for(
        lambda: next((e for e in slack.ephemerals(who) if words in e.text), None),
        timeout=15,
        what=f"{who} told “{words}”",
    )


def summaries(channel):
    return [m for m in channel.messages if "with their own times and authors" in m.text]


def start(slack, channel, who="alice"):
    reply = slack.command(who, "/timeline", "import", channel.name)
    assert reply.status == 200, reply.body
    return reply


@pytest.fixture
def history(slack, channel):
    """A morning in the incident channel: people, an alert, a join, a thread."""
    made = slack.backfill(
        channel.name,
        [
            ("app:PagerDuty", at(1), ""),  # 0: an alert with attachments only (set below)
            ("bob", at(2), "anyone seeing 5xx on checkout?"),  # 1
            ("carol", at(3), "joined"),  # 2: a join notice (subtype below)
            ("bob", at(5), "investigating the checkout pods"),  # 3
            ("carol", at(8), "Root cause: the DB pool is exhausted\nsee graph"),  # 4
            ("bob", at(9), "lunch?"),  # 5
            ("carol", at(10), "bumping the pool size", 4),  # 6: a reply in 4's thread
            ("bob", at(12), "deployed the fix to prod"),  # 7
            ("carol", at(14), "all resolved, error rate is back to normal"),  # 8
        ],
    )
    made[0].attachments = PAGERDUTY
    made[2].extra = {"subtype": "channel_join"}
    return made


def test_proposals_leave_out_notices_and_the_bots_own_and_tick_alerts_and_milestones(
    slack, bot, channel, history
):
    start(slack, channel)
    view = page(slack)
    shown = {
        text.split(": ", 1)[1] if ": " in text else text: (d, pre)
        for _, text, d, pre in options(view)
    }
    assert "joined" not in shown  # a join notice
    assert not any("hotfix-001" in t for t in texts(view))  # the bot's kick-off and others
    alert = next(k for k in shown if k.startswith("[Triggered] #4521 checkout 5xx &gt; 5% (https"))
    assert shown[alert] == ("Marks: First detection", True)  # "triggered": a detection word
    assert shown["anyone seeing 5xx on checkout?"] == ("", False)
    assert shown["investigating the checkout pods"] == ("Marks: Investigation started", True)
    assert shown["Root cause: the DB pool is exhausted"] == ("Marks: Root cause identified", True)
    assert shown["lunch?"] == ("", False)
    assert shown["bumping the pool size"] == ("", False)
    # "deployed" comes before "fix": the first milestone word is the one suggested
    assert shown["deployed the fix to prod"] == ("Marks: Fix deployed", True)
    resolved = shown["all resolved, error rate is back to normal"]
    assert resolved[1] and "commands close incidents" in resolved[0]
    assert texts(view)[0].startswith("15:31 PagerDuty: [Triggered]")
    assert "15:32 Bob Example: anyone seeing 5xx on checkout?" in texts(view)
    assert view["blocks"][1] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Thu 26 Nov, 15:00 UTC"},
    }
    assert slack.problems == []


def test_some_accepted_are_kept_with_their_own_times_authors_and_milestones(
    slack, bot, channel, history
):
    start(slack, channel)
    view = page(slack)
    reply = slack.submit(
        "alice", choose(view, ["Root cause", "deployed the fix", "all resolved", "PagerDuty"])
    )
    assert reply.status == 200 and reply.body == "", reply.body  # the last page: the form closes
    wait_for(lambda: len(entries(slack, bot, channel)) == 4, what="four entries")
    kept = {e.text.split("\n")[0]: e for e in entries(slack, bot, channel)}
    root = kept["Root cause: the DB pool is exhausted"]
    assert root.milestone is Milestone.ROOT_CAUSE and root.at == at(8)
    assert root.author_id == slack.user("carol") and root.kept_by == slack.user("alice")
    assert kept["deployed the fix to prod"].milestone is Milestone.DEPLOYED
    assert kept["all resolved, error rate is back to normal"].milestone is None  # a command closes
    alert = next(e for t, e in kept.items() if t.startswith("[Triggered] #4521 checkout 5xx > 5%"))
    assert alert.author_id == history[0].bot_id and alert.at == at(1)
    wait_for(lambda: summaries(channel), what="the summary")
    told(slack, "alice", "Kept 4 of the 4 message(s) you chose")
    bot.settle()
    assert len(summaries(channel)) == 1
    assert (
        "3 marked: First detection, Root cause identified, Fix deployed"
        in summaries(channel)[0].text
    )


def test_the_preselected_ones_are_kept_as_they_are(slack, bot, channel, history):
    start(slack, channel)
    page(slack)
    slack.submit("alice", {})  # untouched: what was ticked in advance
    wait_for(lambda: len(entries(slack, bot, channel)) == 5, what="five entries")
    milestones = sorted(e.milestone.value for e in entries(slack, bot, channel) if e.milestone)
    assert milestones == ["deployed", "detected", "investigating", "root-cause"]


def test_none_accepted_keeps_nothing_and_posts_nothing(slack, bot, channel, history):
    start(slack, channel)
    slack.submit("alice", choose(page(slack), []))
    told(slack, "alice", "Nothing was kept")
    bot.settle()
    assert entries(slack, bot, channel) == [] and summaries(channel) == []


def test_thread_replies_are_proposed_and_kept(slack, bot, channel, history):
    start(slack, channel)
    view = page(slack)
    assert "↳ 15:40 Carol Example: bumping the pool size" in texts(view)
    slack.submit("alice", choose(view, ["bumping the pool"]))
    entry = wait_for(lambda: entries(slack, bot, channel), what="the entry")[0]
    assert entry.text == "bumping the pool size" and entry.at == at(10)


def test_what_is_in_the_timeline_already_is_left_out(slack, bot, channel, history):
    slack.shortcut("alice", "add_to_timeline", channel.name, history[4])
    wait_for(lambda: entries(slack, bot, channel), what="the kept message")
    slack.command("alice", "/timeline", "detected: checkout 5xx", channel.name)
    bot.settle()
    start(slack, channel)
    shown = texts(page(slack))
    assert not any("Root cause" in t for t in shown)  # kept already
    assert not any("checkout 5xx" in t and "alice" in t for t in shown)  # the echo of an entry
    assert any("lunch?" in t for t in shown)
    # a milestone the timeline has is not suggested again
    assert ("Says “root-cause”" not in str(page(slack))) and "Marks: First detection" not in str(
        page(slack)
    )


def test_someone_not_commanding_is_told_who_commands(slack, bot, channel, history):
    slack.join("bob", channel.name)
    reply = start(slack, channel, "bob")
    assert f"<@{slack.user('alice')}> commands hotfix-001" in reply.text
    assert slack.modal("bob", wait=0.3) is None


def test_a_form_submitted_by_someone_else_or_after_a_handover_keeps_nothing(
    slack, bot, channel, history
):
    slack.join("bob", channel.name)
    start(slack, channel)
    view = page(slack)
    reply = slack.submit("bob", choose(view, ["lunch"]), forged_from="alice")
    assert reply.json["response_action"] == "errors" and "commands hotfix-001" in str(reply.json)
    slack.command("alice", "/incident", "commander @bob", channel.name)
    bot.settle()
    reply = slack.submit("alice", choose(view, ["lunch"]))
    assert reply.json["response_action"] == "errors"
    bot.settle()
    assert entries(slack, bot, channel) == []


def long_channel(slack, channel, count, threads=0):
    """`count` messages a few seconds apart (every 50th an alert), and `threads` threads of
    3 replies each."""
    posts = [
        (
            "app:Grafana" if i % 50 == 0 else ("bob", "carol")[i % 2],
            at(1) + timedelta(seconds=4 * i),
            f"message {i} {'x' * (i % 40)}".rstrip(),
        )
        for i in range(count - 3 * threads)
    ]
    for t in range(threads):
        parent = t * (len(posts) // max(threads, 1))
        posts += [
            ("carol", posts[parent][1] + timedelta(seconds=1 + r), f"reply {t}.{r}", parent)
            for r in range(3)
        ]
    return slack.backfill(channel.name, posts)


def walk(slack, who="alice"):
    """Every page in turn, submitted untouched with "next"; the options of each."""
    seen = []
    number = 1
    while True:
        view = page(slack, who, number)
        seen.append(options(view))
        last = not any(b.get("block_id") == "then" for b in view["blocks"])
        reply = slack.submit(who, {})
        assert reply.status == 200, reply.body
        if last:
            return seen
        assert reply.json["response_action"] == "update", reply.body
        number += 1


def test_a_2000_message_channel_is_proposed_across_pages_each_message_once(slack, bot, channel):
    made = long_channel(slack, channel, 2000, threads=20)
    start(slack, channel)
    pages = walk(slack)
    assert len(pages) > 1
    shown = [text for options_ in pages for _, text, _, _ in options_]
    values = [value for options_ in pages for value, _, _, _ in options_]
    assert len(values) == len(set(values)) == len(made) == 2000
    missing = [m.text for m in made if not any(m.text in t for t in shown)]
    assert missing == [], shown[:5]
    assert slack.problems == []
    preselected = sum(pre for options_ in pages for *_, pre in options_)
    wait_for(
        lambda: len(entries(slack, bot, channel)) == preselected, timeout=60, what="the entries"
    )


def test_a_long_channel_the_rest_preselected_at_once(slack, bot, channel):
    long_channel(slack, channel, 600)
    start(slack, channel)
    first = page(slack)
    assert any(b.get("block_id") == "then" for b in first["blocks"])
    reply = slack.submit("alice", {**choose(first, ["message 1 "]), "then": "rest"})
    assert reply.body == ""  # done: the form closes
    alerts = 600 // 50  # the Grafana alerts are pre-selected; on page 1 only "message 1 " kept
    on_first = sum(pre for *_, pre in options(first))
    wait_for(
        lambda: len(entries(slack, bot, channel)) == 1 + alerts - on_first,
        timeout=30,
        what="entries",
    )


def test_stop_keeps_this_page_and_nothing_later(slack, bot, channel):
    long_channel(slack, channel, 600)
    start(slack, channel)
    slack.submit("alice", {**choose(page(slack), ["message 1 "]), "then": "stop"})
    told(slack, "alice", "Kept 1 of the 1")
    assert [e.text for e in entries(slack, bot, channel)] == ["message 1 x"]


def test_a_page_submitted_twice_or_again_later_keeps_nothing_twice(slack, bot, channel):
    long_channel(slack, channel, 600)
    start(slack, channel)
    first = page(slack)
    reply = slack.submit("alice", choose(first, ["message 1 ", "message 3 "]), times=2)
    assert reply.json["response_action"] == "update"
    assert "*Page 2 of" in str(slack.modal("alice")["blocks"][0])
    second = page(slack, number=2)
    again = resubmit(slack, first, choose(first, ["message 5 "]))  # page 1 once more, later
    assert again.json["response_action"] == "update" and "*Page 2 of" in again.text
    showing(slack, second)
    slack.submit("alice", {**choose(second, []), "then": "stop"})
    told(slack, "alice", "Kept 2 of the 2")
    late = resubmit(slack, second, {**choose(second, ["message 300"]), "then": "rest"})
    assert late.json["response_action"] == "errors" and "out of date" in late.text
    bot.settle()
    assert sorted(e.text for e in entries(slack, bot, channel)) == ["message 1 x", "message 3 xxx"]
    assert len(summaries(channel)) == 1


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope"])
def test_history_refused_reaches_the_commander(slack, bot, channel, history, error):
    slack.fail("conversations.history", error)
    start(slack, channel)
    words = told(slack, "alice", "could not read the channel's history").text
    assert f"`{error}`" in words and "Nothing was kept" in words
    assert "could not read" in str(slack.modal("alice")["blocks"])


def test_rate_limits_are_waited_out(slack, bot, channel, history):
    slack.fail("conversations.history", "ratelimited", status=429, retry_after=1, times=2)
    start(slack, channel)
    assert "lunch?" in str(page(slack))


def test_rate_limits_that_last_reach_the_commander(slack, bot, channel, history):
    slack.fail("conversations.history", "ratelimited", status=429, retry_after=1, times=4)
    start(slack, channel)
    assert "slow down" in told(slack, "alice", "could not read").text


def test_a_form_slack_will_not_update_reaches_the_commander(slack, bot, channel, history):
    slack.fail("views.update", "not_found")
    start(slack, channel)
    assert "`not_found`" in told(slack, "alice", "the form could not show them").text
