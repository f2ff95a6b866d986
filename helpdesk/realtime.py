"""The one way to notify websocket clients: after commit, through the channel layer, by group name.

The channel layer only notifies (DESIGN.md invariant 1): events carry ids and `seq`, clients fetch the
truth from PostgreSQL, so a dropped event costs a refetch, never data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def shop_group(shop_id: int) -> str:
    return f"shop.{shop_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


SUPERVISORS_GROUP = "supervisors"


SEND_TIMEOUT_SECONDS = 10.0
_sync_loop_state: tuple[int, asyncio.AbstractEventLoop] | None = None
_sync_loop_lock = threading.Lock()


def _inside_asgi_thread() -> bool:
    """Called from a sync_to_async worker thread of a running ASGI server: its own loop is the one to use."""
    local = SyncToAsync.threadlocal
    return getattr(local, "main_event_loop_pid", None) == os.getpid() and bool(getattr(local, "main_event_loop", None))


def _sync_loop() -> asyncio.AbstractEventLoop:
    """One long-lived event loop per process for purely synchronous callers (Celery tasks, commands).

    async_to_sync outside an ASGI server makes a new loop per call, and the channel layer keeps its Redis
    connections per loop, so every broadcast from a worker opened a new connection (~4 ms; bench/sla_sweep.py).
    Made again after a fork (Celery's prefork children)."""
    global _sync_loop_state
    with _sync_loop_lock:
        state = _sync_loop_state
        if state is None or state[0] != os.getpid() or state[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="carddesk-broadcast", daemon=True).start()
            _sync_loop_state = state = (os.getpid(), loop)
        return state[1]


def _run(coroutine_function: Callable[[], Coroutine[Any, Any, None]]) -> None:
    if _inside_asgi_thread():
        async_to_sync(coroutine_function)()
    else:
        asyncio.run_coroutine_threadsafe(coroutine_function(), _sync_loop()).result(timeout=SEND_TIMEOUT_SECONDS)


def broadcast(groups: list[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    message = {"type": "carddesk.event", "event": event}

    async def send_all() -> None:
        # One event-loop hop for all groups (3x cheaper than one async_to_sync per group, measured).
        results = await asyncio.gather(*(layer.group_send(g, message) for g in groups), return_exceptions=True)
        for group, result in zip(groups, results, strict=True):
            if isinstance(result, Exception):  # the layer may be down; clients catch up by seq
                logger.warning("broadcast to %s failed: %s", group, result)

    try:
        _run(send_all)
    except Exception:
        logger.warning("broadcast failed", exc_info=True)


def broadcast_on_commit(groups: list[str], event: dict[str, Any]) -> None:
    """Send once the surrounding transaction commits; nothing is sent if it rolls back."""
    transaction.on_commit(lambda: broadcast(groups, event))
