"""Publishing is deliberate and happens once: open points are shown with a choice first, the
buttons decide from what is true when they are clicked, and publishing again with nothing
changed is a short answer. All through the running bot, the strict Slack emulator and a real
git repository (a bare one in tmp_path)."""

import dataclasses
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Clock, make_config, wait_for
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
DRAFT_1 = "hotfix-001: post-mortem draft 1"
FINAL = "hotfix-001: final post-mortem"


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "postmortems.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(path)], check=True)
    return path


@pytest.fixture
def config(tmp_path, slack, remote):
    return make_config(
        tmp_path,
        slack,
        POSTMORTEM_REPO=str(remote),
        POSTMORTEM_GIT_AUTHOR="Incident Bot <bot@example.com>",
    )


def commits(remote):
    done = subprocess.run(
        ["git", "--git-dir", str(remote), "log", "--format=%s", "main"],
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines() if done.returncode == 0 else []


def finals(channel):
    return [m for m in channel.messages if m.files and "Final post-mortem" in m.text]


def announcements(channel):
    return [m for m in channel.messages if m.text.startswith(":tada:")]


def incident_of(bot, slack, channel):
    return bot.store.incident_by_channel(slack.ws.team_id, channel.id)


def published_events(bot, slack, channel):
    incident = incident_of(bot, slack, channel)
    return [e for e in bot.store.events(slack.ws.team_id, incident.id) if e["kind"] == "published"]


def quiet(bot):
    """Everything after the acks done: Slack calls, git commits and pushes."""
    bot.settle()
    bot.publisher.wait_idle()
    bot.settle()


def resolve_with_a_draft(slack, bot, clock):
    """hotfix-001 opened and resolved; its first draft posted (and git done with it)."""
    channel = open_incident(slack)
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/timeline", "15:35 detected: PagerDuty alert on 5xx", channel.name)
    slack.command("alice", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the first draft")
    quiet(bot)
    return channel


@pytest.fixture
def resolved(slack, bot, clock):
    """hotfix-001 resolved, its first draft committed; most sections still empty."""
    channel = resolve_with_a_draft(slack, bot, clock)
    clock.now = T0 + timedelta(days=1)
    return channel


def confirmation(slack, who):
    """The ephemeral with the two buttons that `/incident publish` answered."""
    return next(
        e for e in reversed(slack.ephemerals(who)) if e.blocks and "publish_anyway" in str(e.blocks)
    )


def click(slack, who, ephemeral, action_id):
    """`who` clicks a button of the ephemeral only they see; returns it (the bot's answer
    replaces it: `replace_original`)."""
    reply = slack.click(who, ephemeral, action_id)
    assert reply.status == 200 and reply.body == ""
    return ephemeral


def answer(slack, who, ephemeral):
    """What the bot answered to the click: the clicked ephemeral, replaced (no buttons left)."""
    wait_for(lambda: "publish_anyway" not in str(ephemeral.blocks), what="the answer to the click")
    return ephemeral


def publish_anyway(slack, who, channel):
    """`/incident publish`, and "Publish anyway" if the bot asks first (open points): for tests
    that publish an unfinished post-mortem on purpose."""
    reply = slack.command(who, "/incident", "publish", channel.name)
    if reply.json["response_type"] == "ephemeral" and "publish_anyway" in reply.body:
        answer(slack, who, click(slack, who, confirmation(slack, who), "publish_anyway"))
    return reply


def ask(slack, who, channel):
    reply = slack.command(who, "/incident", "publish", channel.name)
    assert reply.json["response_type"] == "ephemeral"
    return confirmation(slack, who)


def test_open_points_are_shown_with_a_choice_and_nothing_is_published(slack, bot, remote, resolved):
    reply = slack.command("alice", "/incident", "publish", resolved.name)
    assert reply.json["response_type"] == "ephemeral"
    assert "open point(s). Publish it anyway?" in reply.text
    shown = confirmation(slack, "alice")
    text = str(shown.blocks)
    assert "The hotfix-001 post-mortem is not ready yet" in text
    assert "is not written yet" in text  # the draft's own open points, as the draft lists them
    assert "… and " in text and " more" in text  # more than ten points: the rest are counted
    assert text.count("• ") == 11
    buttons = [e for b in shown.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Publish anyway", "publish_anyway", "hotfix-001@2026-11-26T16:25:00+00:00"),
        ("Keep writing", "keep_writing", "hotfix-001@2026-11-26T16:25:00+00:00"),
    ]
    quiet(bot)
    assert incident_of(bot, slack, resolved).published_at is None
    assert published_events(bot, slack, resolved) == []
    assert announcements(resolved) == [] and finals(resolved) == []
    assert commits(remote) == [DRAFT_1]


def test_publish_anyway_publishes_once_and_a_stale_click_only_explains(
    slack, bot, remote, resolved
):
    shown = ask(slack, "alice", resolved)
    second = ask(slack, "alice", resolved)  # asked twice: two confirmations on alice's screen
    assert second is not shown
    before = click(slack, "alice", shown, "publish_anyway")
    replaced = answer(slack, "alice", before)
    assert replaced.text.startswith(":white_check_mark: Published")
    assert replaced.blocks is None  # the buttons are gone from what alice sees
    wait_for(lambda: finals(resolved), what="the final version")
    quiet(bot)
    (announced,) = announcements(resolved)
    assert f"<@{slack.user('alice')}> published the hotfix-001 post-mortem with " in announced.text
    assert "open point(s). The final version follows." in announced.text
    assert commits(remote) == [FINAL, DRAFT_1]
    assert len(published_events(bot, slack, resolved)) == 1
    assert incident_of(bot, slack, resolved).published_at == T0 + timedelta(days=1)

    before = click(slack, "alice", second, "publish_anyway")  # the other, stale one
    again = answer(slack, "alice", before)
    assert "The hotfix-001 post-mortem is already published" in again.text
    assert "nothing more was done" in again.text
    quiet(bot)
    assert len(announcements(resolved)) == 1 and len(finals(resolved)) == 1
    assert commits(remote) == [FINAL, DRAFT_1]
    assert len(published_events(bot, slack, resolved)) == 1


def test_a_double_click_publishes_once(slack, bot, remote, resolved):
    shown = ask(slack, "alice", resolved)
    as_clicked = dataclasses.replace(shown)  # the second click, on the message not yet replaced
    click(slack, "alice", shown, "publish_anyway")
    click(slack, "alice", as_clicked, "publish_anyway")  # before the first click's work is done
    quiet(bot)
    answers = [shown.text, as_clicked.text]
    assert len(answers) == 2
    assert sum(a.startswith(":white_check_mark: Published") for a in answers) == 1
    assert len(announcements(resolved)) == 1 and len(finals(resolved)) == 1
    assert commits(remote) == [FINAL, DRAFT_1]
    assert len(published_events(bot, slack, resolved)) == 1


def test_keep_writing_publishes_nothing_and_names_the_next_section(slack, bot, remote, resolved):
    shown = ask(slack, "alice", resolved)
    before = click(slack, "alice", shown, "keep_writing")
    replaced = answer(slack, "alice", before)
    assert replaced.text.startswith(":pencil2: Nothing was published. Next empty section: *")
    assert "`/incident write` opens it" in replaced.text
    assert replaced.blocks is None
    quiet(bot)
    assert incident_of(bot, slack, resolved).published_at is None
    assert published_events(bot, slack, resolved) == []
    assert announcements(resolved) == [] and finals(resolved) == []
    assert commits(remote) == [DRAFT_1]


def test_a_button_from_before_a_reopen_does_nothing_but_explain(slack, bot, remote, resolved):
    shown = ask(slack, "alice", resolved)
    slack.command("bob", "/incident", "reopen", resolved.name)
    quiet(bot)
    before = click(slack, "alice", shown, "publish_anyway")
    refused = answer(slack, "alice", before)
    assert refused.text == (
        ":warning: hotfix-001 was reopened since; nothing was published. Resolve it again "
        "(`/incident resolve`), then `/incident publish`."
    )
    quiet(bot)
    assert incident_of(bot, slack, resolved).published_at is None
    assert published_events(bot, slack, resolved) == []
    assert announcements(resolved) == [] and finals(resolved) == []
    assert commits(remote) == [DRAFT_1]


def test_only_people_in_the_incident_channel_publish_with_the_button(slack, bot, remote, resolved):
    shown = ask(slack, "carol", resolved)  # carol never joined #inc-001-...
    before = click(slack, "carol", shown, "publish_anyway")
    refused = answer(slack, "carol", before)
    assert refused.text == (
        ":warning: Only people in the incident channel can publish the hotfix-001 "
        "post-mortem; nothing was published."
    )
    quiet(bot)
    assert published_events(bot, slack, resolved) == []
    assert commits(remote) == [DRAFT_1]


@pytest.fixture
def published(slack, bot, resolved):
    publish_anyway(slack, "alice", resolved)
    wait_for(lambda: finals(resolved), what="the final version")
    quiet(bot)
    return resolved


def test_publishing_again_with_nothing_changed_is_a_short_answer(
    slack, bot, remote, published, clock
):
    clock.now = T0 + timedelta(days=2)
    reply = slack.command("bob", "/incident", "publish", published.name)
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text.startswith(
        ":white_check_mark: The hotfix-001 post-mortem is already published (<!date^"
    )
    assert "|2026-11-27 15:30 UTC>, `hotfix-001/postmortem.md` in " in reply.text
    assert reply.text.endswith("; nothing changed since.")
    assert reply.json.get("blocks") is None  # no buttons: nothing to decide
    quiet(bot)
    assert len(announcements(published)) == 1 and len(finals(published)) == 1
    assert commits(remote) == [FINAL, DRAFT_1]
    assert len(published_events(bot, slack, published)) == 1
    assert incident_of(bot, slack, published).published_at == T0 + timedelta(days=1)


def test_publishing_again_after_a_change_republishes(slack, bot, remote, published, clock):
    clock.now = T0 + timedelta(days=2)
    slack.command("alice", "/incident", "action Alert on 5xx @bob due 2026-12-20", published.name)
    quiet(bot)
    reply = slack.command("alice", "/incident", "publish", published.name)
    assert reply.json["response_type"] == "in_channel"
    assert reply.text.startswith(
        f":tada: <@{slack.user('alice')}> republished the hotfix-001 post-mortem (it changed "
        "since its publication <!date^"
    )
    assert reply.text.endswith("). The final version follows.")
    wait_for(lambda: len(finals(published)) == 2, what="the new final version")
    quiet(bot)
    assert commits(remote) == [FINAL, FINAL, DRAFT_1]
    assert len(published_events(bot, slack, published)) == 2
    assert incident_of(bot, slack, published).published_at == T0 + timedelta(days=2)


def test_a_button_from_before_a_reopen_and_a_new_resolution_does_not_publish(
    slack, bot, remote, resolved, clock
):
    shown = ask(slack, "alice", resolved)
    slack.command("bob", "/incident", "reopen", resolved.name)
    slack.command("bob", "/incident", "action Rotate keys", resolved.name)
    slack.command("bob", "/incident", "resolve", resolved.name)  # other open points now
    quiet(bot)
    refused = answer(slack, "alice", click(slack, "alice", shown, "publish_anyway"))
    assert "was reopened and resolved again since" in refused.text
    quiet(bot)
    assert incident_of(bot, slack, resolved).published_at is None
    assert published_events(bot, slack, resolved) == []


def test_a_button_naming_another_incident_does_nothing(slack, bot, remote, resolved, clock):
    from tests.test_incident_commands import open_incident as open_another

    other = open_another(slack, text="start Search down sev2")
    slack.command("alice", "/incident", "resolve", other.name)
    quiet(bot)
    shown = ask(slack, "alice", resolved)
    for block in shown.blocks:  # a crafted payload: the value names hotfix-002
        for element in block.get("elements", []):
            if element.get("value", "").startswith("hotfix-001@"):
                element["value"] = element["value"].replace("hotfix-001", "hotfix-002")
    refused = answer(slack, "alice", click(slack, "alice", shown, "publish_anyway"))
    assert "That button is not for hotfix-001" in refused.text
    quiet(bot)
    for channel in (resolved, other):
        assert incident_of(bot, slack, channel).published_at is None


def test_a_non_members_button_tells_nothing_of_the_incidents_state(slack, bot, remote, resolved):
    """Found by the adversarial review: who may publish was decided last, so a non-member's
    click heard "already published (date)" or "reopened" first."""
    shown = ask(slack, "carol", resolved)  # carol never joined
    publish_anyway(slack, "alice", resolved)
    quiet(bot)
    refused = answer(slack, "carol", click(slack, "carol", shown, "publish_anyway"))
    assert refused.text == (
        ":warning: Only people in the incident channel can publish the hotfix-001 "
        "post-mortem; nothing was published."
    )


def test_keep_writing_is_for_people_in_the_channel_only(slack, bot, remote, resolved):
    shown = ask(slack, "carol", resolved)  # carol never joined
    refused = answer(slack, "carol", click(slack, "carol", shown, "keep_writing"))
    assert "Only people in the incident channel" in refused.text
    assert "Next empty section" not in refused.text


def test_a_change_to_the_incident_log_alone_is_a_change(slack, bot, remote, published, clock):
    clock.now += timedelta(hours=1)
    slack.command("alice", "/incident", "severity sev1", published.name)  # hotfix.md only
    reply = slack.command("alice", "/incident", "publish", published.name)
    assert "republished" in reply.text


def opened(slack, private):
    title = "Checkout API returning 500s sev2"
    return open_incident(slack, text=f"start --private {title}" if private else f"start {title}")


REMOVED = [(True, "channel_not_found"), (False, "not_in_channel")]  # Slack's answers, by kind


@pytest.mark.parametrize(("private", "error"), REMOVED)
def test_a_draft_asked_for_after_the_bot_was_removed_reaches_the_asker_and_git(
    slack, bot, remote, clock, private, error
):
    channel = opened(slack, private)
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the first draft")
    slack.command("alice", "/timeline", "16:05 root-cause: bad config push", channel.name)
    quiet(bot)
    slack.remove("postmortem", channel.name)  # someone removed the bot from the channel
    before = len(channel.messages)

    reply = slack.command("alice", "/incident", "draft", channel.name)
    assert "it will be posted here" in reply.text
    told = wait_for(
        lambda: [e for e in slack.ephemerals("alice") if "draft 2" in e.text],
        what="alice told, through the command's response_url",
    )
    quiet(bot)
    (told,) = told
    assert told.text.startswith(":warning: The hotfix-001 post-mortem (draft 2) is not posted")
    assert f"I am not in <#{channel.id}> any more (Slack says `{error}`)" in told.text
    assert "invite me back with `/invite @postmortem` in that channel" in told.text
    assert "In the repository: `hotfix-001/postmortem.md` in " in told.text
    assert commits(remote) == ["hotfix-001: post-mortem draft 2", DRAFT_1]  # still went to git
    assert len(channel.messages) == before


@pytest.mark.parametrize(("private", "error"), REMOVED)
def test_publishing_after_the_bot_was_removed_commits_the_final_and_tells_who_published(
    slack, bot, remote, clock, private, error
):
    channel = opened(slack, private)
    clock.now = T0 + timedelta(hours=1)
    slack.command("alice", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the first draft")
    quiet(bot)
    clock.now = T0 + timedelta(days=1)
    shown = ask(slack, "alice", channel)
    slack.remove("postmortem", channel.name)
    answer(slack, "alice", click(slack, "alice", shown, "publish_anyway"))
    quiet(bot)
    assert commits(remote) == [FINAL, DRAFT_1]  # published and committed all the same
    told = [e.text for e in slack.ephemerals("alice") if e.text.startswith(":warning:")]
    assert all(f"Slack says `{error}`" in t for t in told)
    # the response_url reached her; her DM has only the final version, since the channel won't
    (sent,) = slack.ws.im(slack.user("alice")).messages
    assert sent.files[0]["name"] == "hotfix-001-postmortem.md"
    final = next(t for t in told if "post-mortem is not posted" in t)
    assert final.startswith(":warning: The hotfix-001 post-mortem is not posted in the channel")
    assert "It is in your DM with me instead." in final
    if not private:  # chat:write.public: messages still go to a public channel, files do not
        assert told == [final] and len(announcements(channel)) == 1
        return
    assert len(told) == 3, told  # the announcement, the final version, the checklist
    announced, _, checklist = told
    assert announced.startswith(":warning: Not posted in the channel: I am not in ")
    assert "> :tada: <@" in announced and "published the hotfix-001 post-mortem" in announced
    assert checklist.startswith(":warning: The hotfix-001 post-mortem checklist is not up to")


def test_a_push_notice_nobody_asked_for_reaches_the_commander(slack, bot, remote, clock, tmp_path):
    channel = opened(slack, private=True)
    slack.join("bob", channel.name)  # only the channel's members type there
    quiet(bot)
    away = tmp_path / "away.git"
    remote.rename(away)  # the repository is not reachable
    clock.now = T0 + timedelta(hours=1)
    slack.command("bob", "/incident", "resolve 16:25", channel.name)
    wait_for(lambda: [m for m in channel.messages if m.files], what="the first draft")
    quiet(bot)
    slack.remove("postmortem", channel.name)
    away.rename(remote)
    bot.publisher.retry_now()
    quiet(bot)
    assert commits(remote) == [DRAFT_1]
    (dm,) = slack.ws.im(slack.user("alice")).messages  # alice commands hotfix-001
    assert dm.text.startswith(":warning: Not posted in the channel: I am not in <#")
    assert "> :white_check_mark: The hotfix-001 post-mortem is now in the repository" in dm.text
    assert not [m for m in channel.messages if "now in the repository" in m.text]
