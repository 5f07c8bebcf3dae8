"""Attack: a form submitted while another process holds the database."""

from tests.test_busy_database import held


def test_a_section_form_sent_while_the_database_is_busy_gets_an_answer_slack_cannot_show(
    slack, bot, channel, config
):
    slack.command("alice", "/incident", "write summary", channel.name)
    assert slack.modal("alice") is not None
    bot.settle()
    with held(config.database_path, seconds=4.0):
        reply = slack.submit("alice", {"text": "Two hours of careful writing."})
    bot.settle()
    body = reply.json
    # Slack takes an empty body or a `response_action` in answer to a view_submission; anything
    # else shows the person "We had some trouble connecting" in the form
    assert reply.body == "" or "response_action" in body, (
        f"the answer to the submission is {reply.body!r}: Slack cannot show a message's text "
        "in a form, so the person never reads that the database was busy (README: 'the answer "
        "says so')"
    )
