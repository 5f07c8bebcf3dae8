"""The front door under attack: oversized, unsigned, malformed and replayed requests are refused
before they cost anything, with one short log line each, and change nothing."""

import logging
import socket
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
from slack_bolt import App

from bot.sandbox import SIGNING_SECRET, sign
from bot.server import Health, create_wsgi
from bot.slack.gate import MAX_BODY_BYTES, MAX_REMEMBERED, WINDOW_S, Gate, Signatures
from tests.conftest import recorded
from tests.test_incident_commands import open_incident
from tests.test_request_safety import FORM, command_body

JSON = "application/json"
MIB = 1024 * 1024
DEEP = b"[" * 200_000 + b"]" * 200_000
# Bodies no Slack request has; each must be refused before anything parses it.
JUNK = {
    "payload=notjson": (b"payload=notjson", FORM),
    "200,000-deep JSON": (DEEP, JSON),
    "not UTF-8": (b"payload=\xff\xfe\xfd", FORM),
    "a JSON body": (
        b'{"type": "event_callback", "event": {"type": "member_joined_channel"}}',
        JSON,
    ),
}


def raw_exchange(url, head, body_parts=(), timeout=30):
    """Send raw bytes to the bot's HTTP server and read its answer until it closes; a generous
    timeout, never a timed assertion: a server that waited for the rest would make this fail."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(head)
        for part in body_parts:
            try:
                conn.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server stopped reading: what it answered is below
        answer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def post(url, body, content_type, headers=None):
    """A POST with exactly these headers (no signature unless given): (status, text)."""
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        + "\r\n"
    ).encode()
    answer = raw_exchange(url, head + body)
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode(errors="replace")


def signed(body, secret=SIGNING_SECRET, timestamp=None):
    timestamp = timestamp or str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(secret, timestamp, body),
    }


@pytest.fixture
def log(caplog):
    """What the bot logs from here on, at INFO and above."""
    caplog.set_level(logging.INFO)
    caplog.clear()
    return caplog


def assert_one_short_line_each(log, requests, level=logging.WARNING):
    """Exactly one log line per refused request, at `level`, one line long, no traceback."""
    records = [r for r in log.records if r.levelno >= logging.INFO]
    assert len(records) == requests, [r.getMessage() for r in records]
    for record in records:
        assert record.levelno == level and record.exc_info is None
        assert "\n" not in record.getMessage() and len(record.getMessage()) < 200
    assert "Traceback" not in log.text


# --- size ------------------------------------------------------------------------------------


def test_a_body_claiming_300_mib_is_refused_413_before_it_is_read(bot, log):
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
        f"Content-Type: {FORM}\r\nContent-Length: {300 * MIB}\r\n\r\n"
    ).encode()
    answer = raw_exchange(bot.url, head, [b"payload=a few bytes, never the rest"])
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert "Traceback" not in log.text


def test_a_chunked_body_over_the_limit_is_refused_413(bot, log):
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
        f"Content-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"a" * 64 * 1024)
    answer = raw_exchange(bot.url, head, [chunk] * (MAX_BODY_BYTES // (64 * 1024) + 2))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert "Traceback" not in log.text


def test_a_hundred_and_fifty_idle_connections_do_not_shut_slack_out(slack, bot):
    """Found by the adversarial review: waitress held at most 100 connections, so a hundred
    left open (a request begun and never finished) kept every new one waiting."""
    address = urlsplit(bot.url)
    idle = []
    try:
        for _ in range(150):
            s = socket.create_connection((address.hostname, address.port), timeout=10)
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n")  # and never the rest
            idle.append(s)
        body = command_body(slack.ws.team_id, slack.general.id, slack.user("alice"), "help")
        assert slack.send(body, FORM).status == 200
    finally:
        for s in idle:
            s.close()


def test_a_body_at_the_limit_is_still_read(slack, bot):
    """The control for the two above: the limit refuses only what is over it."""
    body = command_body(slack.ws.team_id, slack.general.id, slack.user("alice"), "help")
    body += b"&padding=" + b"a" * (MAX_BODY_BYTES - len(body) - len(b"&padding="))
    assert len(body) == MAX_BODY_BYTES
    assert slack.send(body, FORM).status == 200


def test_the_wsgi_layer_answers_413_without_touching_the_body(store, log):
    """Behind another server than waitress, Content-Length alone decides: wsgi.input is
    never read."""

    class Untouchable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = readlines = __iter__ = read

    app = App(signing_secret=SIGNING_SECRET, token="xoxb-t", token_verification_enabled=False)
    wsgi = create_wsgi(app, Health(store), SIGNING_SECRET)
    statuses = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(300 * MIB),
        "wsgi.input": Untouchable(),
        **signed(b"", SIGNING_SECRET),
    }
    body = b"".join(wsgi(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 Content Too Large"] and b"limit" in body
    assert_one_short_line_each(log, 1)


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", JUNK)
@pytest.mark.parametrize("how", ["no signature headers", "signed with another secret"])
def test_unsigned_junk_is_refused_401_with_one_short_line(slack, bot, log, junk, how):
    body, content_type = JUNK[junk]
    headers = {} if how == "no signature headers" else signed(body, "not-the-secret")
    for _ in range(3):
        status, _text = post(bot.url, body, content_type, headers)
        assert status == 401
    assert_one_short_line_each(log, 3)


@pytest.mark.parametrize(
    "timestamp, signature",
    [
        ("now", None),  # only the timestamp
        (None, "v0=" + "0" * 64),  # only the signature
        ("1e9", "v0=" + "0" * 64),
        ("soon", "v0=" + "0" * 64),
        ("now", "v0=xyz"),
        ("now", "v1=" + "0" * 64),
        ("now", "v0=" + "0" * 63),
        ("now", "v0=" + "0" * 64 + " "),
    ],
)
def test_missing_or_malformed_signature_headers_are_refused_401_before_parsing(
    bot, log, timestamp, signature
):
    """The body is junk a parser chokes on: only a refusal before parsing answers 401."""
    headers = {}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = (
            str(int(time.time())) if timestamp == "now" else timestamp
        )
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    status, _text = post(bot.url, b"payload=notjson", FORM, headers)
    assert status == 401
    assert_one_short_line_each(log, 1)


def test_a_non_numeric_timestamp_signed_with_the_secret_is_refused_401(slack, bot, log):
    """Signed over the timestamp "soon" with the real secret: not a time, so not a request."""
    body = command_body(slack.ws.team_id, slack.general.id, slack.user("alice"), "start x sev2")
    status, text = post(bot.url, body, FORM, signed(body, timestamp="soon"))
    assert status == 401 and "Something went wrong" not in text
    assert bot.store.open_incidents(slack.ws.team_id) == []
    assert_one_short_line_each(log, 1)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"payload=notjson", FORM),
        (DEEP, JSON),
        (b"[1, 2, 3]", JSON),
        (b'{"type": "block_actions", "team": ', JSON),
        (b"payload=" + urlencode({"x": "y"}).encode(), FORM),
        (b"payload=%5B1%5D", FORM),  # payload=[1]
    ],
    ids=["payload=notjson", "deep", "a list", "cut short", "not JSON", "a payload list"],
)
def test_signed_but_malformed_bodies_get_400_with_one_short_line(bot, log, body, content_type):
    """Someone holding the secret sends junk: 400, never a 500 with a traceback."""
    status, _text = post(bot.url, body, content_type, signed(body))
    assert status == 400
    assert_one_short_line_each(log, 1)


def test_a_body_that_is_not_utf8_is_refused_401_even_signed_over_its_bytes(bot, log):
    """Slack signs UTF-8 text (and slack_sdk's verifier checks only text): bytes that are not
    UTF-8 carry no Slack signature, whoever computed an HMAC over them."""
    body = b"payload=\xff\xfe\xfd"
    status, _text = post(bot.url, body, FORM, signed(body))
    assert status == 401
    assert_one_short_line_each(log, 1)


# --- replays ---------------------------------------------------------------------------------


def entries_saying(bot, slack, channel, words):
    incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
    return [e for e in bot.store.entries(slack.ws.team_id, incident.id) if words in e.text]


def test_a_replayed_timeline_entry_is_refused_and_recorded_once(slack, bot, log):
    channel = open_incident(slack)
    reply = slack.command("bob", "/timeline", "detected: alert fired", channel.name)
    assert recorded(reply)
    log.clear()
    assert slack.replay(reply).status == 401
    assert_one_short_line_each(log, 1)
    bot.settle()
    assert len(entries_saying(bot, slack, channel, "alert fired")) == 1


def test_a_replayed_incident_start_opens_one_incident(slack, bot):
    reply = slack.command("alice", "/incident", "start Checkout API returning 500s sev2")
    assert reply.status == 200 and "hotfix-001" in reply.text
    assert slack.replay(reply).status == 401
    slack.posted_channel("inc-001")
    bot.settle()
    assert len(bot.store.open_incidents(slack.ws.team_id)) == 1
    assert len([c for c in slack.ws.channels.values() if c.name.startswith("inc-")]) == 1


def test_the_same_request_sent_at_once_from_many_threads_gets_in_once(slack, bot):
    """Waitress serves on 16 threads: the memory of signatures holds under concurrency."""
    channel = open_incident(slack)
    body = command_body(
        slack.ws.team_id, channel.id, slack.user("bob"), "fix: rolled back", "/timeline"
    )
    headers = signed(body)
    start = threading.Barrier(8)
    statuses = []

    def send():
        start.wait()
        statuses.append(post(bot.url, body, FORM, headers)[0])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 7
    bot.settle()
    assert len(entries_saying(bot, slack, channel, "rolled back")) == 1


def test_a_slack_retry_reusing_a_signature_is_acknowledged_not_handled_twice(slack, bot, log):
    """Should Slack retry a delivery with its first signature (X-Slack-Retry-Num), it gets the
    200 Slack wants, so the app is not disabled for failing, and nothing happens twice."""
    channel = open_incident(slack)
    reply = slack.command("bob", "/timeline", "detected: pager went off", channel.name)
    assert recorded(reply)
    log.clear()
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.replay(reply, retry).status == 200
    assert_one_short_line_each(log, 1, level=logging.INFO)
    bot.settle()
    assert len(entries_saying(bot, slack, channel, "pager went off")) == 1


def test_signatures_are_remembered_exactly_while_they_could_pass_and_no_more():
    now = [1_800_000_000.0]
    gate = Gate(SIGNING_SECRET, now=lambda: now[0])
    body = b"command=%2Ftimeline"
    headers = {k.lower(): v for k, v in signed(body, timestamp=str(int(now[0]))).items()}
    assert gate.refuse(headers, body) is None
    now[0] += WINDOW_S  # the last moment the timestamp passes: still a replay
    assert gate.refuse(headers, body).reason == "a replay of a request already let in"
    now[0] += 0.5  # from now on the timestamp check refuses it; the memory has let it go
    assert gate.refuse(headers, body).status == 401
    gate.signatures.first_use(str(int(now[0])), "v0=" + "1" * 64)
    assert len(gate.signatures) == 1


def test_the_memory_of_signatures_is_bounded():
    signatures = Signatures(now=lambda: 1_800_000_000.0)
    for n in range(MAX_REMEMBERED + 100):
        assert signatures.first_use("1800000000", f"v0={n:064x}")
    assert len(signatures) <= MAX_REMEMBERED
    assert not signatures.first_use("1800000000", f"v0={MAX_REMEMBERED + 99:064x}")


def test_the_real_process_logs_one_line_per_refusal_and_no_traceback(tmp_path, slack):
    """`python -m bot run` with its own logging: junk, forgeries and a 300 MiB claim."""
    from tests.test_process import bot_process

    with bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as running:
        url = f"http://127.0.0.1:{running.port}"
        for body, content_type in JUNK.values():
            assert post(url, body, content_type)[0] == 401
            assert post(url, body, content_type, signed(body, "not-the-secret"))[0] == 401
        head = f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: {300 * MIB}\r\n\r\n"
        assert raw_exchange(url, head.encode(), [b"a few bytes"]).startswith(b"HTTP/1.1 413 ")
    assert running.process.returncode == 0, running.output
    assert "Traceback" not in running.output
    refusals = [line for line in running.output.splitlines() if "refused" in line]
    assert len(refusals) == 2 * len(JUNK), running.output
