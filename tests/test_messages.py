"""A kept Slack message reads as the person saw it: alerts, files, rich text, names, line breaks.

Payload shapes follow Slack's own samples (java-slack-sdk json-logs: events/MessagePayload.json,
events/MessageBotPayload.json, events/MessageFileSharePayload.json,
app-backend/interactive-components/MessageShortcutPayload.json), written out here by hand.
"""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.messages import Author, Names, message_author, message_text
from bot.slack.text import escape

CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
USERS = {"U00000005": "maria", "U00000007": "dev"}
CHANNELS = {"C0000OPS": "ops-alerts"}
NAMES = Names(user=USERS.get, channel=CHANNELS.get)
NOBODY = Names()
CHANNEL = {"type": "channel", "channel_id": "C0000OPS"}


def text_of(**message):
    return message_text({"type": "message", "ts": "1700000000.000100", **message}, NAMES)


def section(*elements):
    return {"type": "rich_text_section", "elements": list(elements)}


def txt(text, **style):
    return {"type": "text", "text": text, **({"style": style} if style else {})}


def rich(*elements):
    return [{"type": "rich_text", "block_id": "b1", "elements": list(elements)}]


# --- text (mrkdwn) -------------------------------------------------------------------------------


def test_mentions_read_as_names_not_ids():
    assert text_of(text="<@U00000005> please restart the pods") == "@maria please restart the pods"
    assert text_of(text="<@U00000099|old.handle> ack") == "@old.handle ack"
    assert text_of(text="<@U00000099> ack") == "@unknown-user ack"
    assert text_of(text="<@U00000007|stale> on it") == "@dev on it"  # the lookup is current
    assert text_of(text="see <#C0000OPS> and <#C0000XYZ|db> and <#C0000ZZZ>") == (
        "see #ops-alerts and #db and #unknown-channel"
    )


def test_special_mentions_groups_and_dates():
    assert text_of(text="<!here> <!channel> <!everyone>") == "@here @channel @everyone"
    assert text_of(text="<!subteam^S0001|@sre-oncall> and <!subteam^S0002>") == (
        "@sre-oncall and @group"
    )
    assert text_of(text="since <!date^1700000000^{date_short} {time}|Nov 14 22:13>") == (
        "since Nov 14 22:13"
    )
    assert text_of(text="since <!date^1700000000^{time}>") == "since 2023-11-14 22:13 UTC"


def test_links_keep_their_url_once():
    assert text_of(text="<https://status.example.com|status page>") == (
        "status page (https://status.example.com)"
    )
    assert text_of(text="<https://grafana.example.com/d/1>") == "https://grafana.example.com/d/1"
    assert text_of(text="<https://example.com|https://example.com>") == "https://example.com"
    assert text_of(text="<http://example.com|example.com>") == "http://example.com"
    assert text_of(text="<mailto:oncall@example.com|oncall@example.com>") == "oncall@example.com"
    assert text_of(text="<mailto:oncall@example.com|On-call>") == "On-call (oncall@example.com)"
    assert text_of(text="<https://x.example/?a=1&amp;b=2|a &amp; b>") == (
        "a & b (https://x.example/?a=1&b=2)"
    )


def test_line_breaks_survive_and_whitespace_is_tidied():
    assert text_of(text="first  \r\nsecond\n\n\n\nthird\t \n\n") == "first\nsecond\n\nthird"
    assert text_of(text="   \n  ") == ""
    assert text_of(text="a\x00b\x1b[31mc\x85") == "ab[31mc"


def test_hostile_text_is_plain_text_not_markup():
    typed = "<!channel> <script>alert(1)</script> &amp; <@U00000005>"
    assert text_of(text=escape(typed)) == typed  # what the person typed, nothing decoded twice
    assert text_of(text="<!channel> &lt;script&gt;") == "@channel <script>"
    assert text_of(text="&amp;lt;b&amp;gt;") == "&lt;b&gt;"


# --- blocks ------------------------------------------------------------------------------------


def test_rich_text_only_message_with_list_quote_code_and_mention():
    blocks = rich(
        section(txt("Plan for "), {"type": "user", "user_id": "U00000005"}, txt(":\n")),
        {
            "type": "rich_text_list",
            "style": "bullet",
            "indent": 0,
            "elements": [section(txt("drain node ")), section(txt("restart pods", bold=True))],
        },
        {
            "type": "rich_text_list",
            "style": "bullet",
            "indent": 1,
            "elements": [section(txt("checkout first"))],
        },
        {
            "type": "rich_text_list",
            "style": "ordered",
            "offset": 2,
            "elements": [section(txt("watch p99")), section(txt("post in "), CHANNEL)],
        },
        {"type": "rich_text_quote", "elements": [txt("rollback is safe\nsays the runbook")]},
        {
            "type": "rich_text_preformatted",
            "border": 0,
            "elements": [txt("kubectl rollout restart deploy/api\n  --namespace prod  ")],
        },
    )
    assert text_of(text="", blocks=blocks) == (
        "Plan for @maria:\n"
        "• drain node\n"
        "• restart pods\n"
        "  ◦ checkout first\n"
        "3. watch p99\n"
        "4. post in #ops-alerts\n"
        "> rollback is safe\n"
        "> says the runbook\n"
        "kubectl rollout restart deploy/api\n"
        "  --namespace prod"
    )


def test_rich_text_is_not_repeated_from_its_text_copy():
    # A message typed in the composer carries its words twice: `text` and a rich_text block.
    message = {
        "text": "<@U00000005> please restart the pods\n• api\n• worker",
        "blocks": rich(
            section({"type": "user", "user_id": "U00000005"}, txt(" please restart the pods\n")),
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [section(txt("api")), section(txt("worker"))],
            },
        ),
    }
    assert text_of(**message) == "@maria please restart the pods\n• api\n• worker"


def test_rich_text_elements_links_emoji_broadcasts_dates():
    blocks = rich(
        section(
            {"type": "broadcast", "range": "here"},
            txt(" "),
            {"type": "emoji", "name": "fire", "unicode": "1f525"},
            txt(" "),
            {"type": "emoji", "name": "partyparrot"},
            txt(" "),
            {"type": "emoji", "name": "technologist", "unicode": "1f9d1-200d-1f4bb"},
            txt(" "),
            {"type": "link", "url": "https://runbook.example.com", "text": "runbook"},
            txt(" "),
            {"type": "link", "url": "https://example.com/x"},
            txt(" "),
            {"type": "usergroup", "usergroup_id": "S0001"},
            txt(" "),
            {"type": "date", "timestamp": 1700000000, "format": "{time}", "fallback": "22:13"},
            txt(" "),
            {"type": "date", "timestamp": 1700000000, "format": "{time}"},
            txt(" "),
            {"type": "user", "user_id": "U00000099"},
        )
    )
    assert text_of(blocks=blocks) == (
        "@here 🔥 :partyparrot: 🧑\u200d💻 runbook (https://runbook.example.com) "
        "https://example.com/x @group 22:13 2023-11-14 22:13 UTC @unknown-user"
    )


def test_app_blocks_section_fields_header_context():
    message = {
        "bot_id": "B0000DD",
        "text": "Monitor alert",  # the notification fallback; Slack shows the blocks
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "CPU > 90% on db-1"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Host* `db-1` &gt; threshold"},
                "fields": [
                    {"type": "mrkdwn", "text": "*Env:*\nprod"},
                    {"type": "plain_text", "text": "Team: <storage>"},
                ],
                "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Ack"}},
            },
            {"type": "divider"},
            {"type": "actions", "elements": [{"type": "button", "text": {"text": "Mute"}}]},
            {
                "type": "context",
                "elements": [
                    {"type": "image", "image_url": "https://x/i.png", "alt_text": "logo"},
                    {"type": "mrkdwn", "text": "Datadog"},
                    {"type": "plain_text", "text": "monitor 42"},
                ],
            },
        ],
    }
    assert text_of(**message) == (
        "CPU > 90% on db-1\n*Host* `db-1` > threshold\n*Env:*\nprod\nTeam: <storage>\n"
        "Datadog monitor 42"
    )


def test_text_is_used_when_blocks_show_no_words():
    blocks = [{"type": "actions", "elements": [{"type": "button"}]}, {"type": "divider"}]
    assert text_of(text="Deploy finished", blocks=blocks) == "Deploy finished"


# --- attachments (alerting tools) --------------------------------------------------------------


def test_pagerduty_alert_with_attachments_only():
    message = {
        "subtype": "bot_message",
        "bot_id": "B0000PD",
        "username": "PagerDuty",
        "text": "",
        "attachments": [
            {
                "fallback": "Triggered #4711: checkout 5xx rate high",
                "color": "#e01e5a",
                "title": "#4711: checkout 5xx rate high",
                "title_link": "https://acme.pagerduty.com/incidents/Q1ABC",
                "text": "Assigned to <@U00000005>",
                "fields": [
                    {"title": "Urgency", "value": "High", "short": True},
                    {
                        "title": "Service",
                        "value": "<https://acme.pagerduty.com/services/P1|checkout-api>",
                        "short": True,
                    },
                ],
                "mrkdwn_in": ["text", "fields"],
            }
        ],
    }
    assert text_of(**message) == (
        "#4711: checkout 5xx rate high (https://acme.pagerduty.com/incidents/Q1ABC)\n"
        "Assigned to @maria\n"
        "Urgency: High\n"
        "Service: checkout-api (https://acme.pagerduty.com/services/P1)"
    )


def test_fallback_only_when_an_attachment_has_nothing_else():
    only_fallback = {"fallback": "Resolved #4711 by maria", "color": "#2eb886"}
    assert text_of(attachments=[only_fallback]) == "Resolved #4711 by maria"
    assert text_of(attachments=[{**only_fallback, "text": "Resolved"}]) == "Resolved"


def test_datadog_alert_with_pretext_fields_and_footer():
    message = {
        "text": "",
        "attachments": [
            {
                "pretext": "<!subteam^S0001|@sre-oncall>",
                "author_name": "Datadog",
                "title": "[Triggered] High error rate on web",
                "title_link": "https://app.datadoghq.com/monitors/123",
                "text": "Error rate is 7.2% &gt; 5%\n\n\nNotified @slack-ops",
                "fields": [
                    {"title": "host", "value": "web-1"},
                    {"title": "env", "value": "prod"},
                    {"title": "", "value": "no title"},
                    {"title": "no value", "value": ""},
                ],
                "footer": "Datadog Monitors",
            }
        ],
    }
    assert text_of(**message) == (
        "@sre-oncall\n"
        "Datadog\n"
        "[Triggered] High error rate on web (https://app.datadoghq.com/monitors/123)\n"
        "Error rate is 7.2% > 5%\n\n"
        "Notified @slack-ops\n"
        "host: web-1\n"
        "env: prod\n"
        "no title\n"
        "no value\n"
        "Datadog Monitors"
    )


def test_grafana_alerts_each_on_their_own_lines():
    message = {
        "text": "",
        "attachments": [
            {
                "color": "#D63232",
                "title": "[FIRING:1] HighLatency (checkout)",
                "title_link": "https://grafana.example.com/alerting/list",
                "text": "Value: B=1.2\r\nLabels:\r\n - alertname = HighLatency",
                "footer": "Grafana v10.2.0",
                "ts": 1700000000,
                "fallback": "[FIRING:1] HighLatency",
            },
            {"title": "[RESOLVED] DiskFull", "footer": "Grafana v10.2.0"},
            {"title_link": "https://grafana.example.com/d/abc"},
        ],
    }
    assert text_of(**message) == (
        "[FIRING:1] HighLatency (checkout) (https://grafana.example.com/alerting/list)\n"
        "Value: B=1.2\nLabels:\n - alertname = HighLatency\n"
        "Grafana v10.2.0\n"
        "[RESOLVED] DiskFull\nGrafana v10.2.0\n"
        "https://grafana.example.com/d/abc"
    )


def test_mixed_text_then_attachment_then_file():
    message = {
        "user": "U00000005",
        "text": "Looks like <https://grafana.example.com/d/1|this>",
        "attachments": [
            {"text": "p99 latency 2.4s", "footer": "Grafana", "blocks": rich(section(txt("x")))},
            {  # Slack's preview of the link in the text: not the author's words
                "from_url": "https://grafana.example.com/d/1",
                "title": "Grafana dashboard",
                "text": "Dashboards for everyone",
            },
        ],
        "files": [{"name": "graph.png", "permalink": "https://acme.slack.com/files/U5/F1/graph"}],
    }
    assert text_of(**message) == (
        "Looks like this (https://grafana.example.com/d/1)\n"
        "p99 latency 2.4s\nx\nGrafana\n"
        "📎 graph.png (https://acme.slack.com/files/U5/F1/graph)"
    )


def test_a_shared_message_unfurl_is_kept():
    unfurl = {
        "is_msg_unfurl": True,
        "from_url": "https://acme.slack.com/archives/C1/p1700000000000100",
        "author_name": "maria",
        "text": "db-1 is back",
        "footer": "Posted in #ops",
    }
    assert text_of(text="", attachments=[unfurl]) == "maria\ndb-1 is back\nPosted in #ops"


# --- files -------------------------------------------------------------------------------------


def test_file_share_without_text():
    message = {
        "subtype": "file_share",
        "user": "U00000005",
        "text": "",
        "upload": False,
        "files": [
            {
                "id": "F0001",
                "name": "graph.png",
                "title": "p99 after the deploy",
                "mimetype": "image/png",
                "permalink": "https://acme.slack.com/files/U00000005/F0001/graph.png",
            },
            {"id": "F0002", "name": "heap.txt"},
            {"id": "F0003", "mode": "tombstone"},
        ],
    }
    assert text_of(**message) == (
        "📎 p99 after the deploy (https://acme.slack.com/files/U00000005/F0001/graph.png)\n"
        "📎 heap.txt\n"
        "📎 file"
    )


def test_nothing_readable_is_empty():
    assert text_of() == ""
    assert text_of(text="", blocks=[], attachments=[{"color": "#fff"}], files=[]) == ""
    assert message_text({}, NOBODY) == ""


# --- authors -----------------------------------------------------------------------------------


def test_bot_message_is_named_by_its_bot_profile():
    message = {
        "bot_id": "B0000DD",
        "user": "U0000BOT",
        "app_id": "A0000DD",
        "bot_profile": {"id": "B0000DD", "name": "Datadog", "app_id": "A0000DD"},
        "text": "",
    }
    assert message_author(message) == Author(id="B0000DD", name="Datadog", is_app=True)


def test_a_custom_username_is_what_slack_shows():
    message = {"bot_id": "B1", "bot_profile": {"name": "Alerts"}, "username": "Grafana"}
    assert message_author(message) == Author("B1", "Grafana", True)
    legacy = {"subtype": "bot_message", "bot_id": "B2", "username": "PagerDuty", "text": ""}
    assert message_author(legacy) == Author("B2", "PagerDuty", True)
    assert message_author({"subtype": "bot_message", "bot_id": "B3"}) == Author("B3", None, True)


def test_a_person_is_named_by_the_caller_unless_the_payload_says():
    assert message_author({"user": "U00000005", "text": "hi"}) == Author("U00000005", None, False)
    profiled = {"user": "U1", "user_profile": {"display_name": "", "real_name": "Maria Ruiz"}}
    assert message_author(profiled) == Author("U1", "Maria Ruiz", False)
    assert message_author({}) == Author("unknown", None, False)


# --- properties --------------------------------------------------------------------------------

KEY_WORDS = (
    "type text elements blocks attachments files fields title value title_link url user_id "
    "channel_id indent offset style unicode name timestamp fallback range pretext footer "
    "author_name from_url is_msg_unfurl permalink bot_id bot_profile username user subtype "
    "user_profile display_name"
)
TYPE_WORDS = (
    "rich_text rich_text_section rich_text_list rich_text_quote rich_text_preformatted text "
    "link user channel usergroup emoji broadcast date section header context markdown mrkdwn "
    "plain_text ordered bullet bot_message"
)
KEYS = st.sampled_from(KEY_WORDS.split())
TYPES = st.sampled_from(TYPE_WORDS.split())
MARKUP = ["<@U1|a>", "<!date^9e99|x>", "<!subteam^S1>", "<!here>", "<https://x|y>", "&lt;", "<#C1>"]
TEXT = st.text(max_size=30) | st.lists(st.sampled_from(MARKUP) | st.text(max_size=5)).map("".join)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT | TYPES
PAYLOADS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | TEXT, inner, max_size=6),
    max_leaves=40,
)


ANY = SCALARS | PAYLOADS
INLINE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["text", "link", "user", "channel", "usergroup", "emoji", "broadcast", "date", "team"]
        )
    },
    optional={
        key: ANY | TEXT
        for key in [
            "text",
            "url",
            "user_id",
            "channel_id",
            "name",
            "timestamp",
            "fallback",
            "range",
            "value",
        ]
    }
    | {"unicode": st.from_regex(r"[0-9a-fA-F]{1,8}(-[0-9a-fA-F]{1,8}){0,3}", fullmatch=True)},
)
LEAF = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["rich_text_section", "rich_text_quote", "rich_text_preformatted"]),
        "elements": st.lists(INLINE, max_size=5),
    }
)
RICH = st.recursive(
    LEAF,
    lambda inner: st.fixed_dictionaries(
        {"type": st.just("rich_text_list"), "elements": st.lists(inner, max_size=3)},
        optional={"indent": ANY, "offset": ANY, "style": st.sampled_from(["bullet", "ordered"])},
    ),
    max_leaves=12,
)
ATTACHMENT = st.fixed_dictionaries(
    {},
    optional={
        key: ANY | TEXT
        for key in [
            "pretext",
            "author_name",
            "title",
            "title_link",
            "text",
            "footer",
            "fallback",
            "from_url",
        ]
    }
    | {"fields": st.lists(st.dictionaries(st.sampled_from(["title", "value"]), TEXT | ANY))},
)
TEXT_OBJECT = st.fixed_dictionaries(
    {"type": st.sampled_from(["mrkdwn", "plain_text", "image"]) | ANY, "text": TEXT | ANY}
)
PLAUSIBLE = st.fixed_dictionaries(
    {},
    optional={
        "text": TEXT,
        "blocks": st.lists(
            st.fixed_dictionaries(
                {"type": st.just("rich_text"), "elements": st.lists(RICH, max_size=4)}
            )
            | st.fixed_dictionaries(
                {"type": st.sampled_from(["section", "header", "context", "markdown"])},
                optional={"text": TEXT_OBJECT | ANY, "fields": st.lists(TEXT_OBJECT | ANY)}
                | {"elements": st.lists(TEXT_OBJECT | ANY)},
            )
            | st.dictionaries(KEYS, ANY),
            max_size=3,
        ),
        "attachments": st.lists(ATTACHMENT, max_size=3),
        "files": st.lists(st.dictionaries(st.sampled_from(["name", "title", "permalink"]), ANY)),
        "bot_id": TEXT | ANY,
        "subtype": st.just("bot_message") | ANY,
        "bot_profile": st.dictionaries(st.just("name"), TEXT | ANY) | ANY,
        "username": TEXT | ANY,
    },
)


def lookup(found):
    return lambda key: found


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(KEYS, PAYLOADS, max_size=8) | PLAUSIBLE,
    st.sampled_from([None, "", "x\x07y"]),
)
def test_any_payload_gives_text_without_control_characters(message, found):
    text = message_text(message, Names(user=lookup(found), channel=lookup(found)))
    assert isinstance(text, str)
    assert not CONTROL_RE.search(text)
    assert text == text.strip("\n") and "\n\n\n" not in text and "\r" not in text
    author = message_author(message)
    assert author.id and isinstance(author.is_app, bool)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200))
def test_typed_text_comes_back_as_typed(typed):
    typed = typed.strip()
    assert message_text({"text": escape(typed)}, NOBODY) == typed
