"""Category 2: MCP servers serving stateful HTTP sessions from process memory."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import keyword, string_value

#: Methods of an MCP server (``FastMCP``, ``MCPServer``, the low-level ``Server``) that build an
#: HTTP app serving sessions.
HTTP_APPS = frozenset({"streamable_http_app", "http_app", "sse_app"})
SESSION_MANAGERS = frozenset(
    {
        "mcp.server.streamable_http_manager.StreamableHTTPSessionManager",
        "mcp.server.streamable_http.StreamableHTTPSessionManager",
    }
)
#: ``from mcp.server... import``, ``import fastmcp``: the module uses the MCP SDK.
MCP_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:mcp|fastmcp)\b", re.M)
#: ``FastMCP("x", stateless_http=True)``, ``StreamableHTTPSessionManager(stateless=True)``.
STATELESS = re.compile(r"\bstateless(?:_http)?\s*=\s*True\b")
LOCAL_TRANSPORTS = frozenset({"stdio"})


class StatefulMcpSessions(Rule):
    """An MCP server on the streamable-HTTP or SSE transport in its default, stateful mode.

    The server keeps each client's session (the ``Mcp-Session-Id`` of streamable HTTP, the
    ``session_id`` of SSE) in the memory of the process that opened it; a request that another
    replica receives gets "session not found". Reported at ``run(transport=...)`` with any
    transport but ``stdio``, at ``streamable_http_app()``/``http_app()``/``sse_app()`` and at a
    ``StreamableHTTPSessionManager``, unless the module turns ``stateless_http``/``stateless`` on.
    """

    code = "SK402"
    name = "stateful-mcp-sessions"
    category = "local-sessions"
    severity = "warning"
    remedy = "refactor"
    prefilter = (
        r"(?:from|import)\s+(?:mcp|fastmcp)\b",
        r"\.run\(|_http_app\(|sse_app\(|StreamableHTTPSessionManager",
    )
    message = (
        "MCP sessions live in the memory of the replica that opened them, so a request routed to "
        "another replica fails with an unknown session; serve the transport with "
        "`stateless_http=True`, or pin each session to one replica by its session id"
    )
    fix_hint = 'FastMCP("name", stateless_http=True), or route on the Mcp-Session-Id header.'
    valid = examples(
        """
            from mcp.server.fastmcp import FastMCP
            mcp = FastMCP("notes", stateless_http=True)
            mcp.run(transport="streamable-http")
        """,
        """
            from mcp.server.fastmcp import FastMCP
            mcp = FastMCP("notes")
            if __name__ == "__main__":
                mcp.run()
        """,
        """
            from mcp.server.fastmcp import FastMCP
            mcp = FastMCP("notes")
            mcp.run(transport="stdio")
        """,
        """
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
            manager = StreamableHTTPSessionManager(app=server, stateless=True)
        """,
        """
            import uvicorn
            from fastapi import FastAPI
            app = FastAPI()
            uvicorn.run(app, host="0.0.0.0")
        """,
    )
    invalid = examples(
        """
            from mcp.server.fastmcp import FastMCP
            mcp = FastMCP("notes")
            mcp.run(transport="streamable-http")
        """,
        """
            from mcp.server.fastmcp import FastMCP
            server = FastMCP("search")
            app = server.streamable_http_app()
        """,
        """
            import click
            from mcp.server.fastmcp import FastMCP
            @click.command()
            @click.option("--transport", type=click.Choice(["sse", "streamable-http"]))
            def main(transport):
                FastMCP("tools").run(transport=transport)
        """,
        """
            from mcp.server.lowlevel import Server
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
            server = Server("files")
            manager = StreamableHTTPSessionManager(app=server, event_store=None)
        """,
        """
            from mcp.server.fastmcp import FastMCP
            mcp = FastMCP("events")
            sse = mcp.sse_app()
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.calls(node, SESSION_MANAGERS):
            subject = "`StreamableHTTPSessionManager` keeps sessions in memory"
        elif not isinstance(func, cst.Attribute) or not self._uses_mcp():
            return
        elif func.attr.value in HTTP_APPS:
            subject = f"`.{func.attr.value}()` serves stateful MCP sessions"
        elif func.attr.value == "run" and self._network_transport(node):
            subject = "`.run(transport=...)` serves stateful MCP sessions"
        else:
            return
        if not self._stateless():
            self.report(node, subject, guard=self.ctx.guard(node))

    def _network_transport(self, node: cst.Call) -> bool:
        """``run(transport=...)`` with a transport other than ``stdio`` (also one chosen at
        start-up, ``transport=args.transport``)."""
        arg = keyword(node, "transport")
        if arg is None:
            return False
        text = string_value(arg.value)
        return text not in LOCAL_TRANSPORTS

    def _source(self) -> str:
        return self.ctx.source if self.ctx.source is not None else self.ctx.module.code

    def _uses_mcp(self) -> bool:
        return MCP_IMPORT.search(self._source()) is not None

    def _stateless(self) -> bool:
        return STATELESS.search(self._source()) is not None
