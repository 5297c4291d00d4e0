"""The store's operations, sans-IO: what to send to Redis for a read, a save, a delete, a revoke.

The read and a save that writes nothing are straight-line functions (``after_read``, ``settled``):
the hot paths run no generator. Every operation that writes is a generator
``Generator[Command, Reply, Result]``: it yields typed commands (``sessionkit._commands``) and gets
their replies; ``RedisStore`` and ``AsyncRedisStore`` execute them (``drive``/``adrive``), so every
decision exists once. A failed command is thrown back into the generator as
``SessionBackendUnavailable``. Operations get a ``Context`` (settings, serializer, clock, ID
source, signer), never the store.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

from sessionkit._commands import Command, Delete, Exists, IndexAdd, IndexRemove, Members, Write
from sessionkit._config import StoreConfig
from sessionkit._cookie import redis_key_suffix
from sessionkit._errors import SessionBackendUnavailable, SessionNotReplicated
from sessionkit._plan import (
    WritePlan,
    decode_hash,
    expired,
    index_ttl_ms,
    meta_user,
    replaced,
)
from sessionkit._scripts import EMPTIED, GONE, REPLACED, WRITTEN, write_args
from sessionkit._serializers import Serializer
from sessionkit._session import Record, Session

log = logging.getLogger("sessionkit")
# A request derives its session's key (a SHA-256 of the ID) for the read, the write and the user
# index: the keys of the last few thousand IDs are remembered instead (bounded, IDs already verified).
suffix_of = functools.lru_cache(maxsize=4096)(redis_key_suffix)
ConflictKind = Literal["deleted", "regenerated", "exists"]
T = TypeVar("T")
Op = Generator[Command, Any, T]


def key_of(config: StoreConfig, session_id: str) -> str:
    """``config.key_for(session_id)``, remembered (see ``suffix_of``)."""
    return config.session_key(suffix_of(session_id))


@dataclass(frozen=True, init=False)
class SaveResult:
    """What the adapter must do with the cookie after ``save``.

    ``cookie``: ``"set"`` (send ``value``: new or regenerated session), ``"delete"`` (the session
    ended) or ``"keep"`` (leave the browser's cookie as it is; ``value`` is still the signed ID of
    a live session, for frameworks that resend it to slide the cookie's expiry).
    ``value`` is signed when first read, so a result whose cookie is not sent costs no HMAC.
    ``conflict`` (``None`` when the write went through or nothing needed writing):

    - ``"deleted"``: the session was deleted meanwhile (a logout or revoke won the race); nothing
      was written, ``cookie`` is ``"delete"``.
    - ``"regenerated"``: another request replaced this session's ID moments ago (a login's
      ``regenerate()``); this request's changes were NOT applied. ``cookie`` is ``"keep"``: the
      browser already has, or is about to get, the new cookie — do not touch it, and answer with
      an error (e.g. 409) rather than a silent 200, so the client can retry with the new cookie.
    - ``"exists"``: a create under a caller-chosen ID (Django's keys) found the ID taken.
    """

    cookie: Literal["set", "delete", "keep"]
    session_id: str | None
    written: bool
    conflict: ConflictKind | None = None
    signer: Callable[[str], str] | None = field(default=None, repr=False, compare=False)

    def __init__(self, cookie: Literal["set", "delete", "keep"], session_id: str | None, written: bool,
                 conflict: ConflictKind | None = None, signer: Callable[[str], str] | None = None) -> None:
        # One result per save: filled in one step (a frozen dataclass's own __init__ calls
        # object.__setattr__ once per field).
        self.__dict__.update(cookie=cookie, session_id=session_id, written=written, conflict=conflict,
                             signer=signer)

    @cached_property
    def value(self) -> str | None:
        """The signed cookie value for ``session_id`` (``None`` when there is nothing to send)."""
        if self.session_id is None or self.signer is None:
            return None
        return self.signer(self.session_id)


@dataclass(frozen=True)
class Context:
    """What the operations need from their store, and nothing else."""

    config: StoreConfig
    serializer: Serializer
    now: Callable[[], float]
    new_id: Callable[[], str]
    sign: Callable[[str], str] | None = None
    sharded: bool = False  # Redis Cluster: a new ID lands on another shard

    def result(self, session_id: str | None, cookie: Literal["set", "delete", "keep"],
               written: bool, conflict: ConflictKind | None = None) -> SaveResult:
        return SaveResult(cookie, session_id, written, conflict, self.sign)


C = TypeVar("C")


def drive(op: Generator[C, Any, T], execute: Callable[[C], Any]) -> T:
    """Run a sans-IO operation: execute each command it yields, send back the reply (or throw back
    ``SessionBackendUnavailable``), and return the operation's result."""
    try:
        command = next(op)
        while True:
            try:
                reply = execute(command)
            except SessionBackendUnavailable as exc:
                command = op.throw(exc)
            else:
                command = op.send(reply)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def adrive(op: Generator[C, Any, T], execute: Callable[[C], Awaitable[Any]]) -> T:
    """``drive`` for asyncio: ``execute`` returns an awaitable."""
    try:
        command = next(op)
        while True:
            try:
                reply = await execute(command)
            except SessionBackendUnavailable as exc:
                command = op.throw(exc)
            else:
                command = op.send(reply)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


# -- the read: straight-line ------------------------------------------------------------------
def after_read(ctx: Context, session: Session, session_id: str,
               raw: dict[bytes, bytes]) -> tuple[str, Delete | None]:
    """Fill ``session`` from the ``HGETALL`` reply for ``session_id``. Returns the outcome
    (``ok``/``miss``) and the clean-up to run, if any (an expired or unreadable hash).

    A missing, unreadable or expired session becomes a fresh empty one: a client-chosen ID is
    never adopted.
    """
    outcome, cleanup, _ = read_record(ctx, session, session_id, raw)
    return outcome, cleanup


def read_record(ctx: Context, session: Session, session_id: str,
                raw: dict[bytes, bytes]) -> tuple[str, Delete | None, Record | None]:
    """``after_read``, plus the record read (``None`` on a miss), for the local cache."""
    if not raw:
        session.reset()
        return "miss", None, None
    if replaced(raw):
        session.reset(replaced=True)
        return "miss", None, None
    record = decode_hash(raw, ctx.serializer, session_id[:6] + "…")
    if record is None or expired(record, ctx.config, ctx.now()):
        session.reset()
        return "miss", Delete(key_of(ctx.config, session_id)), None
    session.restore(session_id, record)
    return "ok", None, record


def degrade(session: Session, exc: Exception) -> None:
    log.warning("Redis unavailable, serving an empty degraded session: %s", exc)
    session.reset(degraded=True)


# -- the save ------------------------------------------------------------------------------------
def settled(ctx: Context, session: Session, plan: WritePlan) -> SaveResult:
    """The result of a save that sends nothing (``plan.kind`` is ``none`` or ``refused``)."""
    if plan.kind == "refused":
        # The cookie's session was just regenerated by another request (a login): creating a new
        # session here would replace the new login cookie. Report it instead.
        return ctx.result(None, "keep", False, "regenerated")
    return ctx.result(session.id, "keep", False)


def save(ctx: Context, session: Session, plan: WritePlan, now: float) -> Op[SaveResult]:
    """Execute a plan that writes (see ``plan_save``)."""
    config, old_id = ctx.config, session.id
    if plan.kind == "delete" and old_id:
        yield from delete_id(ctx, old_id)
        session.id = None
        return ctx.result(None, "delete", True)
    if plan.kind in ("update", "empty", "regenerate") and old_id:
        suffix = suffix_of(old_id)
        key = config.session_key(suffix)
        if plan.kind == "regenerate":  # the claim: of two concurrent regenerates one sees 1
            argv = write_args("replace", int(config.regenerate_grace * 1000), {}, [])
        else:
            argv = write_args(plan.kind, plan.ttl_ms, plan.fields, plan.deleted)
        status = yield Write(key, argv)
        if status in (GONE, REPLACED):  # a logout, or a regenerate, won the race
            session.id = None
            if status == GONE:
                return ctx.result(None, "delete", False, "deleted")
            return ctx.result(None, "keep", False, "regenerated" if plan.data_changed else None)
        if status == EMPTIED:  # nothing else was left: the session ended here
            if plan.index_remove:
                yield IndexRemove(plan.index_remove, suffix)
            session.id = None
            return ctx.result(None, "delete", True)
        if plan.index_remove and plan.kind != "empty":  # an emptied session that lives on stays
            yield IndexRemove(plan.index_remove, suffix)
        if plan.kind != "regenerate":
            if plan.index_add:
                yield IndexAdd(plan.index_add, suffix, index_ttl_ms(plan, config))
            session.mark_saved(old_id, plan.fields, plan.deleted, now)
            return ctx.result(old_id, "keep", True)
    # A new session given an ID by the caller (Django's own keys) is created under it and fails
    # on collision; otherwise a fresh 256-bit ID, retried on a (2**-256) collision, and once
    # more on a sharded server if the ID's shard is down (another ID lands on another shard).
    fixed = old_id if plan.kind == "create" else None
    retry = ctx.sharded and not fixed
    while True:
        new_id = fixed or ctx.new_id()
        try:
            status = yield Write(key_of(config, new_id), write_args("create", plan.ttl_ms, plan.fields, []))
        except SessionBackendUnavailable as exc:
            if not retry or isinstance(exc, SessionNotReplicated):
                raise
            retry = False
            continue
        if status == WRITTEN:
            break
        if fixed:
            return ctx.result(None, "keep", False, "exists")
    if plan.index_add:
        yield IndexAdd(plan.index_add, suffix_of(new_id), index_ttl_ms(plan, config))
    session.mark_saved(new_id, plan.fields, plan.deleted, now)
    return ctx.result(new_id, "set", True)


# -- by ID, and per user -----------------------------------------------------------------------
def delete_id(ctx: Context, session_id: str) -> Op[bool]:
    """Delete a session and remove it from its user's index (the user is read in the same step)."""
    meta = yield Write(key_of(ctx.config, session_id), ["delete", 0, 0])
    user = meta_user(meta)
    if user:
        yield IndexRemove(ctx.config.user_index_key(user), suffix_of(session_id))
    return meta is not None


def exists(ctx: Context, session_id: str) -> Op[bool]:
    return bool((yield Exists(key_of(ctx.config, session_id))))


def sessions_of(ctx: Context, user_id: str) -> Op[list[str]]:
    index = ctx.config.user_index_key(user_id)
    members = yield Members(index)
    alive: list[str] = []
    for suffix in sorted(m.decode() for m in members):
        key = ctx.config.session_key(suffix)
        if (yield Exists(key)):
            alive.append(key)
        else:
            yield IndexRemove(index, suffix)
    return alive


def revoke_user(ctx: Context, user_id: str) -> Op[int]:
    index = ctx.config.user_index_key(user_id)
    members = yield Members(index)
    ended = 0
    for member in members:  # one key per command: session keys live in different cluster slots
        ended += int((yield Delete(ctx.config.session_key(member.decode()))))
    yield Delete(index)
    return ended
