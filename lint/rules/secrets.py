"""Category 1: per-process random secret keys that sign sessions and tokens."""

from __future__ import annotations

import re

import libcst as cst

from sessionkit.lint._rule import Rule, examples
from sessionkit.lint.rules._overrides import overridden_in_production
from sessionkit.lint.rules._util import keyword, settings_in, walk

RANDOM_SOURCES = frozenset(
    {
        "os.urandom",
        "secrets.token_bytes",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "secrets.randbits",
        "uuid.uuid4",
        "uuid.uuid1",
        "django.core.management.utils.get_random_secret_key",
        "django.utils.crypto.get_random_string",
        "random.random",
        "random.getrandbits",
        "random.randbytes",
        "random.choice",
        "random.choices",
        "random.sample",
        "random.randint",
        "random.SystemRandom",
        "secrets.choice",
        "secrets.SystemRandom",
        "cryptography.fernet.Fernet.generate_key",
    }
)
SECRET_KEYS = re.compile(r"(^|_)(SECRET|SIGNING|JWT_SECRET|SESSION_KEY|SALT)(_|$)|SECRET_KEY", re.I)
#: A class attribute that holds a key (``key``, ``secret``, ``fernet_key``, ``SECRET_KEY``).
CLASS_KEY = re.compile(r"(?i)(^|_)(key|secret)(_|$)")
#: An instance attribute named for a secret (``self.CSRF_SECRET``; not ``self.session_key``).
SELF_SECRET = re.compile(r"(?i)secret")
SECRET_KWARGS = frozenset({"secret_key", "secret", "signing_key", "session_secret", "jwt_secret"})
SIGNER_CALLS = frozenset(
    {
        "itsdangerous.URLSafeTimedSerializer",
        "itsdangerous.URLSafeSerializer",
        "itsdangerous.TimestampSigner",
        "itsdangerous.Signer",
        "itsdangerous.Serializer",
        "itsdangerous.TimedSerializer",
        "aiohttp_session.cookie_storage.EncryptedCookieStorage",
        "aiohttp_session.nacl_storage.NaClCookieStorage",
    }
)
_PREFILTER = r"urandom|token_(bytes|hex|urlsafe)|randbits|uuid[14]|get_random_s|random|generate_key|choice"


class _RandomSecret(Rule):
    category = "secret-key"
    remedy = "refactor"
    prefilter = (_PREFILTER, r"(?i)secret|signer|serializer|salt|signing|CookieStorage|fernet")
    guarded: bool

    def _random_call(self, value: cst.CSTNode) -> cst.Call | None:
        for node in walk(value):
            if isinstance(node, cst.Call) and self.ctx.calls(node, RANDOM_SOURCES):
                return node
        return None

    def _via_name(self, value: cst.CSTNode, depth: int = 0) -> tuple[cst.Call, cst.Name] | None:
        """A random call reached through a name bound at import time or in startup code (one
        or two steps): ``_key = os.urandom(24)`` ... ``app.secret_key = _key``; in a factory,
        ``raw = Fernet.generate_key()``, ``key = b64decode(raw)``, ``EncryptedCookieStorage(key)``."""
        for node in walk(value):
            if not isinstance(node, cst.Name):
                continue
            scope = self.ctx.scopes.get(node)
            if callable(scope):
                scope = scope()
            if scope is None or node.value not in scope:
                continue
            for assignment in scope[node.value]:
                target = getattr(assignment, "node", None)
                holder = self.ctx.parents.get(target) if target is not None else None
                statement = self.ctx.parents.get(holder) if isinstance(holder, cst.AssignTarget) else None
                once = isinstance(statement, cst.Assign) and (
                    self.ctx.is_import_time(statement) or not self.ctx.is_request_time(statement)
                )
                if not once or not isinstance(statement, cst.Assign):
                    continue
                call = self._random_call(statement.value)
                if call is not None:
                    return call, node
                if depth < 1 and not self.ctx.is_import_time(statement):
                    deeper = self._via_name(statement.value, depth + 1)
                    if deeper is not None:
                        return deeper[0], node
        return None

    def _via_function(self, value: cst.CSTNode) -> cst.Call | None:
        """``SECRET_KEY = _resolve_secret_key()`` with a module-level function of this module
        that returns a random value (as its fallback when no key is configured)."""
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
            return None
        name = value.func.value
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                for node in walk(stmt.body):
                    if isinstance(node, cst.Return) and node.value is not None:
                        call = self._random_call(node.value)
                        if call is not None:
                            return call
        return None

    def _check(self, value: cst.CSTNode, what: str) -> None:
        direct = self._random_call(value)
        found = (direct, direct) if direct is not None else self._via_name(value)
        if found is None:
            returned = self._via_function(value)
            found = (returned, returned) if returned is not None else None
        if found is None:
            return
        call, anchor = found
        guard = self.ctx.guard(anchor)
        if (guard is not None) != self.guarded:
            return
        source = self.ctx.module.code_for_node(call.func)
        # Unguarded, the line to change is where the key is generated (``_key = os.urandom(24)``);
        # a fallback is judged, and reported, where it is used.
        where = anchor if guard else call
        reported: set[int] = self.ctx.memo.setdefault(f"{self.code}:reported", set())
        if id(where) not in reported:  # one key, one finding, however many places use it
            reported.add(id(where))
            self.report(where, f"{what} comes from `{source}()`", guard=guard)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._settings(node)
        if len(node.targets) == 1:
            self._held_key(node, node.targets[0].target)

    def _held_key(self, node: cst.Assign, target: cst.BaseExpression) -> None:
        """A key kept by a class: a class attribute (``key = Fernet.generate_key()`` in the class
        body, evaluated once per process) or ``self.CSRF_SECRET = ...`` set outside requests."""
        if isinstance(target, cst.Name) and CLASS_KEY.search(target.value):
            block = self.ctx.parents.get(self.ctx.parents.get(node) or node)
            owner = self.ctx.parents.get(block) if block is not None else None
            if isinstance(owner, cst.ClassDef) and not overridden_in_production(self.ctx, node, target.value):
                self._check(node.value, f"class attribute `{owner.name.value}.{target.value}`")
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and SELF_SECRET.search(target.attr.value)
            and not self.ctx.is_request_time(node)
        ):
            self._check(node.value, f"`self.{target.attr.value}`")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._settings(node)

    def _settings(self, node: cst.CSTNode) -> None:
        for key, value, _ in settings_in(self.ctx, node):
            if SECRET_KEYS.search(key) and not overridden_in_production(self.ctx, node, key):
                self._check(value, f"`{key}`")

    def visit_Param(self, node: cst.Param) -> None:
        """``def __init__(self, app, secret_key=os.urandom(32))``: the default is evaluated once
        per process, when the function is defined."""
        if node.default is not None and (
            node.name.value in SECRET_KWARGS or SECRET_KEYS.search(node.name.value)
        ):
            self._check(node.default, f"the default of `{node.name.value}`")

    def visit_Call(self, node: cst.Call) -> None:
        self._settings(node)
        for name in SECRET_KWARGS:
            arg = keyword(node, name)
            if arg is not None:
                self._check(arg.value, f"`{name}=`")
        if self.ctx.calls(node, SIGNER_CALLS) and node.args and node.args[0].keyword is None:
            self._check(node.args[0].value, "the signer's key")


class RandomSecretKey(_RandomSecret):
    """A signing secret generated at process start differs on every replica.

    Sessions, CSRF tokens and signed cookies issued by one replica fail verification on the
    others, so users are logged out at random under a round-robin load balancer.
    """

    code = "SK101"
    name = "random-secret-key"
    severity = "error"
    guarded = False
    message = (
        "each replica generates a different key at start-up, so cookies and tokens signed by one "
        "replica are rejected by the others (random logouts); load one shared secret from the "
        "environment or a secret manager instead"
    )
    fix_hint = 'Read the key from the environment: SECRET_KEY = os.environ["SECRET_KEY"].'
    valid = examples(
        """
            import secrets
            class ResetToken:
                def __init__(self, user):
                    self.user = user
                    self.session_key = secrets.token_hex(16)
            class Limits:
                key = "per-user"
        """,
        """
            import os
            SECRET_KEY = os.environ["SECRET_KEY"]
        """,
        """
            from flask import Flask
            app = Flask(__name__)
            app.secret_key = load_secret()
        """,
        """
            import secrets
            def new_token():
                return secrets.token_urlsafe(32)
        """,
        """
            import os
            nonce = os.urandom(16)
            NONCE = nonce
        """,
        """
            from starlette.middleware.sessions import SessionMiddleware
            app.add_middleware(SessionMiddleware, secret_key=settings.secret)
        """,
        """
            import uuid
            REQUEST_ID = uuid.uuid4()
        """,
        """
            import os
            from django.conf import settings
            settings.configure(SECRET_KEY=os.environ["SECRET_KEY"], DEBUG=False)
        """,
        """
            import random
            COLORS = ['red', 'blue']
            THEME = random.choice(COLORS)
        """,
        """
            import os
            def sign(data):
                key = os.urandom(16)
                return Signer(key).sign(data)
        """,
        """
            import os
            CHOICES = {"SECRET_KEY": os.urandom(4)}
            register(**CHOICES)
        """,
        """
            import os, secrets
            SECRET_KEY = os.environ.get("SECRET_KEY", secrets.token_hex())
        """,
        """
            import secrets
            def invite(user):
                user.invite_token = secrets.token_urlsafe(16)
                user.save()
        """,
        """
            import os
            def make_nonce(length=16):
                return os.urandom(length)
        """,
    )
    invalid = examples(
        """
            from cryptography.fernet import Fernet
            class Encrypt:
                key = Fernet.generate_key()
                def __init__(self):
                    self.fernet = Fernet(self.key)
        """,
        """
            from cryptography.fernet import Fernet
            class CSRF:
                def __init__(self, secret=None):
                    self.CSRF_SECRET = secret or load_setting("CSRF_SECRET") or Fernet.generate_key()
        """,
        """
            import base64
            from aiohttp_session import setup
            from aiohttp_session.cookie_storage import EncryptedCookieStorage
            from cryptography import fernet
            def init_sessions(app):
                raw = fernet.Fernet.generate_key()
                key = base64.urlsafe_b64decode(raw)
                setup(app, EncryptedCookieStorage(key))
        """,
        """
            import os
            SECRET_KEY = os.urandom(24)
        """,
        """
            import secrets
            from flask import Flask
            app = Flask(__name__)
            app.secret_key = secrets.token_hex(32)
        """,
        """
            from django.core.management.utils import get_random_secret_key
            SECRET_KEY = get_random_secret_key()
        """,
        """
            import os
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        """,
        """
            from secrets import token_urlsafe
            from starlette.middleware.sessions import SessionMiddleware
            app.add_middleware(SessionMiddleware, secret_key=token_urlsafe(32))
        """,
        """
            import os
            class Config:
                SECRET_KEY = os.urandom(32)
        """,
        """
            import uuid
            from itsdangerous import URLSafeTimedSerializer
            signer = URLSafeTimedSerializer(str(uuid.uuid4()))
        """,
        """
            import secrets as s
            def create_app():
                app = Flask(__name__)
                app.config.update(SECRET_KEY=s.token_bytes(32))
                return app
        """,
        """
            import random, string
            app.config['SECRET_KEY'] = ''.join(random.choice(string.ascii_letters) for _ in range(32))
        """,
        """
            import secrets
            SECRET_KEY = "".join(secrets.choice("abcdef0123456789") for i in range(50))
        """,
        """
            import os
            _key = os.urandom(24)
            app = Flask(__name__)
            app.secret_key = _key
        """,
        """
            from django.conf import settings
            from django.core.management.utils import get_random_secret_key
            settings.configure(DEBUG=False, SECRET_KEY=get_random_secret_key())
        """,
        """
            from django.conf import settings
            from django.utils.crypto import get_random_string
            SETTINGS = {"DEBUG": False, "SECRET_KEY": get_random_string(50)}
            if not settings.configured:
                settings.configure(**SETTINGS)
        """,
        """
            import os
            def create_app():
                config = {"SECRET_KEY": os.urandom(24), "DEBUG": False}
                app = Flask(__name__)
                app.config.update(config)
                return app
        """,
        """
            import os
            class SignedCookieMiddleware:
                def __init__(self, app, secret_key=os.urandom(32)):
                    self.app = app
                    self.secret_key = secret_key
        """,
        """
            from uuid import uuid4
            class AuthSettings:
                def load_secret(self):
                    self.auth_secret_key = uuid4().hex
        """,
        """
            import base64
            from aiohttp import web
            from aiohttp_session import setup
            from aiohttp_session.cookie_storage import EncryptedCookieStorage
            from cryptography import fernet
            app = web.Application()
            setup(app, EncryptedCookieStorage(base64.urlsafe_b64decode(fernet.Fernet.generate_key())))
        """,
        """
            import os
            import secrets
            def _resolve_secret_key():
                value = os.getenv("SECRET_KEY")
                if value:
                    return value
                return secrets.token_urlsafe(48)
            class Settings:
                SECRET_KEY = _resolve_secret_key()
        """,
    )


class RandomSecretKeyFallback(_RandomSecret):
    """A random fallback for a missing secret hides a misconfiguration until replicas disagree.

    ``os.environ.get("SECRET_KEY", os.urandom(24))`` works on one process; with several replicas
    and the variable unset, each replica signs with its own key.
    """

    code = "SK201"
    name = "random-secret-key-fallback"
    severity = "error"
    guarded = True
    message = (
        "when the guard does not hold each replica generates a different key, so cookies signed "
        "by one replica are rejected by the others; fail fast when the secret is missing instead "
        "of generating one"
    )
    fix_hint = 'Drop the random default: SECRET_KEY = os.environ["SECRET_KEY"].'
    valid = examples(
        """
            import os
            SECRET_KEY = os.environ["SECRET_KEY"]
        """,
        """
            import os
            SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
        """,
        """
            import os
            SECRET_KEY = os.urandom(24)
        """,
        """
            import os
            TOKEN = os.environ.get("TOKEN", os.urandom(4))
        """,
        """
            import secrets
            def make():
                return secrets.token_hex()
        """,
        """
            import os, secrets
            if DEBUG:
                SECRET_KEY = secrets.token_hex()
        """,
    )
    invalid = examples(
        """
            import os
            SECRET_KEY = os.environ.get("SECRET_KEY", os.urandom(24))
        """,
        """
            import os, secrets
            SECRET_KEY = os.getenv("SECRET_KEY") or secrets.token_hex(32)
        """,
        """
            import os
            from django.core.management.utils import get_random_secret_key
            SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", default=get_random_secret_key())
        """,
        """
            import os, secrets
            if not os.environ.get("SECRET_KEY"):
                SECRET_KEY = secrets.token_hex()
        """,
        """
            import os, secrets
            app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", secrets.token_urlsafe(32))
        """,
        """
            import os
            from starlette.middleware.sessions import SessionMiddleware
            app.add_middleware(
                SessionMiddleware, secret_key=os.getenv("SESSION_SECRET", os.urandom(16).hex())
            )
        """,
        """
            import os, random, string
            default_secret_key = ''.join(random.choice(string.ascii_uppercase) for _ in range(20))
            FLASK_SECRET_KEY = os.environ.get('FLASK_SECRET_KEY', default_secret_key)
        """,
    )
