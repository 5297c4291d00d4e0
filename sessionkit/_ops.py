"""Store operations as sans-IO generators.

Each operation yields the Redis calls it needs as ``Call`` tuples and receives their replies; it
never touches a socket. ``RedisStore`` and ``AsyncRedisStore`` drive the same generators, one with
plain calls and one with ``await``, so every decision exists exactly once. A failed call is thrown
back into the generator as ``SessionBackendUnavailable`` (that is how degraded mode is decided).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from sessionkit._cookie import redis_key_suffix
from sessionkit._core import StoreCore
from sessionkit._errors import SessionBackendUnavailable
from sessionkit._observe import Outcome
from sessionkit._plan import WritePlan, commit, plan_save
from sessionkit._scripts import write_args
from sessionkit._session import Session

# (method name on the client, positional args); "write" runs the Lua script: (key, args)
Call = tuple[str, tuple[Any, ...]]
Op = Generator[Call, Any, Any]
C = TypeVar("C")


def drive(op: Generator[C, Any, Any], execute: Callable[[C], Any]) -> Any:
    """Run a sans-IO operation: execute each call it yields, send back the reply (or throw back
    ``SessionBackendUnavailable``), and return the operation's result."""
    try:
        call = next(op)
        while True:
            try:
                reply = execute(call)
            except SessionBackendUnavailable as exc:
                call = op.throw(exc)
            else:
                call = op.send(reply)
    except StopIteration as stop:
        return stop.value


async def adrive(op: Generator[C, Any, Any], execute: Callable[[C], Awaitable[Any]]) -> Any:
    """``drive`` for asyncio: ``execute`` returns an awaitable."""
    try:
        call = next(op)
        while True:
            try:
                reply = await execute(call)
            except SessionBackendUnavailable as exc:
                call = op.throw(exc)
            else:
                call = op.send(reply)
    except StopIteration as stop:
        return stop.value


def load(core: StoreCore, session: Session, session_id: str, degrade: bool, out: Outcome) -> Op:
    key = core.key(session_id)
    try:
        raw = yield ("hgetall", (key,))
    except SessionBackendUnavailable as exc:
        if not degrade:
            raise
        core.degrade(session, exc)
        out.value = "degraded"
        return None
    if not core.fill(session, session_id, raw, core.now()):
        out.value = "miss"
        if raw:  # expired by absolute lifetime, or unreadable: remove it now
            yield ("delete", (key,))
    return None


def save(core: StoreCore, session: Session, destroy_if_empty: bool, out: Outcome) -> Op:
    now = core.now()
    plan = plan_save(session, core.serializer, core.config, now, destroy_if_empty=destroy_if_empty)
    if plan.kind == "none":
        out.value = "noop"
        return core.result(session, plan, False)
    applied = yield from _execute(core, session, plan)
    if applied:
        commit(session, plan, now)
    else:
        out.value = "conflict"
    return core.result(session, plan, applied)


def _execute(core: StoreCore, session: Session, plan: WritePlan) -> Generator[Call, Any, bool]:
    old_id = session.id
    if plan.kind == "update" and old_id:
        argv = write_args("update", plan.ttl_ms, plan.fields, plan.deleted)
        status = yield ("write", (core.key(old_id), argv))
        if status == 1 and plan.index_remove:  # bind_user on an existing session (Django login)
            yield ("srem", (plan.index_remove, redis_key_suffix(old_id)))
        if status == 1 and plan.index_add:
            yield ("sadd", (plan.index_add, redis_key_suffix(old_id)))
            if core.config.absolute_timeout:
                yield ("expire", (plan.index_add, int(core.config.absolute_timeout) + 60))
        return bool(status == 1)
    if plan.kind in ("delete", "regenerate") and old_id:
        # For regenerate, deleting the old key first is the claim: of two concurrent
        # regenerates only one sees 1, and the loser writes nothing, so no orphan is left.
        if not (yield ("delete", (core.key(old_id),))) and plan.kind == "regenerate":
            session.id = None
            return False
        if plan.index_remove:
            yield ("srem", (plan.index_remove, redis_key_suffix(old_id)))
        if plan.kind == "delete":
            return True
    # A new session given an ID by the caller (Django's own keys) is created under it and fails
    # on collision; otherwise a fresh 256-bit ID, retried on a (2**-256) collision.
    fixed = old_id if plan.kind == "create" else None
    while True:
        key = core.key(fixed) if fixed else core.assign_new_id(session)
        status = yield ("write", (key, write_args("create", plan.ttl_ms, plan.fields, [])))
        if status == 1:
            break
        if fixed:
            return False
    if plan.index_add:
        yield ("sadd", (plan.index_add, redis_key_suffix(session.id or "")))
        if core.config.absolute_timeout:
            yield ("expire", (plan.index_add, int(core.config.absolute_timeout) + 60))
    return True


def sessions_of(core: StoreCore, user_id: str, out: Outcome) -> Op:
    index = core.config.user_index_key(user_id)
    members = yield ("smembers", (index,))
    suffixes = sorted(m.decode() for m in members)
    alive: list[str] = []
    for suffix in suffixes:
        key = core.config.session_key(suffix)
        if (yield ("exists", (key,))):
            alive.append(key)
        else:
            yield ("srem", (index, suffix))
    return alive


def revoke_user(core: StoreCore, user_id: str, out: Outcome) -> Op:
    index = core.config.user_index_key(user_id)
    members = yield ("smembers", (index,))
    ended = 0
    for member in members:  # one key per call: session keys live in different cluster slots
        ended += int((yield ("delete", (core.config.session_key(member.decode()),))))
    yield ("delete", (index,))
    return ended


def simple(core: StoreCore, call: Call, out: Outcome) -> Op:
    return (yield call)
