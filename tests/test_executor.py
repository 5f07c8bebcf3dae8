"""The listener pool: an ack leaves at once while the listener works on; a listener marked
`answered_in_ack` runs in the request's own thread, and the mark is used up by its request."""

import hashlib
import hmac
import threading
import time
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.sandbox import BOT_TOKEN
from bot.slack.app import LogRequest
from bot.slack.executor import ListenerExecutor, acks_at_once, answered_in_ack

SECRET = "test-signing-secret"


def request(command: str) -> BoltRequest:
    body = urlencode(
        {"team_id": "T1", "user_id": "U1", "channel_id": "C1", "command": command, "text": ""}
    )
    ts = str(int(time.time()))
    base = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return BoltRequest(
        body=body,
        headers={
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature,
            "content-type": "application/x-www-form-urlencoded",
        },
    )


@pytest.fixture
def app(slack):
    pool = ListenerExecutor(max_workers=4, thread_name_prefix="listener")
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=slack.api_url),
        listener_executor=pool,
    )
    app.ran_in = {}
    app.release = threading.Event()

    def here(ack, command):
        app.ran_in["/here"] = threading.current_thread()
        ack("here")

    def pooled(ack, command):
        app.ran_in["/pooled"] = threading.current_thread()
        ack("pooled")
        app.release.wait(5)  # after-ack work, still going when the ack has left
        app.ran_in["/pooled done"] = True

    def fails(ack, command):
        ack("working on it")
        raise RuntimeError("the work after the ack failed")

    app.command("/here", middleware=[answered_in_ack])(acks_at_once(here))
    app.command("/pooled")(acks_at_once(pooled))
    app.command("/fails")(acks_at_once(fails))
    app.use(LogRequest())
    app.error(lambda error: None)  # quick, as a told failure can be: the race is at its widest
    yield app
    app.release.set()
    pool.shutdown(wait=True)


def test_an_ack_leaves_at_once_while_the_listener_works_on(app):
    started = time.monotonic()
    response = app.dispatch(request("/pooled"))
    assert response.status == 200 and response.body == "pooled"
    assert time.monotonic() - started < 1, "the ack did not wait for the after-ack work"
    assert "/pooled done" not in app.ran_in
    assert app.ran_in["/pooled"] is not threading.current_thread()


def test_a_listener_answered_in_its_ack_runs_in_the_requests_thread(app):
    response = app.dispatch(request("/here"))
    assert response.status == 200 and response.body == "here"
    assert app.ran_in["/here"] is threading.current_thread()


def test_the_mark_is_used_up_by_its_own_request(app):
    app.dispatch(request("/here"))
    app.release.set()
    app.dispatch(request("/pooled"))
    assert app.ran_in["/pooled"] is not threading.current_thread()


def test_an_ack_stays_made_when_the_listener_fails_right_after_it(app):
    """Bolt resets the ack when a listener raises after acking; before the request's thread had
    read it, Slack got nothing (a 404 after 3 s) for a command that was answered."""
    for _ in range(20):
        response = app.dispatch(request("/fails"))
        assert (response.status, response.body) == (200, "working on it")
