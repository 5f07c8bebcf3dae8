"""Socket Mode: the bot's WebSocket to Slack, slack_sdk's aiohttp client on a thread of its own.

Envelopes go to the Bolt app on a thread pool (as HTTP requests go to waitress's threads) and
are acked from the event loop; the README says why this client and not another.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger("bot.socket_mode")


class _NoTraceback(logging.Filter):
    """The client logs every failed reconnection with a traceback; its message names the error
    already, and during an outage one line per try is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_NO_TRACEBACK = _NoTraceback()


class SocketMode:
    """The Bolt `app` over Socket Mode with the app-level token `app_token`.

    Every `ping_interval` seconds the client pings Slack; a connection that stops answering
    (about 1.5 intervals: aiohttp's heartbeat) or ends without a close frame is replaced by a new
    one (`apps.connections.open` at `api_url`) within about one more interval. A `disconnect`
    from Slack (`refresh_requested`, every few hours) opens the new connection at once.
    """

    def __init__(
        self, app: App, app_token: str, api_url: str, ping_interval: float = 2.0, workers: int = 16
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.api_url = api_url
        self.ping_interval = ping_interval
        logger.addFilter(_NO_TRACEBACK)  # once: a logger keeps a filter only once
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socket-mode")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="socket-mode-loop", daemon=True
        )
        self._client: SocketModeClient | None = None

    def connect(self, url: str | None = None, timeout: float = 30.0) -> None:
        """Open the first connection, to `url` if `apps.connections.open` already gave one
        (`bot.slack.startup.check_slack`: it says why, when Slack refuses the app token).

        Raises TimeoutError if no connection opens within `timeout` seconds; the client keeps
        trying until `close`."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(url), self._loop)
        future.result(timeout)

    async def _open(self, url: str | None) -> None:
        self._client = SocketModeClient(
            app_token=self.app_token,
            logger=logger,
            web_client=AsyncWebClient(base_url=self.api_url),
            ping_interval=self.ping_interval,
        )
        self._client.socket_mode_request_listeners.append(self._handle)  # type: ignore[arg-type]
        self._client.wss_uri = url
        await self._client.connect()  # type: ignore[no-untyped-call]

    async def _handle(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        started = time.time()
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self._pool, run_bolt_app, self.app, request)
        await send_async_response(client, request, response, started)

    def close(self) -> None:
        """Close the connection (waiting up to 5 s for Slack's side of the close), then wait
        for the envelopes the app is still answering."""
        if self._client is not None:
            closing = self._client.close()  # type: ignore[no-untyped-call]
            try:
                asyncio.run_coroutine_threadsafe(closing, self._loop).result(5)
            except TimeoutError:  # a connection nothing gets through any more
                logger.warning("Socket Mode: Slack did not answer the close; leaving it")
        self._pool.shutdown(wait=True)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
