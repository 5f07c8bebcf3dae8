"""Attack: the 3 seconds Slack gives an ack, spent twice before one: Slack's users.info (up to
2 s, for the time zone) and then the database (up to 2.5 s, another writer holding it)."""

from tests.test_busy_database import held


def test_a_backdated_entry_is_acked_too_late_and_kept_so_typing_it_again_doubles_it(
    slack, bot, channel, config
):
    bot.settle()
    slack.api.delays["users.info"] = (
        1.8  # Slack answers slowly (within the bot's 2 s); 15:30 is read on bob's clock
    )
    with held(config.database_path, seconds=4.0):  # a backup holds the database a moment
        reply = slack.command("bob", "/timeline", "15:30 detected: checkout errors", channel.name)
    slack.api.delays.clear()
    late = reply.seconds > 3.0
    slack.problems.clear()  # checked here, with what it led to
    bot.settle()
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    kept = [
        e for e in bot.store.entries(slack.ws.team_id, incident.id) if "checkout errors" in e.text
    ]
    # Slack shows bob "operation_timeout" for an ack after 3 s: he types it again
    assert not (late and kept), (
        f"acked after {reply.seconds:.1f} s (Slack told bob it failed), yet recorded: "
        f"{len(kept)} entry; bob's retry makes it two"
    )
