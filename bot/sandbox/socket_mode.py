"""Socket Mode: the WebSocket an app opens after `apps.connections.open`, with Slack's envelopes.

Slack's end is served by the `websockets` library (RFC 6455 framing, pings, close handshake).
Between it and the app runs a `Link` per connection, the network, which can lose the connection
as a network does: reset it, close it without a close frame, or let it go silent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

Drop = Literal["reset", "close", "silent"]


class Link:
    """One connection's network path: bytes pass both ways until it is dropped.

    `drop("reset")` sends the app a TCP reset, `drop("close")` a FIN without a close frame (a
    proxy or Slack's host going away); `drop("silent")` delivers nothing either way from then on
    and closes nothing on the app's side (a dead route), so only the app's own pings can tell.
    """

    def __init__(self, app: socket.socket, slack: tuple[str, int]) -> None:
        self.app = app
        self.slack = socket.create_connection(slack)
        self.silent = False
        self._lock = threading.Lock()
        self._open = 2  # directions still flowing

    def start(self) -> None:
        for source, target in ((self.app, self.slack), (self.slack, self.app)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @property
    def slack_address(self) -> tuple[str, int]:
        address: tuple[str, int] = self.slack.getsockname()
        return address

    def drop(self, how: Drop) -> None:
        if how == "silent":
            self.silent = True
        else:
            with contextlib.suppress(OSError):
                if how == "reset":  # SO_LINGER 0: closing sends RST instead of FIN
                    linger = struct.pack("ii", 1, 0)
                    self.app.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                # wake the pump reading it (a close alone would wait for that read to end)
                self.app.shutdown(socket.SHUT_RD if how == "reset" else socket.SHUT_RDWR)
            self.app.close()
        with contextlib.suppress(OSError):
            self.slack.shutdown(socket.SHUT_RDWR)  # Slack's end learns the connection is gone

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.silent:
                    target.sendall(data)
            if not self.silent:
                target.shutdown(socket.SHUT_WR)  # pass the orderly end on
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= 1
                ended = self._open == 0
            if ended or (source is self.app and self.silent):
                self.app.close()
                self.slack.close()


class SocketConnection:
    """One app connection, as Slack's end sees it: send envelopes, wait for their acks."""

    def __init__(self, websocket: ServerConnection, link: Link | None, app_id: str) -> None:
        self.websocket = websocket
        self.link = link
        self.app_id = app_id
        self.open = True
        self.opened_at = time.monotonic()  # when the app connected (monotonic seconds)
        self._acks: dict[str, tuple[threading.Event, list[Any]]] = {}

    def send_json(self, message: dict[str, Any]) -> None:
        self.websocket.send(json.dumps(message))

    def hello(self) -> None:
        self.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": self.app_id},
                "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            }
        )

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to move to a new connection, as Slack does every few hours."""
        self.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}})

    def envelope(self, kind: str, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one envelope; the ack's payload ({} if none), or None if no ack in time."""
        envelope_id = str(uuid.uuid4())
        done = threading.Event()
        box: list[Any] = []
        self._acks[envelope_id] = (done, box)
        try:
            self.send_json(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
            answered = done.wait(timeout)
        except ConnectionClosed:
            answered = False
        finally:
            self._acks.pop(envelope_id, None)
        return (box[0] or {}) if answered else None

    def serve(self) -> None:
        """Read the app's messages (acks) until the connection ends, however it ends."""
        try:
            for data in self.websocket:
                message = json.loads(data)
                waiting = self._acks.get(message.get("envelope_id", ""))
                if waiting:
                    waiting[1].append(message.get("payload"))
                    waiting[0].set()
        except (ConnectionClosed, ValueError):
            pass  # the app went away; Slack just drops the connection too
        finally:
            self.open = False

    def close(self) -> None:
        if self.open:
            self.open = False
            self.websocket.close(1001)


class SocketServer:
    """Slack's Socket Mode endpoint: `url()` is what `apps.connections.open` answers; each new
    connection is greeted with `hello` and handed to `on_connect`."""

    def __init__(self, app_id: str, on_connect: Callable[[SocketConnection], None]) -> None:
        self.app_id = app_id
        self.on_connect = on_connect
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._listener = socket.create_server(("127.0.0.1", 0))  # where apps connect: the network
        self._links: dict[tuple[str, int], Link] = {}
        self._stopped = False

    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/{uuid.uuid4().hex}"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); a close alone would not
        self._listener.close()
        self._server.shutdown()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                app, _ = self._listener.accept()
            except OSError:
                return
            try:
                link = Link(app, self._server.socket.getsockname())
            except OSError:  # stopping: Slack's end is gone
                app.close()
                return
            self._links[link.slack_address] = link
            link.start()

    def _handle(self, websocket: ServerConnection) -> None:
        link = self._links.pop(websocket.remote_address, None)
        connection = SocketConnection(websocket, link, self.app_id)
        self.on_connect(connection)
        connection.hello()
        connection.serve()
