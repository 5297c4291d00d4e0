"""Categories 10–11: websocket registries and Socket.IO kept in process (Channels: channels.py)."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import AFFINITY, Rule, examples
from sessionkit.lint.rules._state import request_time_mutations
from sessionkit.lint.rules._util import keyword, literal_or_default, walk
from sessionkit.lint.rules.module_state import CONTAINER_PREFILTER

FLASK_SOCKETIO = frozenset({"flask_socketio.SocketIO"})
PY_SOCKETIO = frozenset(
    {"socketio.Server", "socketio.AsyncServer", "socketio.server.Server", "socketio.async_server.AsyncServer"}
)
MEMORY_CHANNELS = frozenset(
    {
        "litestar.channels.backends.memory.MemoryChannelsBackend",
        "litestar.channels.MemoryChannelsBackend",
    }
)
BROADCASTERS = frozenset({"broadcaster.Broadcast", "broadcaster._base.Broadcast"})


class WebsocketRegistry(Rule):
    """A module-level set/list/dict of connected websockets used for broadcasting, a registry
    class some module instantiates (a ``ConnectionManager``, a pub/sub ``Broker``), or a pub/sub
    library on its in-process backend (Litestar ``MemoryChannelsBackend``, broadcaster
    ``memory://``).

    Each replica only knows its own connections, so a broadcast reaches the clients connected to
    that replica and misses everyone else.
    """

    code = "SK110"
    name = "websocket-registry"
    category = "websocket-registry"
    severity = "error"
    remedy = "refactor"
    #: The shared container pattern (searched once per file for all the state rules) also holds for
    #: the pub/sub backends: ``broadcast = Broadcast(...)``, ``channels = ChannelsPlugin(...)``.
    prefilter = CONTAINER_PREFILTER
    message = (
        "the registry only holds this replica's connections, so broadcasts miss clients connected "
        "to other replicas; fan messages out through Redis pub/sub (e.g. `broadcaster`, "
        "channels_redis) and keep only local sockets here"
    )
    fix_hint = "Publish through Redis pub/sub; each replica delivers to its own sockets."
    valid = examples(
        """
            from flask import Flask, request
            from flask_socketio import SocketIO
            app = Flask(__name__)
            socketio = SocketIO(app, message_queue="redis://r")
            players = {}
            @socketio.on("join")
            def join(data):
                sid = request.sid
                players[sid] = {"name": data["name"], "score": 0}
            @socketio.on("disconnect")
            def leave():
                del players[request.sid]
        """,
        """
            from starlette.endpoints import WebSocketEndpoint
            from starlette.websockets import WebSocket
            class WSGame(WebSocketEndpoint):
                games = []
                async def on_connect(self, websocket: WebSocket) -> None:
                    await websocket.accept()
                    self.games.append(object())
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            rooms = {}
            @app.websocket("/ws/{code}")
            async def play(websocket: WebSocket, code: str):
                await websocket.accept()
                rooms.pop(code, None)
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            @app.websocket('/ws')
            async def ws(websocket: WebSocket):
                await websocket.accept()
                conns = [websocket]
        """,
        """
            clients = set()
            clients.add('boot')
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            clients = set()
            @app.websocket('/ws')
            async def ws(websocket: WebSocket):
                for c in clients:
                    await c.send_text('hi')
        """,
        """
            from broadcaster import Broadcast
            broadcast = Broadcast('redis://r')
            async def chat(websocket):
                await broadcast.publish(channel='c', message='m')
        """,
        """
            import asyncio
            clients = set()
            async def main():
                clients.add(1)
            asyncio.run(main())
        """,
        """
            # file: events.py
            import json
            class RedisEventManager:
                def __init__(self, client):
                    self.client = client
                    self.clients = {}
                def listen(self):
                    pubsub = self.client.pubsub()
                    for message in pubsub.listen():
                        for queue in self.clients.values():
                            queue.put(json.loads(message["data"]))
                def subscribe(self, queue):
                    self.clients[id(queue)] = queue
            # file: app.py
            from flask import Flask
            from events import RedisEventManager
            app = Flask(__name__)
            app.events = RedisEventManager(None)
            @app.get("/events")
            def stream():
                return app.events.subscribe(object())
        """,
        """
            # file: rooms.py
            class Room:
                def __init__(self):
                    self.members = set()
                def join(self, ws):
                    self.members.add(ws)
            # file: app.py
            from fastapi import FastAPI, WebSocket
            from rooms import Room
            app = FastAPI()
            @app.websocket("/ws")
            async def ws(websocket: WebSocket):
                room = Room()
                room.join(websocket)
        """,
        """
            import os
            from broadcaster import Broadcast
            broadcast = Broadcast(os.environ.get("BROADCAST_URL", "redis://redis:6379"))
        """,
        """
            from litestar import Litestar
            from litestar.channels import ChannelsPlugin
            from litestar.channels.backends.redis import RedisChannelsPubSubBackend
            channels = ChannelsPlugin(backend=RedisChannelsPubSubBackend(redis=redis), channels=["chat"])
            app = Litestar(plugins=[channels])
        """,
    )
    invalid = examples(
        """
            from aiohttp import web
            async def chat(request):
                resp = web.WebSocketResponse()
                await resp.prepare(request)
                request.app["ws_connections"][request.match_info["uid"]] = resp
                return resp
        """,
        """
            # file: constants.py
            CHAT_CONNECTIONS = {}
            # file: create_app.py
            from sanic import Sanic
            from constants import CHAT_CONNECTIONS
            def create_app():
                app = Sanic("chat")
                @app.websocket("/chat")
                async def chat(request, ws):
                    CHAT_CONNECTIONS[request.ctx.session.sid] = ws
                return app
        """,
        """
            from flask import Flask, request
            from flask_socketio import SocketIO
            app = Flask(__name__)
            socket_io = SocketIO(app, message_queue="redis://redis:6379/0")
            sessions = {}
            @socket_io.on("connect")
            def connected():
                sessions[request.sid] = 0
        """,
        """
            import queue
            from django.http import StreamingHttpResponse
            _open_connections = set()
            def _event_stream():
                client = queue.Queue()
                _open_connections.add(client)
                while True:
                    yield client.get()
            def live(request):
                return StreamingHttpResponse(_event_stream(), content_type="text/event-stream")
        """,
        """
            from flask import Flask
            from flask_sock import Sock
            app = Flask(__name__)
            sock = Sock(app)
            ws_rooms = {}
            def join_room(room, connection):
                ws_rooms[room] = ws_rooms.get(room, set())
                ws_rooms[room].add(connection)
            @sock.route("/ws/<room>")
            def room_socket(ws, room):
                join_room(room, ws)
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            clients = set()
            @app.websocket('/ws')
            async def ws(websocket: WebSocket):
                await websocket.accept()
                clients.add(websocket)
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            active_connections: list[WebSocket] = []
            @app.websocket('/chat')
            async def chat(websocket: WebSocket):
                active_connections.append(websocket)
        """,
        """
            from starlette.routing import WebSocketRoute
            ROOMS = {}
            async def room(websocket):
                ROOMS.setdefault('lobby', set()).add(websocket)
            routes = [WebSocketRoute('/r', room)]
        """,
        """
            from flask_sock import Sock
            sock = Sock(app)
            subscribers = []
            @sock.route('/feed')
            def feed(ws):
                subscribers.append(ws)
        """,
        """
            import socketio
            sio = socketio.AsyncServer(client_manager=mgr)
            online = {}
            @sio.event
            async def connect(sid, environ):
                online[sid] = environ
        """,
        """
            from fastapi import FastAPI, WebSocket
            app = FastAPI()
            class ConnectionManager:
                def __init__(self):
                    self.active_connections: list[WebSocket] = []
                async def connect(self, websocket: WebSocket):
                    await websocket.accept()
                    self.active_connections.append(websocket)
            manager = ConnectionManager()
            @app.websocket('/ws')
            async def ws(websocket: WebSocket):
                await manager.connect(websocket)
        """,
        """
            from aiohttp import web
            async def chat(request):
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                request.app["sockets"].append(ws)
                async for msg in ws:
                    for peer in request.app["sockets"]:
                        await peer.send_str(msg.data)
                return ws
        """,
        """
            # file: chat/broker.py
            import asyncio
            class Broker:
                def __init__(self):
                    self.connections = set()
                async def publish(self, message):
                    for connection in self.connections:
                        await connection.put(message)
                async def subscribe(self):
                    queue = asyncio.Queue()
                    self.connections.add(queue)
                    try:
                        while True:
                            yield await queue.get()
                    finally:
                        self.connections.remove(queue)
            # file: chat/__init__.py
            from quart import Quart, websocket
            from chat.broker import Broker
            app = Quart(__name__)
            broker = Broker()
            @app.websocket("/ws")
            async def ws():
                async for message in broker.subscribe():
                    await websocket.send(message)
        """,
        """
            from aiohttp import web
            sockets = web.AppKey("sockets", dict)
            async def index(request):
                ws_current = web.WebSocketResponse()
                await ws_current.prepare(request)
                request.app[sockets][request.query["name"]] = ws_current
                return ws_current
        """,
        """
            from litestar import Litestar
            from litestar.channels import ChannelsPlugin
            from litestar.channels.backends.memory import MemoryChannelsBackend
            channels = ChannelsPlugin(backend=MemoryChannelsBackend(), channels=["chat"])
            app = Litestar(plugins=[channels])
        """,
        """
            import os
            from broadcaster import Broadcast
            BROADCAST_URL = os.environ.get("BROADCAST_URL", "memory://")
            broadcast = Broadcast(BROADCAST_URL)
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        for mutation in request_time_mutations(self.ctx):
            if mutation.role == "websocket":
                subject = f"module-level connection registry `{mutation.name}`"
                self.report_request_time(mutation.node, subject, mutation.deferred)

    def visit_Call(self, node: cst.Call) -> None:
        """Pub/sub libraries on their in-process backend: the registry is the library's."""
        if self.ctx.refers_to(node.func, MEMORY_CHANNELS):
            self.report(node, "Litestar channels on `MemoryChannelsBackend`", guard=self.ctx.guard(node))
        elif self.ctx.refers_to(node.func, BROADCASTERS):
            positional = [a for a in node.args if a.keyword is None]
            arg = keyword(node, "url") or (positional[0] if positional else None)
            if arg is None:
                return
            url, holder = literal_or_default(self.ctx, arg.value, {"memory://"})
            if url is not None and url.startswith("memory://"):
                self.report(holder, "broadcaster on `memory://`", guard=self.ctx.guard(holder))


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
    valid = examples(
        """
            from flask_socketio import SocketIO
            socketio = SocketIO(app, message_queue="redis://r:6379")
        """,
        """
            import socketio
            mgr = socketio.AsyncRedisManager('redis://r')
            sio = socketio.AsyncServer(client_manager=mgr)
        """,
        """
            from flask_socketio import SocketIO
            socketio = SocketIO()
            def create_app():
                socketio.init_app(app, message_queue=REDIS)
        """,
        """
            class SocketIO:
                pass
            s = SocketIO()
        """,
        """
            import socketio
            sio = socketio.Client()
        """,
    )
    invalid = examples(
        """
            from flask_socketio import SocketIO
            socketio = SocketIO(app)
        """,
        """
            import socketio
            sio = socketio.AsyncServer(async_mode='asgi')
        """,
        """
            import socketio
            sio = socketio.Server(cors_allowed_origins='*')
        """,
        """
            from flask_socketio import SocketIO
            socketio = SocketIO()
            def create_app():
                socketio.init_app(app, cors_allowed_origins='*')
        """,
        """
            from socketio import AsyncServer
            sio = AsyncServer()
        """,
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
