"""Websocket clients for chat tests: a customer speaking protocol v1 and helpers to wait for frames."""

from __future__ import annotations

import asyncio
import json
import uuid

import websockets


async def recv_until(ws, predicate, timeout: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        except TimeoutError:
            return None
        if predicate(frame):
            return frame


def chat_connect(server, key: str, *, origin: str | None = None, lang: str = "zh-hans"):
    headers = {"Origin": origin or server.url}
    return websockets.connect(f"{server.ws_url}/ws/chat/?key={key}&lang={lang}", additional_headers=headers)


def console_connect(server, cookie: str):
    return websockets.connect(
        f"{server.ws_url}/ws/console/",
        additional_headers={"Cookie": f"sessionid={cookie}", "Origin": server.url},
    )


async def send(ws, kind: str, **fields) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


def new_id() -> str:
    return uuid.uuid4().hex
