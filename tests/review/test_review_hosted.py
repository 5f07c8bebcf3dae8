"""Review mode with a host token, on GitHub and on GitLab: the bot opens the pull request through
the host's API (title, body, reviewers from REVIEWER_ACCOUNTS), relays review comments to the
announcement's thread, hears a closing from the host, and publishes on the merge. The host is
the local fake (bot/sandbox/githost.py) over real HTTP; git pushes go to a real bare repository
that git's own `url.<path>.insteadOf` puts behind the host's URL."""

import subprocess
from datetime import timedelta

import pytest

from tests.conftest import wait_for
from tests.reviewing import (
    BRANCH,
    PM,
    T0,
    as_person,
    git,
    put_up_for_review,
    quiet,
    said,
    watch,
)


@pytest.fixture(params=["github", "gitlab"])
def flavor(request):
    return request.param


def test_the_pull_request_is_opened_with_title_body_and_reviewers(slack, bot, host, resolved):
    announcement = put_up_for_review(slack, bot, resolved)
    pull = host.pulls[1]
    assert (pull.head, pull.base) == (BRANCH, "main")
    assert pull.title == "hotfix-001 post-mortem: Checkout API returning 500s"
    assert "### Open points" in pull.body and "Merging this pull request publishes" in pull.body
    assert pull.reviewers == ["carol"]
    assert "pull request #1" in announcement.text and host.web_url in announcement.text
    assert "Reviewers asked: `carol`" in announcement.text


def test_review_comments_reach_the_announcements_thread_once_escaped(slack, bot, host, resolved):
    announcement = put_up_for_review(slack, bot, resolved)
    host.comment(1, "Is the <root cause> & timeline right? @channel", by="bob", path=PM, line=3)
    watch(bot)
    watch(bot)
    replies = [
        m for m in resolved.messages if m.thread_ts == announcement.ts and m.ts != m.thread_ts
    ]
    assert len(replies) == 1, [m.text for m in replies]
    assert "*bob* on `hotfix-001/postmortem.md`" in replies[0].text
    assert "&lt;root cause&gt; &amp; timeline" in replies[0].text
    assert "<!channel>" not in replies[0].text


def test_a_pull_request_closed_on_the_host_is_a_draft_again(slack, bot, host, resolved):
    put_up_for_review(slack, bot, resolved)
    host.close(1)
    watch(bot)
    back = said(resolved, ":leftwards_arrow_with_hook:")
    assert len(back) == 1 and "closed without merging" in back[0].text
    put_up_for_review(slack, bot, resolved)
    assert sorted(host.pulls) == [1, 2]


def test_merging_publishes(slack, bot, host, resolved, colleague, clock):
    put_up_for_review(slack, bot, resolved)
    git("fetch", "-q", cwd=colleague)
    as_person(colleague, "merge", "--no-ff", "-q", "-m", "Merge !1", f"origin/{BRANCH}")
    git("push", "-q", "origin", "main", cwd=colleague)
    host.merge(1, by="carol")
    clock.now = T0 + timedelta(days=1)
    watch(bot)
    assert len(said(resolved, ":tada:")) == 1
    text = said(resolved, ":tada:")[0].text
    assert "pull request #1" in text
    assert "carol merged" in text  # the host's word; git alone would say Dana Reviewer


def test_a_refused_token_reaches_the_person_and_opens_nothing(slack, bot, host, resolved):
    host.tokens.clear()  # the token was revoked
    reply = slack.command("alice", "/incident", "publish", resolved.name)
    assert "Putting the hotfix-001 post-mortem up for review" in reply.text
    told = wait_for(
        lambda: (
            [e.text for e in slack.ephemerals("alice") if "No pull request" in e.text]
            + [
                m.text
                for m in slack.ws.im(slack.user("alice")).messages
                if "No pull request" in m.text
            ]
        ),
        what="the refusal",
    )
    assert "TOKEN" in told[0]  # the setting to fix is named
    quiet(bot)
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    assert bot.store.review(incident).status == "drafting"
    assert not said(resolved, ":mag:")


def test_git_alone_still_pushes_through_insteadof(remote, host, resolved):
    """The branch really is in the bare repository (the fake host reads it from there)."""
    out = subprocess.run(
        ["git", "--git-dir", str(remote), "rev-parse", "--verify", BRANCH], capture_output=True
    )
    assert out.returncode == 0 and host.sha(BRANCH)
