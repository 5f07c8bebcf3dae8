"""Attack: Slack refuses the checklist once, after `/incident resolve`."""


def checklists(channel):
    return [m for m in channel.messages if "Post-mortem checklist" in m.text]


def test_a_checklist_slack_refused_once_never_comes(slack, bot, channel):
    bot.settle()
    # one transient refusal, in the channel, of the first post after the resolve: the checklist
    slack.fail("chat.postMessage", "internal_error", channel=channel.id)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    dms = slack.ws.im(slack.user("alice")).messages
    told = [m.text for m in dms if "checklist" in m.text] + [
        e.text for e in slack.ephemerals("alice") if "checklist" in e.text
    ]
    assert told, "alice hears the checklist was not posted"
    # Slack is fine again; the team writes, adds an action item, asks for a draft
    slack.command("alice", "/incident", "write summary", channel.name)
    slack.submit("alice", {"text": "A config push broke the gateway."})
    slack.command("alice", "/incident", "action roll back faster @bob", channel.name)
    slack.command("alice", "/incident", "draft", channel.name)
    bot.settle()
    assert checklists(channel), (
        f"alice was told {told[0]!r} and nothing brings the checklist back: no command "
        "posts it, and every later change only updates a checklist that exists"
    )
