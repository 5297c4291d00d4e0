"""Category 17: thread-locals used as storage that outlives a request."""

from __future__ import annotations

import libcst as cst

from sessionkit.lint._rule import Rule
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
    valid = (
        "import threading\n_local = threading.local()\n",
        "import threading\n_local = threading.local()\ndef get():\n    return _local.value\n",
        "import threading\ndef f():\n    loc = threading.local()\n    if not hasattr(loc, 'x'):\n        loc.x = 1\n",
        "class local:\n    pass\n_l = local()\nif not hasattr(_l, 'x'):\n    _l.x = 1\n",
        "import contextvars\nuser = contextvars.ContextVar('user')\ndef f():\n    user.set(1)\n",
    )
    invalid = (
        "import threading\n_local = threading.local()\ndef get_conn():\n    if not hasattr(_local, 'conn'):\n        _local.conn = connect()\n    return _local.conn\n",
        "import threading\nstorage = threading.local()\ndef current_cart():\n    cart = getattr(storage, 'cart', None)\n    if cart is None:\n        storage.cart = cart = []\n    return cart\n",
        "from threading import local\n_cache = local()\ndef user_prefs(uid):\n    prefs = getattr(_cache, 'prefs', {})\n    _cache.prefs = prefs\n    return prefs\n",
        "from werkzeug.local import Local\nctx = Local()\ndef set_user(u):\n    if not hasattr(ctx, 'user'):\n        ctx.user = u\n",
        "import threading\ntl = threading.local()\ndef client():\n    try:\n        return tl.client\n    except AttributeError:\n        tl.client = make()\n        return tl.client\n",
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
                return True
        return False
