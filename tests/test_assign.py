"""Sections given to people (issue 17, "their part"): `/incident assign`, the checklist's
menus, and each person's deadline reminder listing theirs first, through the real app, the
sandbox Slack and the reminder sender (fired by hand on a stopped clock)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Clock, wait_for
from tests.test_incident_commands import open_incident
from tests.test_security_grid import checklist

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 28, 16, 25, tzinfo=UTC)  # of written_but_the_sections: 48 h
SECTIONS = (
    "`summary`, `description`, `impact`, `root_cause`, `contributing`, `five_whys`, "
    "`went_well`, `went_wrong`, `prevention`, `lessons`, `acknowledgments`, `references`"
)


@pytest.fixture
def clock():
    """Stopped: the scheduler does not run, and each reminder is fired when a test says."""
    return Clock(T0)


def resolved(slack, bot, clock, text="start Checkout API returning 500s sev2"):
    """hotfix-001 opened by alice at T0, resolved an hour later; alice and bob own its
    post-mortem."""
    channel = open_incident(slack, text=text)
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "owner @alice @bob", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    return channel


def line(channel, key):
    """A section's line in the checklist, as it is now."""
    block = next(b for b in checklist(channel).blocks if b.get("block_id") == f"section-{key}")
    return block["text"]["text"]


def menus_of(message):
    return next(b for b in message.blocks if b.get("block_id", "").startswith("assign-"))


def given(bot):
    return bot.store.db.execute(
        "SELECT section, user_id, assigned_by FROM section_assignments ORDER BY section"
    ).fetchall()


def said(reply):
    return reply.json.get("text", "")


def ids(slack):
    return {name: slack.user(name) for name in ("alice", "bob", "carol")}


# --- /incident assign ------------------------------------------------------------------------


def test_a_section_is_given_taken_back_and_listed(slack, bot, clock):
    channel = resolved(slack, bot, clock)
    u = ids(slack)
    reply = slack.command("alice", "/incident", "assign root_cause @carol", channel.name)
    assert reply.json["response_type"] == "in_channel"
    assert said(reply) == (
        f":memo: *Technical Root Cause* of hotfix-001 is <@{u['carol']}>'s to write "
        f"(given by <@{u['alice']}>)."
    )
    # a unique beginning of a key, words of a title, any case
    slack.command("bob", "/incident", "assign Five Whys @bob", channel.name)
    reply = slack.command("alice", "/incident", "assign ROOT @bob", channel.name)
    assert said(reply).endswith(f"(given by <@{u['alice']}>; it was <@{u['carol']}>'s).")
    assert given(bot) == [("five_whys", u["bob"], u["bob"]), ("root_cause", u["bob"], u["alice"])]
    again = slack.command("carol", "/incident", "assign root_cause @bob", channel.name)
    assert again.json["response_type"] == "ephemeral" and "already; nothing changed" in said(again)
    bot.settle()

    assert line(channel, "root_cause").endswith(f"— empty · <@{u['bob']}>'s")
    assert line(channel, "summary").endswith("— empty")

    listing = json.dumps(slack.command("carol", "/incident", "assign", channel.name).json)
    assert listing.index("Technical Root Cause") < listing.index("Five Whys Analysis")
    assert f"`root_cause` \\u2014 <@{u['bob']}>, still empty (given by <@{u['alice']}>" in listing
    assert "2026-11-26 16:30 UTC" in listing  # when, on the workflow's clock
    assert f"post-mortem owners' (<@{u['alice']}>, <@{u['bob']}>)" in listing

    status = json.dumps(slack.command("carol", "/incident", "status", channel.name).json)
    assert "Sections given to people" in status and f"Five Whys Analysis: <@{u['bob']}>" in status

    # bob's next section is his own, from the command and from a reminder's button
    slack.command("bob", "/incident", "write", channel.name)
    assert slack.modal("bob")["title"]["text"] == "Technical Root Cause"

    reply = slack.command("bob", "/incident", "assign root_cause nobody", channel.name)
    assert said(reply) == (
        f":memo: *Technical Root Cause* of hotfix-001 is no longer <@{u['bob']}>'s: the "
        f"post-mortem owners write it (taken back by <@{u['bob']}>)."
    )
    bot.settle()
    assert given(bot) == [("five_whys", u["bob"], u["bob"])]
    assert line(channel, "root_cause").endswith("— empty")


@pytest.mark.parametrize(
    "typed, answer",
    [
        ("assign root_cause", "Give the section and who writes it: `/incident assign root_cause"),
        ("assign @carol", "Give the section and who writes it"),
        ("assign poetry @carol", f"There is no section `poetry`. Sections: {SECTIONS}"),
        ("assign what @carol", "`what` could be `description`, `went_well`, `went_wrong`"),
        ("assign root_cause @dave", "`@dave` is text, not a person: pick them from Slack's @ menu"),
        ("assign root_cause carol", "`carol` is not a person. End with whoever writes the section"),
    ],
)
def test_bad_input_says_what_was_wrong_and_what_to_type(slack, bot, clock, typed, answer):
    channel = resolved(slack, bot, clock)
    reply = slack.command("alice", "/incident", typed, channel.name)
    assert reply.json["response_type"] == "ephemeral"
    assert answer in said(reply), said(reply)
    assert given(bot) == []


def test_outside_the_incident_channel_nothing_is_given(slack, bot, clock):
    resolved(slack, bot, clock)
    reply = slack.command("alice", "/incident", "assign root_cause @carol", "general")
    assert reply.json["response_type"] == "ephemeral" and "incident channel" in said(reply)
    assert given(bot) == []


def test_someone_given_a_section_of_a_private_incident_is_invited_to_its_channel(slack, bot, clock):
    channel = resolved(slack, bot, clock, "start --private vault sealed sev1")
    assert slack.user("carol") not in channel.members
    slack.command("alice", "/incident", "assign root_cause @carol", channel.name)
    bot.settle()
    assert slack.user("carol") in channel.members
    wait_for(lambda: bot.store.is_member(slack.ws.team_id, channel.id, slack.user("carol")))
    # in it, she may write what is hers, and her reminder reaches her
    slack.command("carol", "/incident", "write", channel.name)
    assert slack.modal("carol")["title"]["text"] == "Technical Root Cause"
    fire(bot, clock, "before:86400")
    assert [m.text for m in dms(slack, "carol")] == ["The hotfix-001 post-mortem is due soon"]


# --- the checklist's menus -------------------------------------------------------------------


def test_the_checklist_gives_a_section_picked_in_either_order(slack, bot, clock):
    channel = resolved(slack, bot, clock)
    u = ids(slack)
    shown = checklist(channel)
    before = menus_of(shown)["block_id"]
    # the person first, then the section: the second choice gives it
    slack.choose("bob", shown, "assign_person", u["carol"])
    bot.settle()
    assert given(bot) == []
    slack.choose("bob", shown, "assign_section", "impact", {"assign_person": u["carol"]})
    bot.settle()
    assert given(bot) == [("impact", u["carol"], u["bob"])]
    assert any(
        m.text == f":memo: *Impact Analysis* of hotfix-001 is <@{u['carol']}>'s to write "
        f"(given by <@{u['bob']}>)."
        for m in channel.messages
    )
    assert line(channel, "impact").endswith(f"<@{u['carol']}>'s")
    options = [o["value"] for o in menus_of(shown)["elements"][0]["options"]]
    assert "impact" in options and "summary" in options, "each section nobody has written"
    assert menus_of(shown)["block_id"] != before, "a new block_id: Slack shows the menus empty"


def test_a_checklist_pick_by_someone_not_in_the_channel_is_refused(slack, bot, clock):
    channel = resolved(slack, bot, clock)
    u = ids(slack)
    assert u["carol"] not in channel.members  # a public channel she reads without joining
    shown = checklist(channel)
    slack.choose("carol", shown, "assign_section", "summary")
    slack.choose("carol", shown, "assign_person", u["carol"], {"assign_section": "summary"})
    bot.settle()
    assert given(bot) == []
    told = [e.text for e in slack.ephemerals("carol")]
    assert told == [
        ":warning: Only people in the incident channel can give the hotfix-001 post-mortem's "
        "sections to people; nothing was changed."
    ]
    assert line(channel, "summary").endswith("— empty")
    # once she is in it, the same pick gives it
    slack.join("carol", channel.name)
    bot.settle()
    slack.choose("carol", shown, "assign_person", u["carol"], {"assign_section": "summary"})
    bot.settle()
    assert given(bot) == [("summary", u["carol"], u["carol"])]


def test_a_crafted_pick_on_a_private_incidents_checklist_is_refused(slack, bot, clock):
    channel = resolved(slack, bot, clock, "start --private vault sealed sev1")
    slack.ws.add_user("mallory")
    shown = checklist(channel)
    slack.choose("mallory", shown, "assign_person", slack.user("mallory"))
    slack.choose(
        "mallory", shown, "assign_section", "summary", {"assign_person": slack.user("mallory")}
    )
    bot.settle()
    assert given(bot) == []
    assert slack.user("mallory") not in channel.members
    told = [e.text for e in slack.ephemerals("mallory")]
    assert told and all("cannot see" in t and "vault" not in t for t in told), told


# --- reminders: each person's part first -----------------------------------------------------


def dms(slack, who):
    """The deadline reminders `who` got (not an action item's DMs)."""
    return [m for m in slack.ws.im(slack.user(who)).messages if "post-mortem is" in m.text]


def fire(bot, clock, key):
    """Fire the reminder whose key begins with `key` at its due time; what it scheduled next."""
    (row,) = bot.store.db.execute(
        "SELECT id, due_at FROM reminders WHERE key LIKE ?", [key + "%"]
    ).fetchall()
    clock.now = datetime.fromisoformat(row[1])
    planned = bot.sender.fire(row[0])
    bot.settle()
    return planned


def written_but_the_sections(slack, bot, clock):
    """hotfix-001 with its timeline complete, an action item with owner and due date, and
    summary, description and acknowledgments written: its open points are the nine sections
    nobody has written yet."""
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    for typed in (
        "15:35 detected: PagerDuty alert on checkout 5xx",
        "15:40 investigating: deploy log",
        "16:05 root-cause: bad config push",
        "16:10 fix: revert the config",
        "16:20 deployed: rollback to v41",
        "16:24 verified: error rate back to normal",
    ):
        slack.command("alice", "/timeline", typed, channel.name)
    slack.command("alice", "/incident", "owner @alice @bob", channel.name)
    slack.command("alice", "/incident", "resolve 16:25", channel.name)
    slack.command("alice", "/timeline", "16:26 monitoring: dashboards", channel.name)
    slack.command("alice", "/incident", "action Alert on 5xx @bob due 2026-12-10", channel.name)
    for who, key in (("carol", "summary"), ("alice", "description"), ("alice", "acknowledgments")):
        slack.command(who, "/incident", f"write {key}", channel.name)
        slack.submit(who, {"text": f"{key} by {who}"})
    bot.settle()
    return channel


def rest(slack, titles, whose=None):
    """The open points of these sections, as a DM lists them, with whose each is."""
    return [
        f"• Section “{t}” is not written yet"
        + (f" (given to <@{slack.user(whose[t])}>)." if t in (whose or {}) else ".")
        for t in titles
    ]


def part(dm):
    """A DM's lists: the text of each section block after its head, before its buttons."""
    return [b["text"]["text"] for b in dm.blocks[1:] if b["type"] == "section"]


def test_each_reminder_lists_its_readers_sections_first_then_the_rest(slack, bot, clock):
    """bob (an owner) has root_cause; carol (no owner) has five_whys and prevention, and
    summary, which she wrote; alice (an owner) has none. Nine sections are unwritten."""
    channel = written_but_the_sections(slack, bot, clock)
    for key, who in (
        ("root_cause", "bob"),
        ("five_whys", "carol"),
        ("prevention", "carol"),
        ("summary", "carol"),
    ):
        slack.command("alice", "/incident", f"assign {key} @{who}", channel.name)
    bot.settle()
    status = json.dumps(slack.command("alice", "/incident", "status", channel.name).json)
    day_before = int((DEADLINE - timedelta(hours=24)).timestamp())
    assert f"<@{slack.user('carol')}> <!date^{day_before}^" in status, "her next reminder"
    fire(bot, clock, "before:86400")
    whose = {
        "Technical Root Cause": "bob",
        "Five Whys Analysis": "carol",
        "Prevention Measures": "carol",
    }
    (alices,), (bobs,), (carols,) = dms(slack, "alice"), dms(slack, "bob"), dms(slack, "carol")
    assert part(alices) == [
        "\n".join(
            [
                "*9 open point(s)*",
                *rest(
                    slack,
                    [
                        "Impact Analysis",
                        "Technical Root Cause",
                        "Contributing Factors",
                        "Five Whys Analysis",
                        "What Went Well",
                        "What Went Wrong",
                        "Prevention Measures",
                        "Lessons Learned",
                        "Appendix",
                    ],
                    whose,
                ),
            ]
        )
    ]
    assert part(bobs) == [
        "*Yours: 1 section(s) nobody has written yet*\n"
        "• *Technical Root Cause*: `/incident write hotfix-001 root_cause`",
        "\n".join(
            [
                "*The rest: 8 open point(s)*",
                *rest(
                    slack,
                    [
                        "Impact Analysis",
                        "Contributing Factors",
                        "Five Whys Analysis",
                        "What Went Well",
                        "What Went Wrong",
                        "Prevention Measures",
                        "Lessons Learned",
                        "Appendix",
                    ],
                    whose,
                ),
            ]
        ),
    ]
    assert part(carols) == [
        "*Yours: 2 section(s) nobody has written yet*\n"
        "• *Five Whys Analysis*: `/incident write hotfix-001 five_whys`\n"
        "• *Prevention Measures*: `/incident write hotfix-001 prevention`",
        f"*The rest*: 7 open point(s), for the post-mortem owners (<@{slack.user('alice')}>, "
        f"<@{slack.user('bob')}>); *Latest draft* lists them all.",
    ]
    # her button opens hers
    slack.click("carol", carols, "reminder_write")
    assert slack.modal("carol")["title"]["text"] == "Five Whys Analysis"


def test_an_assignee_who_is_no_owner_gets_the_reminders_of_their_part_as_assignments_change(
    slack, bot, clock
):
    """Who gets a reminder follows the assignments as they are when it goes out: nobody twice,
    nobody left out. carol has a section at the first reminder and writes it; dave is given
    one after it; the overdue DM stays the commander's, the nudge reaches dave too."""
    channel = written_but_the_sections(slack, bot, clock)
    slack.ws.add_user("dave")
    slack.command("alice", "/incident", "assign five_whys @carol", channel.name)
    fire(bot, clock, "before:86400")
    assert [len(dms(slack, w)) for w in ("alice", "bob", "carol", "dave")] == [1, 1, 1, 0]

    slack.command("carol", "/incident", "write five_whys", channel.name)
    slack.submit("carol", {"problem": "checkout failed"})
    slack.command("bob", "/incident", "assign prevention @dave", channel.name)
    bot.settle()
    assert bot.sender.fire(1) == [] and len(dms(slack, "carol")) == 1, "sent once, never again"
    fire(bot, clock, "before:14400")
    assert [len(dms(slack, w)) for w in ("alice", "bob", "carol", "dave")] == [2, 2, 1, 1]
    (daves,) = dms(slack, "dave")
    assert daves.text == "The hotfix-001 post-mortem is due soon"
    assert "• *Prevention Measures*: `/incident write hotfix-001 prevention`" in part(daves)[0]
    assert "is due in *4h*" in daves.blocks[0]["text"]["text"]

    (nudge,) = fire(bot, clock, "overdue@")
    assert [len(dms(slack, w)) for w in ("alice", "bob", "carol", "dave")] == [3, 2, 1, 1]
    clock.now = nudge.due_at
    bot.sender.fire(nudge.id)
    bot.settle()
    assert [len(dms(slack, w)) for w in ("alice", "bob", "carol", "dave")] == [4, 3, 1, 2]
    assert dms(slack, "dave")[-1].text == "The hotfix-001 post-mortem is overdue"
    assert clock.now == DEADLINE + timedelta(days=1)


def test_someone_given_a_section_may_snooze_and_hears_of_theirs_first_again(slack, bot, clock):
    channel = written_but_the_sections(slack, bot, clock)
    slack.command("alice", "/incident", "assign five_whys @carol", channel.name)
    fire(bot, clock, "before:86400")
    (carols,) = dms(slack, "carol")
    slack.click("carol", carols, "reminder_snooze_2h")
    bot.settle()
    assert ":zzz: I'll remind you again" in str(carols.blocks)
    fire(bot, clock, "snooze:")
    again = dms(slack, "carol")[-1]
    assert "You asked me to remind you again." in again.blocks[1]["text"]["text"]
    assert part(again)[1].startswith("*Yours: 1 section(s) nobody has written yet*\n")
    assert [len(dms(slack, w)) for w in ("alice", "bob", "carol")] == [1, 1, 2]
