"""What both websockets share: frame size and JSON checks, per-connection rate limits, error frames."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async

from tickets.errors import TicketError

MAX_FRAME_CHARS = 16_384
MAX_BODY_CHARS = 4000
MAX_CLIENT_MSG_ID = 64


# Database calls partly wait (round trips, the COMMIT's WAL flush), so a process needs more threads than cores;
# each takes its connection from the process's psycopg pool (DB_POOL_MAX_SIZE). Not many more: the threads
# share one GIL and the event loop waits behind them: bench/chat_load.py at 70 msg/s, two runs each, chat p99
# 470 and 840 ms with 24 threads, 340 and 300 ms with 8 (commits take ~1 ms on our machines).
_EXECUTOR = ThreadPoolExecutor(
    max_workers=int(os.environ.get("WEBSOCKET_DB_THREADS", "8")), thread_name_prefix="carddesk-ws-db"
)


def db(func):
    """Run ORM work from a consumer in a sized thread pool.

    channels' default (thread_sensitive) runs every consumer's database call of the process on one shared
    thread, and the loop's default executor has cores + 4 threads: either way 200 chat sockets queued behind
    each other's fsyncs (bench/chat_load.py). Each call is its own unit of work (a service's transaction or a
    read), so nothing needs a shared thread.
    """
    return database_sync_to_async(func, thread_sensitive=False, executor=_EXECUTOR)


class TokenBucket:
    """`rate` frames per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FrameError(Exception):
    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.frame = {"type": "error", "code": code, "message": message, **extra}


def parse_frame(text_data: str | None, *, limit: int = MAX_FRAME_CHARS) -> dict[str, Any]:
    if text_data is None:
        raise FrameError("malformed", "Send JSON text frames.")
    if len(text_data) > limit:
        raise FrameError("too_large", f"Frames are at most {limit // 1024} KB.")
    try:
        content = json.loads(text_data)
    except ValueError:
        raise FrameError("malformed", "Frames are JSON objects.") from None
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        raise FrameError("malformed", "Frames are JSON objects with a type.")
    return content


def message_fields(frame: dict[str, Any]) -> tuple[str, str]:
    """client_msg_id and body of a `message` frame, or a FrameError naming the bad field."""
    client_msg_id = frame.get("client_msg_id")
    if not isinstance(client_msg_id, str) or not client_msg_id.strip() or len(client_msg_id) > MAX_CLIENT_MSG_ID:
        raise FrameError("invalid", "client_msg_id must be a string of 1 to 64 characters.", field="client_msg_id")
    body = frame.get("body")
    if not isinstance(body, str) or not body.strip():
        raise FrameError("invalid", "The message is empty.", field="body", client_msg_id=client_msg_id)
    if len(body) > MAX_BODY_CHARS:
        raise FrameError(
            "invalid", f"Messages are at most {MAX_BODY_CHARS} characters.", field="body", client_msg_id=client_msg_id
        )
    return client_msg_id.strip(), body


def domain_error(error: TicketError, **extra: Any) -> dict[str, Any]:
    frame = {"type": "error", "code": error.code, "message": str(error.message), **extra}
    if error.field:
        frame["field"] = error.field
    return frame
