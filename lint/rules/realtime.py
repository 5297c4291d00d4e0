"""Categories 10–12: websocket registries, Socket.IO and Django Channels kept in process."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import AFFINITY, Rule
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import keyword, literal_or_default, string_value, walk
from sessionkit.lint.rules.module_state import CONTAINER_PREFILTER

FLASK_SOCKETIO = frozenset({"flask_socketio.SocketIO"})
PY_SOCKETIO = frozenset(
    {"socketio.Server", "socketio.AsyncServer", "socketio.server.Server", "socketio.async_server.AsyncServer"}
)
CHANNELS_IN_MEMORY = "channels.layers.InMemoryChannelLayer"


class WebsocketRegistry(Rule):
    """A module-level set/list/dict of connected websockets used for broadcasting.

    Each replica only knows its own connections, so a broadcast reaches the clients connected to
    that replica and misses everyone else.
    """

    code = "SK110"
    name = "websocket-registry"
    category = "websocket-registry"
    severity = "error"
    remedy = "refactor"
    prefilter = CONTAINER_PREFILTER
    message = (
        "the registry only holds this replica's connections, so broadcasts miss clients connected "
        "to other replicas; fan messages out through Redis pub/sub (e.g. `broadcaster`, "
        "channels_redis) and keep only local sockets here"
    )
    fix_hint = "Publish through Redis pub/sub; each replica delivers to its own sockets."
    valid = (
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\n@app.websocket('/ws')\nasync def ws(websocket: WebSocket):\n    await websocket.accept()\n    conns = [websocket]\n",
        "clients = set()\nclients.add('boot')\n",
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\nclients = set()\n@app.websocket('/ws')\nasync def ws(websocket: WebSocket):\n    for c in clients:\n        await c.send_text('hi')\n",
        "from broadcaster import Broadcast\nbroadcast = Broadcast('redis://r')\nasync def chat(websocket):\n    await broadcast.publish(channel='c', message='m')\n",
        "import asyncio\nclients = set()\nasync def main():\n    clients.add(1)\nasyncio.run(main())\n",
    )
    invalid = (
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\nclients = set()\n@app.websocket('/ws')\nasync def ws(websocket: WebSocket):\n    await websocket.accept()\n    clients.add(websocket)\n",
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\nactive_connections: list[WebSocket] = []\n@app.websocket('/chat')\nasync def chat(websocket: WebSocket):\n    active_connections.append(websocket)\n",
        "from starlette.routing import WebSocketRoute\nROOMS = {}\nasync def room(websocket):\n    ROOMS.setdefault('lobby', set()).add(websocket)\nroutes = [WebSocketRoute('/r', room)]\n",
        "from flask_sock import Sock\nsock = Sock(app)\nsubscribers = []\n@sock.route('/feed')\ndef feed(ws):\n    subscribers.append(ws)\n",
        "import socketio\nsio = socketio.AsyncServer(client_manager=mgr)\nonline = {}\n@sio.event\nasync def connect(sid, environ):\n    online[sid] = environ\n",
        "from fastapi import FastAPI, WebSocket\napp = FastAPI()\nclass ConnectionManager:\n    def __init__(self):\n        self.active_connections: list[WebSocket] = []\n    async def connect(self, websocket: WebSocket):\n        await websocket.accept()\n        self.active_connections.append(websocket)\nmanager = ConnectionManager()\n@app.websocket('/ws')\nasync def ws(websocket: WebSocket):\n    await manager.connect(websocket)\n",
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "websocket":
                self.report(mutation.node, f"module-level connection registry `{mutation.name}`")


class SocketIOWithoutMessageQueue(Rule):
    """A Socket.IO server with no message queue / client manager.

    Emits from one replica never reach clients connected to another, and Socket.IO's HTTP
    long-polling transport needs every request of a client on the same replica.
    """

    code = "SK111"
    name = "socketio-without-message-queue"
    category = "socketio"
    severity = "error"
    remedy = "affinity"
    prefilter = (r"SocketIO|socketio",)
    message = (
        "without a message queue, emits only reach clients of this replica, and long-polling "
        'clients break when requests alternate between replicas; pass `message_queue="redis://..."` '
        f"(flask-socketio) or `client_manager=socketio.AsyncRedisManager(...)`, and {AFFINITY}"
    )
    fix_hint = 'SocketIO(app, message_queue=os.environ["SESSIONKIT_REDIS_URL"]) plus cookie affinity.'
    valid = (
        'from flask_socketio import SocketIO\nsocketio = SocketIO(app, message_queue="redis://r:6379")\n',
        "import socketio\nmgr = socketio.AsyncRedisManager('redis://r')\nsio = socketio.AsyncServer(client_manager=mgr)\n",
        "from flask_socketio import SocketIO\nsocketio = SocketIO()\ndef create_app():\n    socketio.init_app(app, message_queue=REDIS)\n",
        "class SocketIO:\n    pass\ns = SocketIO()\n",
        "import socketio\nsio = socketio.Client()\n",
    )
    invalid = (
        "from flask_socketio import SocketIO\nsocketio = SocketIO(app)\n",
        "import socketio\nsio = socketio.AsyncServer(async_mode='asgi')\n",
        "import socketio\nsio = socketio.Server(cors_allowed_origins='*')\n",
        "from flask_socketio import SocketIO\nsocketio = SocketIO()\ndef create_app():\n    socketio.init_app(app, cors_allowed_origins='*')\n",
        "from socketio import AsyncServer\nsio = AsyncServer()\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.calls(node, FLASK_SOCKETIO):
            if keyword(node, "message_queue") is None and not self._init_app_with_queue():
                self.report(node, "Socket.IO server without `message_queue`")
        elif self.ctx.calls(node, PY_SOCKETIO) and keyword(node, "client_manager") is None:
            self.report(node, "Socket.IO server without `client_manager`")

    def _init_app_with_queue(self) -> bool:
        return any(
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value == "init_app"
            and keyword(n, "message_queue") is not None
            for n in walk(self.ctx.module)
        )


class ChannelsInMemoryLayer(Rule):
    """Django Channels configured with ``InMemoryChannelLayer``.

    Groups and ``channel_layer.send`` work only between consumers of the same process.
    """

    code = "SK112"
    name = "channels-in-memory-layer"
    category = "channels"
    severity = "error"
    remedy = "refactor"
    prefilter = (r"InMemoryChannelLayer",)
    message = (
        "the in-memory channel layer only connects consumers in this process, so group messages "
        'never reach clients on other replicas; use `"channels_redis.core.RedisChannelLayer"` '
        "with your Redis"
    )
    fix_hint = 'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}'
    valid = (
        'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}\n',
        'CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"}}\n',
        '"""Do not use channels.layers.InMemoryChannelLayer in production."""\n',
        'LAYER = "redis"\n',
        "CHANNEL_LAYERS = {}\n",
    )
    invalid = (
        'CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}\n',
        'CHANNEL_LAYERS = dict(default={"BACKEND": "channels.layers.InMemoryChannelLayer"})\n',
        'import os\nCHANNEL_LAYERS = {"default": {"BACKEND": os.environ.get("LAYER", "channels.layers.InMemoryChannelLayer")}}\n',
        'if DEBUG:\n    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}\n',
        'CHANNEL_LAYERS = {\n    "default": {\n        "BACKEND": "channels.layers.InMemoryChannelLayer",\n    },\n}\n',
    )

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if string_value(node.key) == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value)
            if value == CHANNELS_IN_MEMORY:
                self.report(holder, "`InMemoryChannelLayer`", guard=self.ctx.guard(holder))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == "BACKEND":
            value, holder = literal_or_default(self.ctx, node.value)
            if value == CHANNELS_IN_MEMORY:
                self.report(holder, "`InMemoryChannelLayer`", guard=self.ctx.guard(holder))
