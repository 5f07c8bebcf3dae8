"""One incident's back-off never stalls another: acks never wait behind retries (issue 12)."""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.test_incident_commands import open_incident


def test_status_answers_in_time_while_another_incidents_work_waits_for_rate_limits(slack, bot):
    busy = open_incident(slack)
    calm = open_incident(slack, "bob", "start search latency p99 over 5s sev3")
    # Slack answers the busy channel's invitations 429 for a while: their retries wait
    slack.fail(
        "conversations.invite",
        "ratelimited",
        status=429,
        retry_after=4,
        times=20,
        channel=busy.id,
    )
    with ThreadPoolExecutor(20) as pool:
        changes = [
            pool.submit(slack.command, "alice", "/incident", "owner add @carol", busy.name)
            for _ in range(20)
        ]
        assert all(c.result().status == 200 for c in changes)
    time.sleep(0.5)  # their work after the ack now waits for Slack
    took = []
    for _ in range(16):
        started = time.monotonic()
        reply = slack.command("bob", "/incident", "status", calm.name)
        took.append(round(time.monotonic() - started, 2))
        assert "hotfix-002" in reply.text
    assert max(took) < 3.0, f"acks waited behind another incident's retries: {took}"
    slack.api.faults.clear()
    bot.settle()
