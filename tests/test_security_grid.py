"""Enterprise Grid: on an org-wide install Slack sends interactivity payloads with `team: null`
(the workspace is in `user.team_id` and `view.team_id`) and events whose `authorizations` name
no workspace. Every listener, driven through the running bot by the emulator installed
org-wide (bot/sandbox/grid.py), still does its work."""

import json
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.request.internals import extract_team_id
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.manifest import manifest_scopes
from bot.publisher import Publisher
from bot.sandbox import BOT_TOKEN, Emulator
from bot.sandbox.grid import Org, org_wide
from bot.slack.app import create_app, repo_for
from bot.slack.payloads import team_of
from tests import test_restart_recovery
from tests.conftest import SHARED, START, mark_done_dm, wait_for
from tests.test_incident_commands import open_incident

ORG = Org("E0ACMEORG", "Acme Org")


@pytest.fixture
def slack():
    """The strict emulator, with the app installed org-wide on ORG."""
    with Emulator(scopes=manifest_scopes(), org=ORG) as emulator:
        yield emulator
        emulator.wait_idle()
        assert emulator.problems == [], "Slack refused something the bot sent"


def dm(slack, who):
    return slack.ws.im(slack.user(who))


def checklist(channel):
    return wait_for(
        lambda: next(
            (m for m in channel.messages if m.blocks and "Post-mortem of" in str(m.blocks[0])),
            None,
        ),
        what="the post-mortem checklist",
    )


def incident_of(slack, bot, channel):
    return bot.store.incident_by_channel(slack.ws.team_id, channel.id)


def resolved(slack, bot):
    """hotfix-001, opened by alice with bob in its channel, resolved: its checklist posted."""
    channel = open_incident(slack)
    slack.join("bob", channel.name)
    slack.command("alice", "/timeline", "detected: PagerDuty alert on 5xx", channel.name)
    slack.command("alice", "/incident", "resolve", channel.name)
    bot.settle()
    checklist(channel)
    return channel


def confirmation(slack, who):
    return wait_for(
        lambda: next(
            (e for e in slack.ephemerals(who) if e.blocks and "publish_anyway" in str(e.blocks)),
            None,
        ),
        what="the publish confirmation",
    )


def section_rows(slack, bot, channel):
    return bot.store.db.execute(
        "SELECT section, value FROM section_values WHERE incident_id = ?",
        [incident_of(slack, bot, channel).id],
    ).fetchall()


def action_rows(slack, bot, channel):
    return bot.store.db.execute(
        "SELECT text, status FROM action_items WHERE incident_id = ?",
        [incident_of(slack, bot, channel).id],
    ).fetchall()


# --- one case per listener: what it does, done with Grid-shaped payloads ----------------------


def write_section(slack, bot):
    slack.click("alice", checklist(resolved(slack, bot)), "write_section", "summary")
    assert (slack.modal("alice") or {}).get("callback_id") == "section_modal"


def assign_section(slack, bot):
    channel = resolved(slack, bot)
    shown = checklist(channel)
    slack.choose("bob", shown, "assign_section", "root_cause")  # the section first: waits
    carol = slack.user("carol")
    slack.choose("bob", shown, "assign_person", carol, {"assign_section": "root_cause"})
    bot.settle()
    rows = bot.store.db.execute("SELECT section, user_id FROM section_assignments").fetchall()
    assert rows == [("root_cause", carol)]


def add_action(slack, bot):
    slack.click("alice", checklist(resolved(slack, bot)), "add_action")
    assert (slack.modal("alice") or {}).get("callback_id") == "action_modal"


def post_draft(slack, bot):
    channel = resolved(slack, bot)
    drafts = len([m for m in channel.messages if m.files])
    slack.click("alice", checklist(channel), "post_draft")
    bot.settle()
    wait_for(lambda: len([m for m in channel.messages if m.files]) > drafts, what="a new draft")


def action_done(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/incident", "action rotate keys @bob due 2027-01-10", channel.name)
    bot.settle()
    message = mark_done_dm(slack, "bob")
    slack.click("bob", message, "action_done")
    bot.settle()
    assert action_rows(slack, bot, channel) == [("rotate keys", "done")]


def publish_anyway(slack, bot):
    channel = resolved(slack, bot)
    slack.command("alice", "/incident", "publish", channel.name)
    slack.click("alice", confirmation(slack, "alice"), "publish_anyway")
    bot.settle()
    bot.publisher.wait_idle()
    wait_for(lambda: incident_of(slack, bot, channel).published_at, what="the publication")


def keep_writing(slack, bot):
    channel = resolved(slack, bot)
    slack.command("alice", "/incident", "publish", channel.name)
    shown = confirmation(slack, "alice")
    slack.click("alice", shown, "keep_writing")
    wait_for(lambda: "Nothing was published" in shown.text, what="the answer to Keep writing")


def section_modal(slack, bot):
    channel = resolved(slack, bot)
    slack.click("bob", checklist(channel), "write_section", "summary")
    reply = slack.submit("bob", {"text": "Checkout failed after a bad config push."})
    assert reply.status == 200 and reply.json.get("response_action") != "errors", reply.body
    bot.settle()
    assert ("summary", "Checkout failed after a bad config push.") in section_rows(
        slack, bot, channel
    )


def action_modal(slack, bot):
    channel = resolved(slack, bot)
    slack.click("bob", checklist(channel), "add_action")
    reply = slack.submit(
        "bob",
        {"text": "Split checkout config", "owner": slack.user("alice"), "priority": "long-term"},
    )
    assert reply.status == 200 and reply.json.get("response_action") != "errors", reply.body
    bot.settle()
    assert action_rows(slack, bot, channel) == [("Split checkout config", "open")]


def reminder_write(slack, bot):
    resolved(slack, bot)  # alice commands it: she owns the post-mortem, her App Home lists it
    slack.open_home("alice")
    slack.click_home("alice", "reminder_write")
    assert (slack.modal("alice") or {}).get("callback_id") == "section_modal"


def reminder_draft(slack, bot):
    resolved(slack, bot)
    slack.open_home("alice")
    slack.click_home("alice", "reminder_draft")
    bot.settle()
    wait_for(
        lambda: any(m.files for m in dm(slack, "alice").messages), what="the draft in alice's DM"
    )


def snooze(choice):
    """A case for the reminder DM's `reminder_snooze_<choice>`: the reminder DM as the bot
    sends it (its blocks from bot/slack/reminder_blocks.py), clicked by its owner alice."""

    def case(slack, bot):
        from bot.slack.reminder_blocks import build_deadline_dm

        channel = resolved(slack, bot)
        incident = incident_of(slack, bot, channel)
        blocks = build_deadline_dm(incident, [], START)
        im = dm(slack, "alice")
        reminder = slack.ws.post(im, slack.ws.bot.id, "due soon", blocks, bot=True)
        slack.click("alice", reminder, f"reminder_snooze_{choice}")
        bot.settle()
        wait_for(
            lambda: any(r.kind == "snooze" for r in bot.store.pending_reminders()),
            what="the snoozed reminder",
        )

    return case


def add_to_timeline(slack, bot):
    channel = open_incident(slack)
    message = slack.say("bob", channel.name, "rolled back to v41")
    reply = slack.shortcut("alice", "add_to_timeline", channel.name, message)
    assert reply.status == 200, reply.body
    bot.settle()
    texts = [
        e.text for e in bot.store.entries(slack.ws.team_id, incident_of(slack, bot, channel).id)
    ]
    assert "rolled back to v41" in texts


def app_home_opened(slack, bot):
    open_incident(slack)
    slack.open_home("alice")
    assert "Checkout API returning 500s" in str(slack.api.home[slack.user("alice")]["blocks"])


def member_joined_channel(slack, bot):
    channel = open_incident(slack)
    slack.join("carol", channel.name)
    bot.settle()
    assert bot.store.is_member(slack.ws.team_id, channel.id, slack.user("carol"))


def member_left_channel(slack, bot):
    channel = open_incident(slack)
    slack.join("carol", channel.name)
    bot.settle()
    slack.remove("carol", channel.name)
    bot.settle()
    assert not bot.store.is_member(slack.ws.team_id, channel.id, slack.user("carol"))


def incident_command(slack, bot):
    channel = open_incident(slack)
    assert incident_of(slack, bot, channel) is not None


def timeline_command(slack, bot):
    channel = open_incident(slack)
    slack.command("alice", "/timeline", "deployed: rollback to v41", channel.name)
    bot.settle()
    texts = [
        e.text for e in bot.store.entries(slack.ws.team_id, incident_of(slack, bot, channel).id)
    ]
    assert "rollback to v41" in " ".join(texts)


def kept_texts(slack, bot, channel):
    incident = incident_of(slack, bot, channel)
    return [e.text for e in bot.store.entries(slack.ws.team_id, incident.id)]


def reaction_added(slack, bot):
    channel = open_incident(slack)
    message = slack.say("bob", channel.name, "replica promoted")
    slack.react("alice", channel.name, message.ts, "pushpin")
    bot.settle()
    assert "replica promoted" in kept_texts(slack, bot, channel)


def reaction_removed(slack, bot):
    channel = open_incident(slack)
    message = slack.say("bob", channel.name, "maybe the CDN")
    slack.react("alice", channel.name, message.ts, "pushpin")
    bot.settle()
    slack.unreact("alice", channel.name, message.ts, "pushpin")
    bot.settle()
    assert "maybe the CDN" not in kept_texts(slack, bot, channel)


def pin_added(slack, bot):
    channel = open_incident(slack)
    message = slack.say("bob", channel.name, "traffic drained")
    slack.pin("alice", channel.name, message.ts)
    bot.settle()
    assert "traffic drained" in kept_texts(slack, bot, channel)


def pin_removed(slack, bot):
    channel = open_incident(slack)
    message = slack.say("bob", channel.name, "pinned by mistake")
    slack.pin("alice", channel.name, message.ts)
    bot.settle()
    slack.unpin("alice", channel.name, message.ts)
    bot.settle()
    assert "pinned by mistake" not in kept_texts(slack, bot, channel)


def message(slack, bot):
    channel = open_incident(slack)
    said = slack.say("bob", channel.name, "rolled back to v40")
    slack.react("alice", channel.name, said.ts, "pushpin")
    bot.settle()
    slack.edit("bob", channel.name, said.ts, "rolled back to v41")
    bot.settle()
    assert "rolled back to v41" in kept_texts(slack, bot, channel)


def timeline_import(slack, bot):
    channel = open_incident(slack)
    slack.backfill(channel.name, [("bob", START + timedelta(minutes=3), "deployed the fix")])
    assert slack.command("alice", "/timeline", "import", channel.name).status == 200
    view = wait_for(
        lambda: (v := slack.modal("alice", wait=0)) and v.get("callback_id") == "timeline_import",
        what="the import form",
    )
    assert view


def timeline_import_modal(slack, bot):
    channel = open_incident(slack)
    slack.backfill(channel.name, [("bob", START + timedelta(minutes=3), "deployed the fix")])
    slack.command("alice", "/timeline", "import", channel.name)
    wait_for(
        lambda: (slack.modal("alice", wait=0) or {}).get("callback_id") == "timeline_import",
        what="the import form",
    )
    reply = slack.submit("alice", {})  # as shown: the fix ticked in advance
    assert reply.status == 200 and reply.json.get("response_action") != "errors", reply.body
    bot.settle()
    entries = bot.store.entries(slack.ws.team_id, incident_of(slack, bot, channel).id)
    assert [e.text for e in entries if e.source == "message"] == ["deployed the fix"]


# (kind, id) of each listener in the route table (bot/slack/app.py, register) -> its case
CASES: dict[tuple[str, str], Callable[..., None]] = {
    ("command", "/incident"): incident_command,
    ("command", "/timeline"): timeline_command,
    ("command", "/timeline import"): timeline_import,
    ("view", "timeline_import"): timeline_import_modal,
    ("shortcut", "add_to_timeline"): add_to_timeline,
    ("action", "write_section"): write_section,
    ("action", "add_action"): add_action,
    ("action", "assign_section"): assign_section,
    ("action", "post_draft"): post_draft,
    ("action", "action_done"): action_done,
    ("action", "publish_anyway"): publish_anyway,
    ("action", "keep_writing"): keep_writing,
    ("view", "section_modal"): section_modal,
    ("view", "action_modal"): action_modal,
    ("action", "reminder_write"): reminder_write,
    ("action", "reminder_draft"): reminder_draft,
    ("action", "reminder_snooze_2h"): snooze("2h"),
    ("action", "reminder_snooze_morning"): snooze("morning"),
    ("event", "app_home_opened"): app_home_opened,
    ("event", "member_joined_channel"): member_joined_channel,
    ("event", "member_left_channel"): member_left_channel,
    ("event", "reaction_added"): reaction_added,
    ("event", "reaction_removed"): reaction_removed,
    ("event", "pin_added"): pin_added,
    ("event", "pin_removed"): pin_removed,
    ("event", "message"): message,
}


@pytest.mark.parametrize("case", CASES.values(), ids=[i for _, i in CASES])
def test_each_listener_does_its_work_on_an_org_wide_install(slack, bot, case):
    case(slack, bot)
    bot.settle()
    assert slack.problems == []


def request_for(kind: str, name: str) -> BoltRequest:
    """The smallest request Bolt routes to the listener of `kind` and `name`."""
    command, _, text = name.partition(" ")  # "/timeline import": a command and its text
    form = {"command": command, "text": text}
    payloads = {
        "shortcut": {"type": "message_action", "callback_id": name},
        "action": {"type": "block_actions", "actions": [{"action_id": name}]},
        "view": {"type": "view_submission", "view": {"type": "modal", "callback_id": name}},
    }
    if kind == "event":
        body = json.dumps({"type": "event_callback", "event": {"type": name}})
        return BoltRequest(body=body, headers={"content-type": ["application/json"]})
    if kind in payloads:
        form = {"payload": json.dumps(payloads[kind])}
    return BoltRequest(
        body=urlencode(form), headers={"content-type": ["application/x-www-form-urlencoded"]}
    )


def test_every_registered_listener_has_a_grid_case(slack, config, store):
    """A listener added to the route table without a case above fails here."""
    app = create_app(config, store, Publisher(repo_for(config)))
    listeners = app._listeners  # Bolt's route table, in registration order
    answered = BoltResponse(status=200)
    unmatched = [
        key
        for key in CASES
        if sum(listener.matches(req=request_for(*key), resp=answered) for listener in listeners)
        != 1
    ]
    assert unmatched == [], f"cases that name no listener (or several): {unmatched}"
    assert len(listeners) == len(CASES), (
        f"{len(listeners)} listeners are registered and {len(CASES)} have a Grid case: add one"
    )


def test_the_emulator_answers_as_an_org_wide_install(slack):
    """auth.test and users.info name the org as well as the workspace; the methods whose
    team_id Slack requires with an org token refuse a call without it."""
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    auth = client.auth_test()
    assert (auth["team_id"], auth["enterprise_id"], auth["is_enterprise_install"]) == (
        slack.ws.team_id,
        ORG.id,
        True,
    )
    user = client.users_info(user=slack.user("alice"))["user"]
    assert user["enterprise_user"]["enterprise_id"] == ORG.id
    with pytest.raises(SlackApiError) as refused:
        client.conversations_create(name="inc-999-anywhere")
    assert refused.value.response["error"] == "missing_argument"
    made = client.conversations_create(name="inc-999-somewhere", team_id=slack.ws.team_id)
    assert made["channel"]["name"] == "inc-999-somewhere"


SAMPLES = SHARED / "slack" / "java-slack-sdk-json-samples"
KINDS = {  # Slack's sample of each payload kind -> how it is delivered
    "app-backend/interactive-components/BlockActionPayload.json": "interactive",
    "app-backend/interactive-components/MessageShortcutPayload.json": "interactive",
    "app-backend/views/ViewSubmissionPayload.json": "interactive",
    "app-backend/views/ViewClosedPayload.json": "interactive",
    "app-backend/slash-commands/SlashCommandPayload.json": "slash_commands",
    "events/AppHomeOpenedPayload.json": "events_api",
    "events/MemberJoinedChannelPayload.json": "events_api",
    "events/ReactionAddedPayload.json": "events_api",
    "events/PinAddedPayload.json": "events_api",
}


def in_workspace(sample: dict, team_id: str) -> dict:
    """Slack's sample (its ids left empty) as a workspace install in `team_id` receives it."""
    body = json.loads(json.dumps(sample).replace('"enterprise_id": ""', '"enterprise_id": null'))
    for key in ("team_id", "context_team_id"):
        if key in body:
            body[key] = team_id
    for part in ("team", "user", "view"):
        if isinstance(body.get(part), dict):
            body[part]["id" if part == "team" else "team_id"] = team_id
    if isinstance(body.get("view"), dict):
        body["view"]["app_installed_team_id"] = team_id
    for authorization in body.get("authorizations", []):
        authorization["team_id"] = team_id
    return body


@pytest.mark.parametrize("sample", KINDS, ids=[name.rsplit("/", 1)[1] for name in KINDS])
def test_the_workspace_is_found_in_every_payload_kind_on_grid(sample):
    """Where Slack puts the workspace, in its own sample of each kind: for a workspace install
    and for an org-wide one (team null, authorizations[0].team_id null)."""
    if not SAMPLES.exists():
        pytest.skip(f"Slack's payload samples are not at hand ({SAMPLES})")
    body = in_workspace(json.loads((SAMPLES / sample).read_text()), "T0WORK")
    assert team_of(body) == "T0WORK"
    grid = org_wide(KINDS[sample], body, "T0WORK", ORG)
    assert team_of(grid) == "T0WORK"
    if KINDS[sample] == "interactive":
        assert grid["team"] is None
    # why not Bolt's context.team_id: on Grid it is None for events, the org's id for views
    if KINDS[sample] == "events_api":
        assert extract_team_id(grid) is None
    elif "view" in grid:
        assert extract_team_id(grid) == ORG.id


# Work after a restart runs on the process's own client, which names no workspace: the methods
# Slack's reference marks "team_id required if org token is used" must name it themselves.
test_a_start_the_process_died_in_is_undone_on_an_org_wide_install = (
    test_restart_recovery.test_a_start_the_process_died_in_is_undone_and_its_starter_told
)
