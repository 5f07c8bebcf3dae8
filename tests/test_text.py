"""Slack text: decoded once on the way in, escaped once on the way out."""

from bot.slack.text import decode, escape, parse_mention, split_args


def test_decode_turns_slack_markup_into_what_was_typed():
    assert decode("<@U123|alice> paged &lt;3 &amp; more") == "@alice paged <3 & more"
    assert decode("see <#C42|general> <!here> <!channel>") == "see #general @here @channel"
    assert decode("<https://status.example.com|status page>") == "status page"
    assert decode("<https://example.com>") == "https://example.com"
    assert decode("<@U999>", lambda uid: {"U999": "bob"}.get(uid)) == "@bob"


def test_typed_markup_survives_a_round_trip_without_double_escaping():
    typed = "<!channel> &lt; is not < and a|b"
    slack_delivers = escape(typed)  # how Slack sends what the person typed
    stored = decode(slack_delivers)
    assert stored == typed
    shown = escape(stored)
    assert shown == "&lt;!channel&gt; &amp;lt; is not &lt; and a|b"
    assert "&amp;amp;" not in shown and "<!channel>" not in shown


def test_mentions_and_args():
    assert parse_mention("<@U123|alice>") == ("U123", "alice")
    assert parse_mention("<@W9>") == ("W9", "")
    assert parse_mention("@alice") is None
    assert split_args("owner add <@U1|a b> <@U2|c>") == ["owner", "add", "<@U1|a b>", "<@U2|c>"]
