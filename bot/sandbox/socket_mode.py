"""Socket Mode: the WebSocket an app opens after `apps.connections.open`, with Slack's envelopes.

Slack sends `hello`, then envelopes (`slash_commands`, `interactive`, `events_api`) that the app
acknowledges with `{"envelope_id": ..., "payload": ...}`. Frames follow RFC 6455 (the server's
unmasked, the client's masked); pings are answered with pongs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import struct
import threading
import uuid
from typing import Any, BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 65536:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    head = stream.read(2)
    if len(head) < 2:
        raise ConnectionError("socket closed")
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", stream.read(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", stream.read(8))
    mask = stream.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = stream.read(size)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class SocketConnection:
    """One app connection: send envelopes, wait for their acks."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO, app_id: str) -> None:
        self.reader = reader
        self.writer = writer
        self.app_id = app_id
        self.open = True
        self._send_lock = threading.Lock()
        self._acks: dict[str, tuple[threading.Event, list[Any]]] = {}

    def _send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.writer.write(encode_frame(opcode, payload))
            self.writer.flush()

    def send_json(self, message: dict[str, Any]) -> None:
        self._send(TEXT, json.dumps(message).encode())

    def hello(self) -> None:
        self.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": self.app_id},
                "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            }
        )

    def envelope(self, kind: str, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one envelope; the ack's payload ({} if none), or None if no ack in time."""
        envelope_id = str(uuid.uuid4())
        done = threading.Event()
        box: list[Any] = []
        self._acks[envelope_id] = (done, box)
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
        self._acks.pop(envelope_id, None)
        return (box[0] or {}) if answered else None

    def serve(self) -> None:
        """Read the app's frames until it closes: acks, pings, close."""
        try:
            while self.open:
                opcode, data = read_frame(self.reader)
                if opcode == PING:
                    self._send(PONG, data)
                elif opcode == CLOSE:
                    self._send(CLOSE, data[:2])
                    break
                elif opcode == TEXT:
                    message = json.loads(data)
                    waiting = self._acks.get(message.get("envelope_id", ""))
                    if waiting:
                        waiting[1].append(message.get("payload"))
                        waiting[0].set()
        except (ConnectionError, OSError, ValueError):
            pass  # the app went away; Slack would just drop the connection too
        finally:
            self.open = False

    def close(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OSError):
                self._send(CLOSE, struct.pack("!H", 1001))
