"""Category 17: thread-locals used as storage that outlives a request."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._util import walk

THREAD_LOCALS = frozenset({"threading.local", "_threading_local.local", "werkzeug.local.Local"})


class ThreadLocalStorage(Rule):
    """A module-level ``threading.local()`` lazily filled and kept across requests.

    Values cached on it live per thread per process: replicas (and threads) see different values
    and a value set for one user can leak into a later request on the same thread.
    """

    code = "SK117"
    name = "thread-local-storage"
    category = "thread-local"
    severity = "info"
    remedy = "refactor"
    prefilter = (r"\b[Ll]ocal\(\)", r"hasattr|getattr|AttributeError")
    message = (
        "values kept on a thread-local survive the request on this thread only, so replicas and "
        "threads disagree and data can leak between requests; use per-request context "
        "(`contextvars`, `flask.g`, `request.state`) or shared storage"
    )
    fix_hint = "Reset it per request (contextvars) or move the data to shared storage."
    valid = examples(
        """
            import threading
            _render = threading.local()
            def preloads():
                if not hasattr(_render, "links"):
                    _render.links = set()
                return _render.links
            def reset_preloads():
                if hasattr(_render, "links"):
                    _render.links.clear()
        """,
        """
            import threading
            _local = threading.local()
        """,
        """
            import threading
            _local = threading.local()
            def get():
                return _local.value
        """,
        """
            import threading
            def f():
                loc = threading.local()
                if not hasattr(loc, 'x'):
                    loc.x = 1
        """,
        """
            class local:
                pass
            _l = local()
            if not hasattr(_l, 'x'):
                _l.x = 1
        """,
        """
            import contextvars
            user = contextvars.ContextVar('user')
            def f():
                user.set(1)
        """,
    )
    invalid = examples(
        """
            import threading
            _local = threading.local()
            def get_conn():
                if not hasattr(_local, 'conn'):
                    _local.conn = connect()
                return _local.conn
        """,
        """
            import threading
            storage = threading.local()
            def current_cart():
                cart = getattr(storage, 'cart', None)
                if cart is None:
                    storage.cart = cart = []
                return cart
        """,
        """
            from threading import local
            _cache = local()
            def user_prefs(uid):
                prefs = getattr(_cache, 'prefs', {})
                _cache.prefs = prefs
                return prefs
        """,
        """
            from werkzeug.local import Local
            ctx = Local()
            def set_user(u):
                if not hasattr(ctx, 'user'):
                    ctx.user = u
        """,
        """
            import threading
            tl = threading.local()
            def client():
                try:
                    return tl.client
                except AttributeError:
                    tl.client = make()
                    return tl.client
        """,
    )

    def visit_Module(self, node: cst.Module) -> None:
        for stmt in node.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and self.ctx.calls(small.value, THREAD_LOCALS):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name) and self._kept(target.target.value):
                            self.report(
                                small, f"thread-local `{target.target.value}` caches values across requests"
                            )

    def _kept(self, name: str) -> bool:
        """Lazily initialised: assigned in a function after a hasattr/getattr/AttributeError check."""
        for fn in self.ctx.functions.functions:
            checks = assigns = False
            for sub in walk(fn.body):
                if (
                    isinstance(sub, cst.Call)
                    and isinstance(sub.func, cst.Name)
                    and sub.func.value in {"hasattr", "getattr"}
                ):
                    first = sub.args[0].value if sub.args else None
                    checks |= isinstance(first, cst.Name) and first.value == name
                elif isinstance(sub, cst.ExceptHandler) and sub.type is not None:
                    checks |= "AttributeError" in self.ctx.module.code_for_node(sub.type)
                elif isinstance(sub, cst.AssignTarget) and isinstance(sub.target, cst.Attribute):
                    owner = sub.target.value
                    assigns |= isinstance(owner, cst.Name) and owner.value == name
            if checks and assigns:
                return not self._cleared(name)
        return False

    def _cleared(self, name: str) -> bool:
        """Some function empties what the thread-local holds (``tl.items.clear()``, ``del
        tl.user``): a per-request scratch space that the request's end resets."""
        for sub in self.ctx.nodes(cst.Call, cst.Del):
            target: cst.BaseExpression | None = sub.target if isinstance(sub, cst.Del) else None
            func = sub.func if isinstance(sub, cst.Call) else None
            if isinstance(func, cst.Attribute) and func.attr.value in {"clear", "pop", "popitem"}:
                target = func.value
            while isinstance(target, cst.Attribute | cst.Subscript):
                target = target.value
            if isinstance(target, cst.Name) and target.value == name and self.ctx.enclosing_functions(sub):
                return True
        return False
