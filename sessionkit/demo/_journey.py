"""Scripted users for the demo and the end-to-end tests: log in, read, add to the cart, check it.

A ``User`` keeps its own cookie jar and sends every request on a fresh connection (as many
browsers behind a balancer do), so nothing but cookies ties it to a replica. Every loop is
bounded in count and in time. Outcomes are counted, never timed.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sessionkit.demo._children import scaled

REQUEST_TIMEOUT = 15.0  # seconds, scaled by $SESSIONKIT_TIMEOUT_SCALE


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (connection refused or reset)
    body: Any
    upstream: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    """What a group of users saw. ``logged_out`` counts 401s after a successful login."""

    requests: int = 0
    logged_in: int = 0
    logged_out: int = 0
    errors: int = 0  # 5xx or no answer
    statuses: Counter[int] = field(default_factory=Counter)
    lost_users: set[str] = field(default_factory=set)  # users who saw a 401 after logging in
    cart_mismatches: int = 0  # GET /cart differed from the items the server confirmed
    retry_after_missing: int = 0  # 503 replies without Retry-After
    served_by: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.logged_in += other.logged_in
        self.logged_out += other.logged_out
        self.errors += other.errors
        self.statuses.update(other.statuses)
        self.lost_users |= other.lost_users
        self.cart_mismatches += other.cart_mismatches
        self.retry_after_missing += other.retry_after_missing
        self.served_by.update(other.served_by)

    @property
    def logged_out_share(self) -> float:
        judged = self.logged_in + self.logged_out
        return self.logged_out / judged if judged else 0.0


class User:
    """One browser: a cookie jar and the cart items the server confirmed."""

    def __init__(self, name: str, ports: Sequence[int], *, sticky: bool = False) -> None:
        self.name = name
        # One port: a balancer. Several: balancing on the client side, round-robin, or with
        # ``sticky`` pinned to one replica (chosen from the name) until it refuses connections.
        self.ports = list(ports)
        self.sticky = sticky
        self.cookies: dict[str, str] = {}
        self.cart: list[str] = []  # items the server confirmed
        self.uncertain: set[str] = set()  # adds without an answer: they may or may not have landed
        self.logged_in = False
        self.tally = Tally()
        self.pinned: Counter[str] = Counter()  # which replica served this user logged in (X-Upstream)
        self.served: Counter[str] = Counter()  # which replica answered this user at all
        self._next = zlib.crc32(name.encode()) % len(self.ports) if sticky else 0

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> Reply:
        body = urlencode(data).encode() if data is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reply = Reply(0, None)
        for _ in range(len(self.ports)):  # client-side balancing skips a replica that refuses
            port = self.ports[self._next % len(self.ports)]
            self._next += 0 if self.sticky else 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(REQUEST_TIMEOUT))
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                self._store_cookies(resp.msg.get_all("Set-Cookie") or [])
                try:
                    parsed: Any = json.loads(raw) if raw else None
                except ValueError:
                    parsed = raw.decode(errors="replace")
                upstream = resp.getheader("X-Upstream") or str(port)
                reply = Reply(resp.status, parsed, upstream, {k.lower(): v for k, v in resp.getheaders()})
                break
            except (OSError, http.client.HTTPException):
                self._next += 1 if self.sticky else 0  # a sticky user moves on only from a dead replica
                continue
            finally:
                conn.close()
        self._count(reply)
        return reply

    def _store_cookies(self, headers: list[str]) -> None:
        for header in headers:
            pair, _, attrs = header.partition(";")
            name, _, value = pair.strip().partition("=")
            attrs_l = attrs.lower().replace(" ", "")
            if not value or "max-age=0" in attrs_l or "expires=thu,01jan1970" in attrs_l:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def _count(self, reply: Reply) -> None:
        t = self.tally
        t.requests += 1
        t.statuses[reply.status] += 1
        if reply.upstream:
            t.served_by[reply.upstream] += 1
            self.served[reply.upstream] += 1
        if reply.status == 0 or reply.status >= 500:
            t.errors += 1
        if reply.status == 503 and "retry-after" not in reply.headers:
            t.retry_after_missing += 1

    def _judge(self, reply: Reply) -> None:
        if not self.logged_in:
            return
        if reply.status == 401:
            self.tally.logged_out += 1
            self.tally.lost_users.add(self.name)
        elif reply.status == 200:
            self.tally.logged_in += 1
            self.pinned[reply.upstream] += 1

    def login(self) -> bool:
        reply = self.request("POST", "/login", {"user": self.name})
        self.logged_in = reply.status == 200
        return self.logged_in

    def me(self) -> Reply:
        reply = self.request("GET", "/me")
        if reply.status == 200 and not (isinstance(reply.body, dict) and reply.body.get("user") == self.name):
            reply.status = 401  # someone else's session: as bad as none
        self._judge(reply)
        return reply

    def add(self, item: str) -> Reply:
        reply = self.request("POST", "/cart/add", {"item": item})
        self._judge(reply)
        if reply.status == 200:
            self.cart.append(item)
        elif reply.status == 0 or reply.status >= 500:
            self.uncertain.add(item)
        return reply

    def check_cart(self) -> Reply:
        reply = self.request("GET", "/cart")
        self._judge(reply)
        if reply.status == 200:
            items = reply.body.get("items") if isinstance(reply.body, dict) else None
            if not isinstance(items, list) or [i for i in items if i not in self.uncertain] != self.cart:
                self.tally.cart_mismatches += 1
        return reply

    def step(self, i: int, *, carts: bool = True) -> None:
        """One step of the journey: mostly reads, a cart add every 5th step, a cart check every 10th."""
        if carts and i % 5 == 4:
            self.add(f"item-{i}")
        elif carts and i % 10 == 9:
            self.check_cart()
        else:
            self.me()


def walk(users: Sequence[User], steps: int, *, carts: bool = True, stop: threading.Event | None = None,
         max_seconds: float = 120.0, on_step: Callable[[int], None] | None = None) -> Tally:
    """Every user (one thread each) logs in if needed, then takes up to ``steps`` steps.

    Stops early when ``stop`` is set or after ``max_seconds`` (scaled by ``$SESSIONKIT_TIMEOUT_SCALE``).
    ``on_step(i)`` runs in the first user's thread before its step ``i`` (used to kill a replica midway).
    """
    max_seconds = scaled(max_seconds)
    deadline = time.monotonic() + max_seconds

    def run(index: int, user: User) -> None:
        if not user.logged_in:
            user.login()
        for i in range(steps):
            if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                break
            if on_step is not None and index == 0:
                on_step(i)
            user.step(i, carts=carts)

    threads = [threading.Thread(target=run, args=(n, u), daemon=True) for n, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_seconds + 2 * scaled(REQUEST_TIMEOUT))
    total = Tally()
    for user in users:
        total.merge(user.tally)
        user.tally = Tally()
    return total
