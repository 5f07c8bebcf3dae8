"""The guided retrospective end to end: checklist, modals, action items, drafts in the channel
and in a real git repository (a bare one in tmp_path)."""

import dataclasses
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from bot.postmortem import DEFAULT_TEMPLATES
from bot.sections import load_sections
from tests import test_publish_flow as flow
from tests.conftest import wait_for
from tests.test_incident_commands import open_incident
from tests.test_publish_flow import publish_anyway

SECTIONS = tuple(load_sections(DEFAULT_TEMPLATES))  # as the bundled template declares them

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


# the publishing tests' fixtures: a clock stopped at T0, a bare remote, a config pushing there
clock, remote, config = flow.clock, flow.remote, flow.config


def git(remote, *args):
    return subprocess.run(
        ["git", "--git-dir", str(remote), *args], capture_output=True, text=True, check=True
    ).stdout


def commits(remote):
    done = subprocess.run(
        ["git", "--git-dir", str(remote), "log", "--format=%s", "main"],
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines() if done.returncode == 0 else []


def checklist(channel):
    return next(m for m in channel.messages if m.blocks and "Post-mortem of" in str(m.blocks[0]))


def drafts(channel):
    return [m for m in channel.messages if m.files]


@pytest.fixture
def resolved(slack, bot, clock):
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command(
        "bob", "/timeline", "15:35 detected: PagerDuty alert on checkout 5xx", channel.name
    )
    slack.command("alice", "/timeline", "16:05 root-cause: bad config push", channel.name)
    slack.command("alice", "/timeline", "16:20 deployed: rollback to v41", channel.name)
    slack.command("bob", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: drafts(channel), what="the first draft")
    bot.settle()
    bot.publisher.wait_idle()
    return channel


def test_resolution_posts_the_checklist_and_the_first_draft_and_commits_it(
    slack, bot, remote, resolved
):
    shown = str(checklist(resolved).blocks)
    for section in SECTIONS:
        assert section.title in shown
    assert "2026-11-28 16:25 UTC" in shown  # the deadline
    (draft,) = drafts(resolved)
    (file,) = draft.files
    assert file["name"] == "hotfix-001-postmortem.md"
    content = file["content"].decode()
    assert content.splitlines()[1] == "# Post-Mortem: Checkout API returning 500s"
    assert "Draft 1 of the post-mortem" in draft.text and "First draft." in draft.text
    assert "`hotfix-001/postmortem.md`" in draft.text
    assert commits(remote) == ["hotfix-001: post-mortem draft 1"]
    assert git(remote, "show", "main:hotfix-001/postmortem.md") == content
    assert "Incident Bot <bot@example.com>" in git(remote, "log", "--format=%an <%ae>", "main")
    log = git(remote, "show", "main:hotfix-001/hotfix.md")
    assert (
        "| 2026-11-26 16:05:00 UTC | Root cause identified | bad config push | Alice Example |"
        in log
    )


def test_every_section_is_reached_through_the_guided_path(slack, bot, remote, resolved):
    for section in SECTIONS:
        reply = slack.command("carol", "/incident", "write", resolved.name)
        assert reply.status == 200 and reply.body == ""
        modal = slack.modal("carol")
        assert modal["title"]["text"] == section.title[:24]
        fields = [b["block_id"] for b in modal["blocks"] if b["type"] == "input"]
        assert fields == [f.key for f in section.fields]
        slack.submit("carol", {key: f"{section.key} {key} by carol" for key in fields})
        bot.settle()
    done = slack.command("carol", "/incident", "write", resolved.name)
    assert "Every section is written" in done.text
    assert str(checklist(resolved).blocks).count("written by") == len(SECTIONS)

    slack.command("alice", "/incident", "draft", resolved.name)
    wait_for(lambda: len(drafts(resolved)) == 2, what="the second draft")
    content = drafts(resolved)[-1].files[0]["content"].decode()
    for section in SECTIONS:
        for field in section.fields:
            assert f"{section.key} {field.key} by carol" in content, (section.key, field.key)
    assert "Changed since the last draft: " in drafts(resolved)[-1].text


def test_buttons_open_prefilled_modals_and_saving_updates_the_checklist(slack, bot, resolved):
    slack.click("bob", checklist(resolved), "write_section", "summary")
    assert slack.modal("bob")["title"]["text"] == "Executive Summary"
    slack.submit("bob", {"text": "Checkout failed for 55 minutes after a bad config push."})
    bot.settle()
    line = next(b for b in checklist(resolved).blocks if b.get("block_id") == "section-summary")
    assert f"written by <@{slack.user('bob')}>" in line["text"]["text"]
    assert line["accessory"]["text"]["text"] == "Edit"

    slack.click("carol", checklist(resolved), "write_section", "summary")
    (field,) = [b for b in slack.modal("carol")["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"].startswith("Checkout failed for 55 minutes")


def test_action_items_dm_their_owner_who_can_mark_them_done(slack, bot, resolved):
    reply = slack.command(
        "alice",
        "/incident",
        "action Alert on checkout 5xx rate @bob due 2026-12-01 immediate why: minutes, not hours",
        resolved.name,
    )
    assert reply.json["response_type"] == "in_channel" and "AI-001" in reply.text
    bot.settle()
    dm = wait_for(lambda: slack.ws.im(slack.user("bob")).messages, what="bob's DM")[-1]
    assert "You own *AI-001*" in str(dm.blocks)

    stale = dataclasses.replace(dm)  # the message as bob's other device still shows it
    slack.click("bob", dm, "action_done", None)
    slack.click("bob", stale, "action_done", None)  # a double click does the work once
    bot.settle()
    assert "Done. Thank you!" in str(dm.blocks)
    assert [m.text for m in resolved.messages if "closed AI-001" in m.text] == [
        f"<@{slack.user('bob')}> closed AI-001: Alert on checkout 5xx rate".replace(
            "<@", ":white_check_mark: <@", 1
        )
    ]
    assert "1 (0 open)" in str(checklist(resolved).blocks)

    listing = slack.command("carol", "/incident", "actions", resolved.name)
    assert "AI-001" in str(listing.json["blocks"]) and ":white_check_mark:" in str(
        listing.json["blocks"]
    )


def test_action_items_through_the_modal(slack, bot, resolved):
    slack.click("carol", checklist(resolved), "add_action")
    assert slack.modal("carol")["callback_id"] == "action_modal"
    reply = slack.submit(
        "carol", {"text": "", "owner": None, "due": None, "priority": "long-term", "why": None}
    )
    assert reply.json["response_action"] == "errors"  # the modal stays open with the reason
    slack.submit(
        "carol",
        {
            "text": "Split checkout config",
            "owner": slack.user("alice"),
            "due": "2027-02-01",
            "priority": "long-term",
            "why": "blast radius",
        },
    )
    bot.settle()
    wait_for(lambda: slack.ws.im(slack.user("alice")).messages, what="alice's DM")
    assert any("AI-001" in m.text for m in resolved.messages)


def test_unchanged_drafts_make_no_empty_commits(slack, bot, remote, resolved):
    slack.command("alice", "/incident", "draft", resolved.name)
    wait_for(lambda: len(drafts(resolved)) == 2)
    bot.settle()
    bot.publisher.wait_idle()
    assert "Nothing changed since the last draft." in drafts(resolved)[-1].text
    assert commits(remote) == ["hotfix-001: post-mortem draft 1"]


def test_publish_commits_the_final_version(slack, bot, remote, resolved, clock):
    clock.now = T0 + timedelta(days=1)
    reply = publish_anyway(slack, "alice", resolved)  # open points: the bot asks first
    assert reply.json["response_type"] == "ephemeral"
    wait_for(lambda: len(drafts(resolved)) == 2)
    bot.settle()
    bot.publisher.wait_idle()
    assert commits(remote)[0] == "hotfix-001: final post-mortem"
    final = git(remote, "show", "main:hotfix-001/postmortem.md")
    assert "*Post-mortem completed 2026-11-27 - See hotfix-001/hotfix.md" in final
    assert "Published" in str(checklist(resolved).blocks)


def test_publishing_an_open_incident_is_refused(slack, bot):
    channel = open_incident(slack)
    assert (
        "Resolve the incident first"
        in slack.command("alice", "/incident", "publish", channel.name).text
    )


def test_write_names_a_section_or_explains(slack, bot, resolved):
    slack.command("alice", "/incident", "write five whys", resolved.name)
    assert slack.modal("alice")["title"]["text"] == "Five Whys Analysis"
    reply = slack.command("alice", "/incident", "write poetry", resolved.name)
    assert "There is no section `poetry`" in reply.text


def test_modals_open_while_another_writer_holds_the_database(slack, bot, resolved, config):
    import sqlite3
    import time

    blocker = sqlite3.connect(config.database_path, timeout=1)
    blocker.execute("BEGIN IMMEDIATE")  # like a long migration or a backup holding the lock
    try:
        started = time.monotonic()
        reply = slack.command("alice", "/incident", "write", resolved.name)
        slack.click("bob", checklist(resolved), "write_section", "impact")
        elapsed = time.monotonic() - started
        assert reply.status == 200 and elapsed < 2.5
        assert slack.modal("alice")["title"]["text"] == "Executive Summary"
        assert slack.modal("bob")["title"]["text"] == "Impact Analysis"
    finally:
        blocker.rollback()
        blocker.close()


@pytest.fixture
def unreachable(tmp_path, remote):
    """The remote goes away (a network outage); `restore()` brings it back."""
    away = tmp_path / "away.git"
    remote.rename(away)

    def restore():
        away.rename(remote)

    return restore


def test_an_unreachable_remote_keeps_the_commit_tells_once_and_pushes_later(
    slack, bot, remote, unreachable, clock
):
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/incident", "resolve", channel.name)
    wait_for(lambda: drafts(channel), what="the first draft")
    bot.settle()
    bot.publisher.wait_idle()
    slack.command("bob", "/incident", "action Fix the pool @bob", channel.name)
    slack.command("bob", "/incident", "draft", channel.name)
    wait_for(lambda: len(drafts(channel)) == 2, what="the second draft")
    bot.settle()
    bot.publisher.wait_idle()
    bot.settle()
    assert len(drafts(channel)) == 2, "Slack got its drafts while git was down"
    for draft in drafts(channel):  # each says where it really is, and that it is not lost
        assert "*Not in the repository yet*: `hotfix-001/postmortem.md` is committed in the " in (
            draft.text
        )
        assert "not reachable right now" in draft.text and "nothing is lost" in draft.text
        assert "In the repository:" not in draft.text
    assert not [m for m in channel.messages if "not reachable" in m.text and not m.files]

    unreachable()
    bot.publisher.retry_now()
    bot.publisher.wait_idle()
    bot.settle()
    assert commits(remote) == ["hotfix-001: post-mortem draft 2", "hotfix-001: post-mortem draft 1"]
    assert len([m for m in channel.messages if "now in the repository" in m.text]) == 1
    slack.command("bob", "/incident", "draft", channel.name)
    wait_for(lambda: len(drafts(channel)) == 3, what="the third draft")
    assert "In the repository: `hotfix-001/postmortem.md` in " in drafts(channel)[-1].text


def refuse_pushes(remote, *said):
    """A pre-receive hook that says `said` (one line each) and refuses every push."""
    hook = remote / "hooks" / "pre-receive"
    lines = "".join(f"echo '{line}' >&2\n" for line in said)
    hook.write_text(f"#!/bin/sh\n{lines}exit 1\n")
    hook.chmod(0o755)
    return hook


def test_a_push_the_remote_refuses_says_what_it_said_and_where_the_draft_is(
    slack, bot, remote, clock
):
    hook = refuse_pushes(remote, "Pushes are frozen during the audit <!channel>.", "Ask #infra.")
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/incident", "resolve", channel.name)
    (draft,) = wait_for(lambda: drafts(channel), what="the first draft")
    bot.settle()
    bot.publisher.wait_idle()
    assert commits(remote) == []
    assert "In the repository" not in draft.text and "not reachable" not in draft.text
    assert (
        ":no_entry: *Not in the repository*: `hotfix-001/postmortem.md` is committed in the "
        "bot's clone (`"
    ) in draft.text
    assert (
        "refused the push (pre-receive hook declined): “Pushes are frozen during the audit "
        "&lt;!channel&gt;. Ask #infra.”. Whoever looks after the repository can let the bot push "
        "to `main`"
    ) in draft.text
    alice = slack.ws.im(slack.user("alice"))
    assert not alice.messages, "once refused is not yet 'keeps being refused'"

    for _ in range(3):  # the minute-by-minute retries, refused too
        bot.publisher.retry_now()
    bot.publisher.wait_idle()
    bot.settle()
    (dm,) = [m for m in alice.messages if "refused" in m.text]  # the commander, once
    assert dm.text.startswith(":no_entry: ")
    assert "has refused the bot's last 3 pushes (pre-receive hook declined): “Pushes are" in (
        dm.text
    )
    assert "The hotfix-001 post-mortem is committed in the bot's clone (`" in dm.text
    assert commits(remote) == []

    hook.unlink()  # the audit is over
    bot.publisher.retry_now()
    bot.publisher.wait_idle()
    bot.settle()
    assert commits(remote) == ["hotfix-001: post-mortem draft 1"]
    assert len([m for m in channel.messages if "now in the repository" in m.text]) == 1
    assert len([m for m in alice.messages if "refused" in m.text]) == 1


def test_an_action_item_can_be_completed_later_by_its_owner_or_the_commander(slack, bot, resolved):
    slack.command("alice", "/incident", "action Alert on 5xx", resolved.name)
    refused = slack.command("carol", "/incident", "action AI-001 due 2026-12-20", resolved.name)
    assert "Only AI-001's owner, whoever added it, or the incident commander" in refused.text
    changed = slack.command(
        "alice", "/incident", "action AI-001 @bob due 2026-12-20 why: catch it early", resolved.name
    )
    assert changed.json["response_type"] == "in_channel" and "AI-001 changed by" in changed.text
    bot.settle()
    (item,) = bot.store.db.query("SELECT owner_id, due, why, text FROM action_items")
    assert item == {
        "owner_id": slack.user("bob"),
        "due": "2026-12-20",
        "why": "catch it early",
        "text": "Alert on 5xx",
    }
    assert any("You own AI-001" in m.text for m in slack.ws.im(slack.user("bob")).messages)
    assert (
        "There is no AI-007"
        in slack.command("alice", "/incident", "action AI-007 why: x", resolved.name).text
    )


def test_drafts_made_at_the_same_moment_each_get_a_version(bot, slack, resolved, clock):
    """Versions are taken atomically: twenty threads drafting at once lose nothing."""
    import re
    import threading

    from bot.drafts import Drafts
    from bot.incidents import Incidents
    from bot.retro import Retro

    drafting = Drafts(
        Incidents(bot.store, clock),
        Retro(bot.store, clock, load_sections(DEFAULT_TEMPLATES)),
        DEFAULT_TEMPLATES,
        clock,
    )
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    start = threading.Barrier(20)
    made, failed = [], []

    def draft():
        start.wait()
        try:
            made.append(drafting.make(incident, "U1"))
        except Exception as exc:  # today: sqlite3.IntegrityError, UNIQUE constraint failed
            failed.append(exc)

    threads = [threading.Thread(target=draft) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert sorted(d.version for d in made) == list(range(2, 22))  # draft 1 came with resolve
    rows = bot.store.db.query("SELECT version FROM drafts ORDER BY version")
    assert [r["version"] for r in rows] == list(range(1, 22))
    assert all(re.match("<!--", d.postmortem) for d in made)


def requests_in(message):
    """How many `/incident draft` a posted draft answers: 1, or as many as it says it merged."""
    import re

    merged = re.search(r"One draft for (\d+) requests", message.text)
    return int(merged.group(1)) if merged else 1


@pytest.mark.parametrize(
    "people",
    [["alice", "bob"], ["alice", "bob", "carol", "dave"] * 5],
    ids=["two-at-once", "twenty-from-four"],
)
def test_drafts_asked_for_at_once_are_all_posted_or_merged(slack, bot, remote, resolved, people):
    from concurrent.futures import ThreadPoolExecutor

    if "dave" in people:
        slack.ws.add_user("dave", "Dave Example")
    for person in set(people):
        slack.join(person, resolved.name)
    slack.command("carol", "/timeline", "16:10 fix: raise the pool size", resolved.name)
    bot.settle()
    with ThreadPoolExecutor(len(people)) as pool:
        replies = list(
            pool.map(lambda who: slack.command(who, "/incident", "draft", resolved.name), people)
        )
    assert all("it will be posted here" in r.text for r in replies)
    bot.settle()
    bot.publisher.wait_idle()
    bot.settle()
    posted = drafts(resolved)[1:]  # after the first draft, which came with the resolution
    assert sum(requests_in(m) for m in posted) == len(people)  # none lost
    assert 1 <= len(posted) <= len(people)
    numbers = [int(m.text.split("*Draft ")[1].split()[0]) for m in posted]
    assert numbers == list(range(2, 2 + len(posted)))
    for message in posted:
        if requests_in(message) > 1:  # a merged draft names who asked
            assert "came in together (from <@" in message.text
    assert commits(remote)[0] == "hotfix-001: post-mortem draft 2"
