"""The pool Bolt runs listeners on, tuned so an ack goes out the moment it is made.

Bolt hands each listener to this pool and then polls every 10 ms until the listener has acked.
Here `submit` returns only once the listener has acked (or finished), so the poll finds the ack
at once: under load that saves a 10 ms step on every command. The submitter's context (the
request id for the logs) goes along into the listener's thread. A listener whose whole answer
is its ack skips the pool altogether (`answered_in_ack`).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from slack_bolt import Ack, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.logs import ContextExecutor
from bot.store import after_ack, answering

ACK_WAIT_S = 3.0  # Slack's own limit: never hold a request longer
LISTENER_THREADS = 256  # at most this many listeners still at work after their ack
_acked: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "acked", default=None
)
_here: contextvars.ContextVar[bool] = contextvars.ContextVar("here", default=False)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class ListenerExecutor(ContextExecutor):
    """Bolt's listener pool. Work before an ack is bounded by the server's request threads
    (each waits for its ack); after the ack a listener may wait a long time (Slack's
    Retry-After, a busy database). So the pool is large: a thread is only made when none is
    idle, and an ack never waits for a thread that another incident's retries hold."""

    def __init__(
        self, max_workers: int = LISTENER_THREADS, thread_name_prefix: str = "listener"
    ) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if _here.get():
            _here.set(False)
            future: Future[T] = Future()
            # in a context of its own: what the listener sets (after_ack) stays with this request
            context = contextvars.copy_context()
            future.set_result(context.run(fn, *args, **kwargs))  # Bolt's wrapper handles errors
            return future
        acked = threading.Event()
        token = _acked.set(acked)
        try:
            future = super().submit(fn, *args, **kwargs)
        finally:
            _acked.reset(token)
        future.add_done_callback(lambda _: acked.set())
        acked.wait(ACK_WAIT_S)
        return future


def _signal() -> None:
    if (event := _acked.get()) is not None:
        event.set()


def acks_at_once(listener: F) -> F:
    """Wrap a listener so its ack (or, for events Bolt acks itself, its start) is signalled,
    and until then its writes wait for a busy database only as long as Slack allows (after it,
    as in all background work, they wait it out: `answering`, `after_ack` in
    bot/store/connection.py)."""
    if "ack" not in inspect.signature(listener).parameters:

        @functools.wraps(listener)
        def started(*args: Any, **kwargs: Any) -> Any:
            _signal()
            return listener(*args, **kwargs)

        return started  # type: ignore[return-value]

    @functools.wraps(listener)
    def wrapper(*args: Any, ack: Any, **kwargs: Any) -> Any:
        answering()  # until the ack, writes wait for a busy database only as long as Slack does

        def signalling_ack(*a: Any, **kw: Any) -> Any:
            try:
                return ack(*a, **kw)
            finally:
                _signal()
                after_ack()  # nobody waits for this listener now: writes wait out a busy database

        return listener(*args, ack=signalling_ack, **kwargs)

    return wrapper  # type: ignore[return-value]


class KeptAck(Ack):
    """An ack that, once made, stays made.

    When a listener raises after its ack, Bolt's thread runner (slack_bolt 1.x,
    listener/thread_runner.py, `run_ack_function_asynchronously`) sets `ack.response = None`;
    if that happens before the request's thread has read the ack, Bolt waits out its 3 s and
    answers Slack with nothing (a 404, "didn't call ack()"), and the person sees the command
    fail although it was answered. Here that assignment is ignored: the ack made is the answer.
    """

    def __init__(self) -> None:
        self.response = None

    @property
    def response(self) -> BoltResponse | None:
        return self.__dict__.get("_made")

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self.__dict__.get("_made") is None:
            self.__dict__["_made"] = value


def keep_acks(req: BoltRequest) -> None:
    """Give the request a KeptAck; call it in global middleware, before any listener runs."""
    req.context["ack"] = KeptAck()


class AnsweredInAck(Middleware):
    """Listener middleware for a listener that does nothing after its ack (`/timeline`): it runs
    in the request's own thread, since the request waits for all of it anyway.

    Bolt runs listener middleware in that thread just before it submits the listener, so the
    next `submit` there is this listener's. Under load each hand-over between threads is a round
    of switches on the interpreter lock: most of what such a listener would otherwise cost.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        _here.set(True)
        return next()


answered_in_ack = AnsweredInAck()


def before_ack(client: WebClient, timeout_s: int = 2) -> WebClient:
    """A client for a Web API call made before the ack (Slack allows 3 s for all of it): the
    same token and Slack, waiting at most `timeout_s` seconds, without retries (a 429's
    Retry-After or a retried timeout would outlast the ack)."""
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=timeout_s, retry_handlers=[]
    )
