"""What a request to /slack/events must be before Bolt reads it: small, signed, fresh, new.

The checks run in the order of their cost, each before the next reads more of the request: the
size Content-Length claims, the signature headers' shape, the signature over the body, the
memory of signatures already used, and only then Bolt's parse of the body."""

from __future__ import annotations

import heapq
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slack_bolt.request import BoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body the bot reads, in bytes (1 MiB). Slack's payloads are small (a slash
command is a form of a few hundred bytes; the largest, a view submission, carries a modal's
blocks and values: tens of KiB); anything bigger is not from Slack and is refused with 413
before it is read."""

WINDOW_S = 5 * 60
"""How far a request's X-Slack-Request-Timestamp may be from now, in seconds, and still pass:
five minutes, as Slack's "Verifying requests from Slack" asks and slack_sdk's SignatureVerifier
checks (`abs(now - timestamp) > 60 * 5` fails). A signature is remembered exactly this long after
its timestamp: afterwards the timestamp check refuses it anyway."""

MAX_REMEMBERED = 50_000
"""At most this many signatures are remembered (about 100 bytes each). Only correctly signed
requests are remembered, so only Slack (or someone holding the signing secret) can fill it;
Slack sends an incident bot a handful a minute. When full, the one closest to expiry goes."""

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    """A request turned away: the HTTP status (400, 401 or 413), and why, for the log."""

    status: int
    reason: str


def refuse_size(content_length: str | None) -> Refusal | None:
    """413 when the Content-Length header claims more than MAX_BODY_BYTES (400 when it is not
    a number); None when the body may be read. The body itself is never touched."""
    if not content_length:
        return None
    if not content_length.isdigit():
        return Refusal(400, "Content-Length is not a number")
    if int(content_length) > MAX_BODY_BYTES:
        return Refusal(413, f"body of {content_length} bytes, over the {MAX_BODY_BYTES} limit")
    return None


def refuse_headers(timestamp: str | None, signature: str | None) -> Refusal | None:
    """401 when X-Slack-Request-Timestamp or X-Slack-Signature is missing or not of the shape
    Slack sends (whole seconds; `v0=` and 64 lowercase hex digits), else None."""
    if not timestamp or not signature:
        return Refusal(401, "no Slack signature headers")
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal(401, "X-Slack-Request-Timestamp is not a number of seconds")
    if not _SIGNATURE.fullmatch(signature):
        return Refusal(401, "X-Slack-Signature is not v0= and 64 hex digits")
    return None


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class Signatures:
    """The signatures of the requests let in during the last WINDOW_S: a signature seen twice is
    a replay. Thread-safe (waitress serves requests on several threads); bounded by
    MAX_REMEMBERED; held in this process's memory only, so a restart forgets them."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._expiries: list[tuple[float, bytes]] = []  # a heap: the soonest expiry first
        self._seen: set[bytes] = set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def first_use(self, timestamp: str, signature: str) -> bool:
        """True the first time this (valid, well-formed) signature is offered, and remember it
        until its timestamp can no longer pass; False for a repeat."""
        key = bytes.fromhex(signature.removeprefix("v0="))
        with self._lock:
            now = self._now()
            while self._expiries and (
                self._expiries[0][0] < now or len(self._expiries) >= MAX_REMEMBERED
            ):
                _, old = heapq.heappop(self._expiries)
                self._seen.discard(old)
            if key in self._seen:
                return False
            self._seen.add(key)
            heapq.heappush(self._expiries, (int(timestamp) + WINDOW_S, key))
            return True


class Gate:
    """Checks a request's signature before anything parses its body (slack_sdk's
    SignatureVerifier, with the signing secret) and refuses replays. `now`: seconds since the
    epoch, the clock both the timestamp check and the memory of signatures read."""

    def __init__(self, signing_secret: str, now: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(now))
        self._now = now
        self.signatures = Signatures(now)

    def refuse(self, headers: Mapping[str, str], body: bytes) -> Refusal | None:
        """Why this request must not reach Bolt, or None. `headers`: by lowercase name, the
        signature headers already checked by refuse_headers.

        A repeat of a signature let in is refused 401, unless it carries X-Slack-Retry-Num:
        Slack's Events API retries a delivery it saw fail or time out (3 s) up to three times.
        Slack's docs do not say whether a retry is signed anew; should one reuse the signature,
        it is acknowledged with 200 and not handled again, so that Slack, which disables event
        subscriptions that keep failing, sees a success. Anyone replaying with that header gets
        the same empty 200, which changes nothing."""
        timestamp = headers["x-slack-request-timestamp"]
        signature = headers["x-slack-signature"]
        if abs(self._now() - int(timestamp)) > WINDOW_S:
            return Refusal(401, "X-Slack-Request-Timestamp more than 5 minutes from now")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Slack signs UTF-8 text, and SignatureVerifier can only check text
            return Refusal(401, "the body is not UTF-8, so not signed by Slack")
        if not self._verifier.is_valid(text, timestamp, signature):
            return Refusal(401, "the signature does not match the body")
        if not self.signatures.first_use(timestamp, signature):
            if "x-slack-retry-num" in headers:
                return Refusal(200, "a Slack retry of a request already let in: not handled again")
            return Refusal(401, "a replay of a request already let in")
        return None


def parse_request(body: bytes, query: str, headers: Mapping[str, str]) -> BoltRequest | Refusal:
    """The request as Bolt reads it, or 400 when the body is not a payload Bolt can read (not
    JSON where JSON is due, nested too deep, not an object). Only for signed requests, whose
    body Gate.refuse has found to be UTF-8: a body is parsed once its signature has passed."""
    try:
        text = body.decode("utf-8")
        # parse_body and build_context raise these on bodies of the wrong shape
        request = BoltRequest(body=text, query=query, headers=dict(headers))
    except (ValueError, RecursionError, AttributeError, TypeError, LookupError) as error:
        return Refusal(400, f"the body is not a Slack payload ({type(error).__name__})")
    if not isinstance(request.body, dict):
        return Refusal(400, "the body is not a Slack payload (not an object)")
    return request
