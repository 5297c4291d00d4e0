"""Connection registries are reported where connections join them, once per registry object.

Synthetic shapes; the expected (code, line) pairs were decided by reading each snippet.
"""

from __future__ import annotations

import pytest

from .conftest import lint_snippet

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "manager-object-with-disconnect-and-heartbeat": (
        "from fastapi import FastAPI, WebSocket\n"
        "app = FastAPI()\n"
        "class Hub:\n"
        "    def __init__(self):\n"
        "        self.members = {}\n"
        "        self.seen = {}\n"
        "    async def join(self, ws: WebSocket, topic: str):\n"
        "        self.members.setdefault(topic, []).append(ws)\n"
        "        self.seen[ws] = 0\n"
        "    def leave(self, ws: WebSocket, topic: str):\n"
        "        self.members[topic].remove(ws)\n"
        "        del self.seen[ws]\n"
        "    def beat(self, ws: WebSocket):\n"
        "        self.seen[ws] = 1\n"
        "    async def publish(self, topic, text):\n"
        "        for ws in self.members.get(topic, []):\n"
        "            await ws.send_text(text)\n"
        "hub = Hub()\n"
        "@app.websocket('/ws/{topic}')\n"
        "async def endpoint(ws: WebSocket, topic: str):\n"
        "    await hub.join(ws, topic)\n",
        # every statement that changes the registry: joins, leaves and the heartbeat
        {("SK110", 8), ("SK110", 9), ("SK110", 11), ("SK110", 12), ("SK110", 14)},
    ),
    "per-connection-queues-named-like-jobs": (
        "import asyncio\n"
        "from fastapi import FastAPI, WebSocket\n"
        "app = FastAPI()\n"
        "class Hub:\n"
        "    def __init__(self):\n"
        "        self.members = []\n"
        "        self.send_queues = {}\n"
        "    async def join(self, ws: WebSocket):\n"
        "        await ws.accept()\n"
        "        self.members.append(ws)\n"
        "        self.send_queues[ws] = asyncio.Queue()\n"
        "    async def publish(self, text):\n"
        "        for ws in self.members:\n"
        "            await ws.send_text(text)\n"
        "hub = Hub()\n"
        "@app.websocket('/ws')\n"
        "async def endpoint(ws: WebSocket):\n"
        "    await hub.join(ws)\n",
        {("SK110", 10), ("SK110", 11)},
    ),
    "module-set-with-discard": (
        "from starlette.applications import Starlette\n"
        "from starlette.routing import WebSocketRoute\n"
        "peers = set()\n"
        "async def stream(websocket):\n"
        "    await websocket.accept()\n"
        "    peers.add(websocket)\n"
        "    try:\n"
        "        async for text in websocket.iter_text():\n"
        "            for peer in peers:\n"
        "                await peer.send_text(text)\n"
        "    finally:\n"
        "        forget(websocket)\n"
        "def forget(websocket):\n"
        "    peers.discard(websocket)\n"
        "app = Starlette(routes=[WebSocketRoute('/s', stream)])\n",
        {("SK110", 6), ("SK110", 14)},
    ),
    "fan-out-to-subscriber-queues-is-not-a-change": (
        "import asyncio\n"
        "from quart import Quart, websocket\n"
        "app = Quart(__name__)\n"
        "listeners = set()\n"
        "async def announce(text):\n"
        "    for inbox in listeners:\n"
        "        await inbox.put(text)\n"
        "@app.websocket('/live')\n"
        "async def live():\n"
        "    inbox = asyncio.Queue()\n"
        "    listeners.add(inbox)\n"
        "    await announce('joined')\n",
        {("SK110", 11)},
    ),
    "aiohttp-app-registry-removal": (
        "from aiohttp import web\n"
        "async def chat(request):\n"
        "    ws = web.WebSocketResponse()\n"
        "    await ws.prepare(request)\n"
        "    name = request.query['name']\n"
        "    request.app['peers'][name] = ws\n"
        "    async for msg in ws:\n"
        "        for peer in request.app['peers'].values():\n"
        "            await peer.send_str(msg.data)\n"
        "    del request.app['peers'][name]\n"
        "    return ws\n"
        "app = web.Application()\n"
        "app['peers'] = {}\n"
        "app.router.add_get('/chat', chat)\n",
        {("SK110", 6), ("SK110", 10)},
    ),
    "a-plain-dict-keyed-by-user-is-still-module-state": (
        "from flask import Flask, request\n"
        "app = Flask(__name__)\n"
        "visits = {}\n"
        "@app.get('/hit')\n"
        "def hit():\n"
        "    user = request.args['u']\n"
        "    visits[user] = visits.get(user, 0) + 1\n"
        "    return ''\n"
        "@app.delete('/hit')\n"
        "def reset():\n"
        "    visits.pop(request.args['u'], None)\n"
        "    return ''\n",
        {("SK105", 7), ("SK105", 11)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_registry_shapes(name: str) -> None:
    source, expected = CASES[name]
    assert {(f.code, f.line) for f in lint_snippet(source)} == expected
