"""What unsigned oversized POSTs cost the bot, run on demand: `python bench/oversized.py`.

Starts `python -m bot run` against the sandbox's Web API, then sends unsigned POSTs of 300 MiB to
/slack/events (one, then three at once), each streamed so the sender holds only 1 MiB, and prints
the status each got, how long it took, and the process's memory (VmRSS now, VmHWM the peak, in MiB)
before, after one, and after three. Never part of the tests.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator  # noqa: E402

MIB = 1024 * 1024
SIZE = 300 * MIB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def memory_mib(pid: int) -> str:
    """ "VmRSS / VmHWM" of a process, in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    now, peak = (int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM"))
    return f"{now} / {peak}"


def chunks() -> Iterator[bytes]:
    block = b"x" * MIB
    for _ in range(SIZE // MIB):
        yield block


def post(port: int, results: list[str]) -> None:
    """One unsigned 300 MiB POST; appends "<status> in <seconds> s" (or the error) to results."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "POST",
            "/slack/events",
            body=chunks(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(SIZE),
            },
        )
        status = str(conn.getresponse().status)
    except OSError as exc:  # the bot closed the connection before the body was sent
        try:
            status = f"{conn.getresponse().status} (connection closed early)"
        except Exception:
            status = type(exc).__name__
    finally:
        conn.close()
    results.append(f"{status} in {time.monotonic() - started:.1f} s")


def burst(port: int, n: int) -> list[str]:
    results: list[str] = []
    threads = [threading.Thread(target=post, args=(port, results)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> int:
    port = free_port()
    with Emulator() as slack, tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(port),
            "DATABASE_PATH": str(Path(data) / "incidents.db"),
            "LOG_LEVEL": "WARNING",
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            time.sleep(1)
            print("memory in MiB (now / peak)")
            print(f"  idle:            {memory_mib(child.pid)}")
            one = burst(port, 1)
            time.sleep(1)
            print(f"  after one:       {memory_mib(child.pid)}   {one}")
            three = burst(port, 3)
            time.sleep(1)
            print(f"  after three:     {memory_mib(child.pid)}   {three}")
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
