"""Attack: "Mark done" when Slack refuses to update the DM it was clicked in."""

from tests.conftest import mark_done_dm


def dm(slack, who):
    return slack.ws.im(slack.user(who))


def test_mark_done_half_done_when_the_dm_update_fails_and_trying_again_does_not_finish(
    slack, bot, channel
):
    slack.command("alice", "/incident", "action rotate keys @bob due 2027-01-10", channel.name)
    bot.settle()
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    message = mark_done_dm(slack, "bob")
    slack.fail("chat.update", "internal_error", channel=dm(slack, "bob").id)  # once
    slack.click("bob", message, "action_done")
    bot.settle()
    told = [e.text for e in slack.ephemerals("bob")]
    slack.click("bob", message, "action_done")  # "try again in a minute", bob does
    bot.settle()
    closed = [m.text for m in channel.messages if "closed AI-001" in m.text]
    checklist = next(m for m in channel.messages if "Post-mortem checklist" in m.text)
    assert closed, (
        f"bob was told {told}; AI-001 is done in the database, but the channel never hears "
        f"it was closed, even after he clicks again; the checklist says "
        f"{[b['text']['text'] for b in checklist.blocks if 'Action items' in str(b)]}"
    )
