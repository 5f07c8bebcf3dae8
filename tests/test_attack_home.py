"""Attack: the App Home while an incident has no channel (its start is under way)."""

import json
import time

from tests.conftest import wait_for
from tests.test_limits import open_home


def test_the_app_home_links_a_channel_named_none(slack, bot):
    slack.api.delays["conversations.create"] = 2.0
    slack.command("alice", "/incident", "start api gateway down sev1")
    time.sleep(0.3)
    blocks = open_home(slack, bot, "alice")  # alice looks at the bot's Home meanwhile
    wait_for(lambda: any("is open in" in e.text for e in slack.ephemerals("alice")), what="open")
    shown = json.dumps(blocks)
    # (/incident list says "(channel being created)" for the same incident: blocks.incident_line)
    assert "<#None>" not in shown, f"the Home shows a link to a channel 'None': {shown}"
