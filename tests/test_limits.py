"""Slack's limits on everything the bot shows: every list stays within 50 blocks a message, 100
a view, 3,000 characters a text and 12,000 in a message's blocks together, and says how many
more there are and where to see them; text is never cut inside a Slack entity or a character.
Each surface is filled past its limit here; the strict sandbox refuses what Slack refuses."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.action_words import ParsedAction
from bot.incidents import Incidents
from bot.models import ActionItem, Incident, Priority, Severity, Status
from bot.postmortem import DEFAULT_TEMPLATES
from bot.retro import Retro
from bot.sandbox import BOT_TOKEN
from bot.sandbox.blockkit import BlockError, stray_markup, validate_blocks, validate_view
from bot.sections import load_sections
from bot.slack.blocks import build_help, build_kickoff, build_list
from bot.slack.limits import BLOCKS_TEXT, clip, fit, pages, text_size
from bot.slack.retro_blocks import build_publish_confirmation
from bot.store.timeline import insert_entry
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


# --- the sandbox refuses what Slack refuses ---------------------------------------------------


@pytest.fixture
def api(slack):
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def refusal(call):
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


def sections_of(size, count):
    return [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * size}}] * count


def test_the_sandbox_refuses_blocks_that_hold_too_much_text_together(slack, api):
    general = slack.general.id
    assert api.chat_postMessage(channel=general, text="t", blocks=sections_of(3000, 4))["ok"]
    too_long = sections_of(3000, 4) + sections_of(1, 1)  # 12,001 characters
    post = refusal(lambda: api.chat_postMessage(channel=general, text="t", blocks=too_long))
    assert post == "msg_blocks_too_long"
    ts = api.chat_postMessage(channel=general, text="t")["ts"]
    assert refusal(lambda: api.chat_update(channel=general, ts=ts, text="t", blocks=too_long)) == (
        "invalid_blocks"
    )


def test_the_sandbox_keeps_each_limit(slack, api):
    general = slack.general.id
    ts = api.chat_postMessage(channel=general, text="t")["ts"]
    # chat.update's reference: "The `text` field cannot exceed 4,000 characters."
    assert refusal(lambda: api.chat_update(channel=general, ts=ts, text="x" * 4001)) == (
        "msg_too_long"
    )
    assert api.chat_update(channel=general, ts=ts, text="x" * 4000)["ok"]
    header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    assert refusal(lambda: api.chat_postMessage(channel=general, text="t", blocks=header)) == (
        "invalid_blocks"
    )
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(BlockError, match="no more than 100"):
        validate_view(home)
    validate_view({"type": "home", "blocks": [{"type": "divider"}] * 100})
    # a home tab holds more text than a message
    validate_view({"type": "home", "blocks": sections_of(3000, 10)})
    with pytest.raises(BlockError, match="1 to 3000"):
        validate_blocks(sections_of(3001, 1))


def test_an_answer_past_the_limits_is_a_problem(slack, bot, channel):
    """An ack or a response_url message is checked like a posted one (Slack would show an
    error instead of it)."""
    slack._show(channel.id, slack.user("alice"), {"text": "x" * 40_001}, "ack")
    slack._show(channel.id, slack.user("alice"), {"blocks": sections_of(3000, 5)}, "ack")
    assert [p.split(":")[1].strip() for p in slack.problems] == ["msg_too_long", "invalid_blocks"]
    assert "more than 12,000" in slack.problems[1]
    slack.problems.clear()


@pytest.mark.parametrize(
    "text",
    ["hi <@U0123", "see <!date^1700000000^{time}|14:05", "a &am", "a &", "a <#C1|x <@U1>"],
)
def test_the_sandbox_flags_markup_cut_in_two(text):
    assert stray_markup([], text), text


@pytest.mark.parametrize(
    "text", ["<@U01> &amp; &lt;3 &gt;", "<!date^1^{time}|14:05 UTC> ok", "said:\n>quoted"]
)
def test_the_sandbox_takes_whole_markup(text):
    assert stray_markup([], text) == []


# --- the shared helper: cut between whole entities and characters ---------------------------

ATOMS = [
    "a",
    " ",
    "\n",
    "é",
    "e\u0301",
    "👩\u200d👩\u200d👧",
    "🇩🇪",
    "👍🏽",
    "&amp;",
    "&lt;",
    "&gt;",
    ":white_large_square:",
    ":+1::skin-tone-3:",
    "<@U0ALICE>",
    "<#C0123|inc-001>",
    "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>",
    "<https://example.com/a?b=c|a link>",
    "*",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=60), st.integers(1, 200))
def test_clip_never_cuts_an_entity_or_a_character(atoms, limit):
    text = "".join(atoms)
    cut = clip(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
        return
    assert cut.endswith("…")
    kept = cut[:-1]
    # what is kept is a whole number of atoms (less trailing whitespace)
    joined = ""
    for atom in atoms:
        if len(joined) >= len(kept):
            break
        joined += atom
    assert joined.rstrip() == kept or joined == kept, (text, cut)
    assert stray_markup([], kept) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=400), max_size=80),
    st.integers(1, 50),
    st.integers(100, 12_000),
    st.booleans(),
)
def test_pages_show_every_line_once_within_the_budget(lines, blocks, chars, latest_first):
    found = pages(lines, blocks, chars, latest_first=latest_first)
    shown = [i for page in found for i in range(page.start, page.stop)]
    assert sorted(shown) == list(range(len(lines)))
    if latest_first and found:
        assert found[0].stop == len(lines)
    for page in found:
        assert len(page.groups) <= blocks
        assert sum(len(t) for t in page.texts) <= chars
        assert all(len(t) <= 3000 for t in page.texts)
        assert page.before + (page.stop - page.start) + page.after == len(lines)


def test_fit_says_how_many_are_left():
    listed = fit([f"line {n}" for n in range(100)], 2, 60)
    assert listed.stop < 100 and listed.after == 100 - listed.stop


# --- each surface filled past its limit ---------------------------------------------------------


def fill_timeline(bot, slack, channel, texts):
    """Entries as if typed over the incident's first hours (stored as /timeline stores them)."""
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    with bot.store.write() as db:
        for n, text in enumerate(texts):
            insert_entry(
                db,
                team_id=incident.team_id,
                incident_id=incident.id,
                at=incident.started_at + timedelta(seconds=n + 1),
                text=text,
                author_id=slack.user("bob"),
                milestone=None,
                source="command",
            )
    return incident


def page_numbers(reply):
    """Entry numbers listed in a /timeline answer (each line starts with `#N`)."""
    texts = [b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "section"][1:]
    return [int(n) for t in texts for n in re.findall(r"^`#(\d+)`", t, re.MULTILINE)]


def notes(reply):
    return " ".join(
        e["text"] for b in reply.json["blocks"] if b["type"] == "context" for e in b["elements"]
    )


@pytest.mark.parametrize(
    "count, text",
    [(1450, "disk alert fired on db-1, paging storage"), (49, "<&> :fire: " * 270)],
    ids=["1450-short", "49-long"],
)
def test_the_timeline_list_pages_instead_of_overflowing(slack, bot, channel, count, text):
    fill_timeline(bot, slack, channel, [f"{text} {n}" for n in range(count)])
    first = slack.command("alice", "/timeline", "", channel.name)
    assert len(first.json["blocks"]) <= 50
    assert text_size(first.json["blocks"]) <= BLOCKS_TEXT
    title = first.json["blocks"][0]["text"]["text"]
    total = re.search(r"page 1 of (\d+)", title)
    assert total, title
    last_page = int(total[1])
    assert "older entries: `/timeline page 2`" in notes(first)
    assert "`/incident draft`" in notes(first)  # every entry, whole
    seen = page_numbers(first)
    assert seen[-1] == count + 1  # the latest entry first ("Incident began" is #1)
    for page in range(2, last_page + 1):
        reply = slack.command("alice", "/timeline", f"page {page}", channel.name)
        numbers = page_numbers(reply)
        assert numbers and max(numbers) < min(seen)  # older, in time order
        seen = numbers + seen
        assert ("newer: `/timeline`" if page == 2 else f"`/timeline page {page - 1}`") in notes(
            reply
        )
    assert seen == list(range(1, count + 2))
    beyond = slack.command("alice", "/timeline", f"page {last_page + 1}", channel.name)
    assert f"no page {last_page + 1}" in beyond.text and f"page {last_page}` is the last" in (
        beyond.text
    )
    # listing records nothing
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    assert len(bot.store.entries(slack.ws.team_id, incident.id)) == count + 1


def test_page_words_that_are_no_page_number_are_an_entry(slack, bot, channel):
    slack.command("alice", "/timeline", "page the DBA on call", channel.name)
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    texts = [e.text for e in bot.store.entries(slack.ws.team_id, incident.id)]
    assert "page the DBA on call" in texts
    zero = slack.command("alice", "/timeline", "page 0", channel.name)
    assert "is not a page" in zero.text


def test_a_long_entry_is_cut_whole_in_its_echo_saying_where_it_is(slack, bot, channel):
    typed = "<&> :fire: " * 270  # 2,970 characters typed, 5,940 escaped for Slack
    assert slack.command("alice", "/timeline", typed, channel.name).body == ""
    bot.settle()
    echo = channel.messages[-1]
    text = echo.blocks[0]["text"]["text"]
    assert len(text) <= 3000
    assert text.endswith("… _(cut: the post-mortem draft, `/incident draft`, has it whole)_")
    assert stray_markup(echo.blocks) == []
    assert not re.search(r":[a-z]*…", text)


def test_long_entries_that_arrive_together_share_as_many_messages_as_they_need(slack, bot, channel):
    before = len(channel.messages)
    for n in range(8):
        slack.command("bob", "/timeline", f"{n} " + "long alert text " * 185, channel.name)
    bot.settle()
    posted = channel.messages[before:]
    assert len(posted) >= 3  # 8 entries of ~3,000 characters: 4 to a message at most
    shown = [b["block_id"] for m in posted for b in m.blocks if b.get("block_id")]
    assert sorted(shown) == sorted(f"timeline_entry_{n}" for n in range(2, 10))
    for message in posted:
        assert text_size(message.blocks) <= BLOCKS_TEXT
        assert "cut:" not in json.dumps(message.blocks)  # each whole


def test_the_action_items_list_shows_every_item_across_pages(slack, bot, channel):
    for n in range(45):
        slack.command(
            "alice", "/incident", f"action Fix thing {n} :fire: " + "x" * 90, channel.name
        )
    bot.settle()
    first = slack.command("alice", "/incident", "actions", channel.name)
    text = json.dumps(first.json["blocks"])
    labels = set(re.findall(r"AI-\d{3}", text))
    for block in first.json["blocks"]:
        if block["type"] == "section":
            assert not re.search(r":[a-z_]*$", block["text"]["text"])  # no emoji cut in two
    if len(labels) < 45:
        assert f"… and {45 - len(labels)} more: `/incident actions page 2`" in notes(first)
        second = slack.command("alice", "/incident", "actions page 2", channel.name)
        labels |= set(re.findall(r"AI-\d{3}", json.dumps(second.json["blocks"])))
    assert labels == {f"AI-{n:03d}" for n in range(1, 46)}


def test_a_mistyped_page_gets_the_usage(slack, bot, channel):
    reply = slack.command("alice", "/incident", "actions page two", channel.name)
    assert "is not a page" in reply.text and "/incident actions page 2" in reply.text


def many_incidents(bot, slack, count, *, resolved=False):
    incidents = Incidents(bot.store, lambda: T0)
    made = []
    for n in range(count):
        incident = incidents.start(
            slack.ws.team_id,
            slack.user("alice"),
            f"Checkout API returning 500s in region {n} :fire: & more",
            Severity.SEV2,
            private=False,
        )
        incident = incidents.attach_channel(incident, f"C9{incident.number:08d}", f"inc-{n}")
        if resolved:
            incident = bot.store.resolve_incident(
                incident,
                at=T0,
                deadline_at=T0 + timedelta(hours=48 + n),
                user_id=slack.user("alice"),
                when=T0,
            )
        made.append(incident)
    return made


def test_the_incident_list_pages(slack, bot):
    made = many_incidents(bot, slack, 150)
    first = slack.command("bob", "/incident", "list")
    listed = set(re.findall(r"hotfix-\d{3}", json.dumps(first.json["blocks"])))
    assert len(listed) < 150
    assert f"… and {150 - len(listed)} more: `/incident list page 2`" in notes(first)
    second = slack.command("bob", "/incident", "list page 2")
    listed |= set(re.findall(r"hotfix-\d{3}", json.dumps(second.json["blocks"])))
    assert listed == {i.hotfix_id for i in made}


def open_home(slack, bot, who):
    body = {
        "type": "event_callback",
        "team_id": slack.ws.team_id,
        "api_app_id": "A0",
        "event_id": "Ev1",
        "event_time": 1,
        "event": {
            "type": "app_home_opened",
            "user": slack.user(who),
            "tab": "home",
            "channel": "D0",
            "event_ts": "1.0",
        },
    }
    assert slack.send(json.dumps(body).encode(), "application/json").status == 200
    bot.settle()
    return slack.api.home[slack.user(who)]["blocks"]


def test_the_app_home_says_how_many_more_and_where(slack, bot):
    opened = many_incidents(bot, slack, 45)
    owned = many_incidents(bot, slack, 45, resolved=True)
    retro = Retro(bot.store, lambda: T0, load_sections(DEFAULT_TEMPLATES))
    for n in range(70):
        retro.add_action(
            opened[0],
            ParsedAction(
                f"Rotate the keys of service {n} :key:",
                slack.user("alice"),
                date(2026, 12, 1) + timedelta(days=n),
                Priority.SHORT_TERM,
                None,
            ),
            slack.user("alice"),
        )
    blocks = open_home(slack, bot, "alice")
    assert len(blocks) <= 100 and text_size(blocks) <= BLOCKS_TEXT
    text = json.dumps(blocks)
    shown = {
        "incidents": len({i.hotfix_id for i in opened if f"*{i.hotfix_id}*" in text}),
        "owned": len({i.hotfix_id for i in owned if f"*{i.hotfix_id}*" in text}),
        "actions": len(set(re.findall(r"AI-\d{3}", text))),
    }
    said = notes_of(blocks)
    assert f"… and {45 - shown['incidents']} more: `/incident list` lists them all" in said
    assert f"… and {45 - shown['owned']} more due later: each incident's channel" in said
    assert f"… and {70 - shown['actions']} more due later: `/incident actions`" in said
    # the first due are the ones shown
    assert "AI-001" in text and f"*{owned[0].hotfix_id}*" in text


def notes_of(blocks):
    return " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])


def test_the_status_shows_every_field(slack, bot, channel):
    for typed in ("detected: alert", "root-cause: config", "fix: rolled back"):
        slack.command("alice", "/timeline", typed, channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    status = json.dumps(slack.command("alice", "/incident", "status", channel.name).json)
    for name in ("Time to detect", "Time to root cause", "Time to fix", "Duration of impact"):
        assert name in status
    assert "Resolved" in status and "Post-mortem due" in status  # the 11th field


def test_the_reminder_dm_says_where_every_open_point_is(slack, bot):
    channel = open_incident(slack)
    for n in range(14):
        slack.command("alice", "/incident", f"action Fix thing number {n}", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    sender = bot.sender
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    from bot.slack.reminder_blocks import build_deadline_dm

    blocks = build_deadline_dm(incident, sender.open_points(incident), T0)
    said = json.dumps(blocks, ensure_ascii=False)
    assert re.search(r"… and \d+ more: the draft's first line lists them all", said)


# --- builders, past their limits -------------------------------------------------------------


def incident(**changes):
    base = Incident(
        id=1,
        team_id="T1",
        number=1,
        title="Checkout & <payments> :fire:",
        severity=Severity.SEV2,
        status=Status.OPEN,
        private=False,
        commander_id="U0ALICE",
        created_by="U0ALICE",
        started_at=T0,
        channel_id="C0INC",
    )
    return Incident(**{**base.__dict__, **changes})


def test_the_publish_confirmation_keeps_to_one_section_and_says_where_the_rest_are():
    points = [
        f"Section {n} still shows guidance: " + "&<> :white_check_mark: " * 40 for n in range(30)
    ]
    blocks = build_publish_confirmation(incident(), points, "v")
    validate_blocks(blocks)
    assert stray_markup(blocks) == []
    text = blocks[1]["text"]["text"]
    assert re.search(r"… and \d+ more: the draft's first line lists them all", text)


def test_help_and_kickoff_fit():
    for blocks in (build_help(), build_kickoff(incident(title="x" * 200))):
        validate_blocks(blocks)
        assert stray_markup(blocks) == []
    assert "/timeline page 2" in json.dumps(build_help())


def test_the_incident_list_builder_refuses_a_page_past_the_last():
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="no page 2"):
        build_list([incident()], page=2)


def test_an_action_item_list_builder_past_its_limits():
    from bot.slack.retro_blocks import build_actions_list

    items = [
        ActionItem(
            id=n,
            incident_id=1,
            number=n,
            text="&<>" * 160,
            owner_id="U0BOB",
            due=None,
            priority=Priority.IMMEDIATE,
        )
        for n in range(1, 101)
    ]
    blocks = build_actions_list(incident(), items)
    validate_blocks(blocks)
    assert stray_markup(blocks) == []


def test_a_checklist_of_forty_long_titled_sections_fits_one_message():
    from bot.retro import SectionState
    from bot.sections import Field, Section
    from bot.slack.retro_blocks import build_checklist

    states = [
        SectionState(
            Section(f"s{n}", f"Section {n} :memo: & <notes> " * 40, (Field("text", "T", "p"),)),
            {"text": "written"} if n % 2 else {},
            ["U0ALICE", "U0BOB"] if n % 2 else [],
        )
        for n in range(40)
    ]
    blocks = build_checklist(incident(deadline_at=T0 + timedelta(hours=48)), states, [])
    validate_blocks(blocks)
    assert stray_markup(blocks) == []
    assert sum(b.get("block_id", "").startswith("section-") for b in blocks) == 40


def test_a_checklist_of_forty_empty_long_titled_sections_each_given_to_someone_fits():
    """Each line says whose it is, and the menus that give one list all forty."""
    from bot.retro import SectionState
    from bot.sections import Field, Section
    from bot.slack.retro_blocks import build_checklist

    states = [
        SectionState(
            Section(f"s{n}", f"Section {n} :memo: & <notes> " * 40, (Field("text", "T", "p"),)),
            {},
            [],
            f"U0PERSON{n:02d}",
        )
        for n in range(40)
    ]
    blocks = build_checklist(incident(deadline_at=T0 + timedelta(hours=48)), states, [])
    validate_blocks(blocks)
    assert stray_markup(blocks) == []
    lines = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("section-")]
    assert len(lines) == 40 and all(
        t.endswith(f"<@U0PERSON{n:02d}>'s") for n, t in enumerate(lines)
    )
    (menus,) = [b for b in blocks if b.get("block_id", "").startswith("assign-")]
    assert len(menus["elements"][0]["options"]) == 40


def test_a_reminder_dm_with_many_sections_of_its_reader_fits():
    from bot.assignments import Part
    from bot.sections import Field, Section
    from bot.slack.reminder_blocks import build_deadline_dm

    mine = tuple(
        Section(f"s{n}", f"Section {n} :memo: & <notes> " * 40, (Field("text", "T", "p"),))
        for n in range(40)
    )
    points = [f"Long guidance :memo: & <x> {n} " * 60 for n in range(40)]
    part = Part(mine, tuple((p, "U0CAROL") for p in points))
    blocks = build_deadline_dm(
        incident(deadline_at=T0 + timedelta(hours=48)), points, T0, part=part
    )
    validate_blocks(blocks)
    assert stray_markup(blocks) == []
    said = json.dumps(blocks, ensure_ascii=False)
    assert "Yours: 40 section(s)" in said and "The rest: 40 open point(s)" in said
    assert "… and 39 more: `/incident assign` in the channel lists them all" in said
    assert "… and 39 more: the draft's first line lists them all" in said


def test_the_draft_message_names_where_the_rest_of_its_open_points_are():
    from bot.drafts import Draft
    from bot.slack.retro_blocks import draft_summary

    draft = Draft(
        incident=incident(),
        version=3,
        postmortem="",
        hotfix="",
        readiness=["Long guidance :memo: & <x> " * 60] * 20,
        changed=None,
        final=False,
    )
    text = draft_summary(draft, "`hotfix-001/postmortem.md`")
    assert len(text) < 4000 and stray_markup([], text) == []
    assert "… and 12 more: the file's first line lists them all" in text


def test_the_announcement_text_escapes_the_title(tmp_path, slack, store, clock):
    """Found by the sandbox's check for markup cut in two: a bare `&` in a notification."""
    from bot.sandbox.harness import serve
    from tests.conftest import make_config, wait_for

    announce = slack.ws.add_channel("incidents", slack.user("bob"))
    config = make_config(tmp_path, slack, ANNOUNCE_CHANNEL=announce.id)
    with serve(slack, config, store, clock):
        open_incident(slack, text="start R&D <payments> down sev1")
        wait_for(lambda: announce.messages, what="the announcement")
        assert "R&amp;D &lt;payments&gt; down" in announce.messages[0].text


def test_a_first_line_clipped_to_the_room_leaves_none_for_the_next():
    """Found by Hypothesis: the clipped first line did not count against `chars`."""
    from bot.slack.limits import fit

    listed = fit(["0" * 101, "0"], 1, 100)
    assert listed.stop == 1 and sum(len(x) for g in listed.groups for x in g) == 100
