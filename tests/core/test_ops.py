"""The operations without any server: each test scripts the replies Redis would give.

They pin the race branches (a regenerate that loses its claim, a create under a taken key, an
update after a logout, ...) command by command; the real-Redis tests in test_store.py and
test_faults.py show that Redis gives these replies when the races happen.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from sessionkit import JSONSerializer, Session, SessionBackendUnavailable
from sessionkit._commands import Command, Delete, IndexAdd, IndexRemove, ReadHash, Write
from sessionkit._config import StoreConfig
from sessionkit._ops import Context, after_read, drive, save, settled
from sessionkit._plan import F_META, plan_save
from sessionkit._scripts import EMPTIED, EXISTS, GONE, REPLACED, WRITTEN

CONFIG = StoreConfig(key_prefix="t:", absolute_timeout=None)
IDS = iter(f"{i:043d}" for i in range(1000))
CTX = Context(CONFIG, JSONSerializer(), now=lambda: 5000.0, new_id=lambda: next(IDS),
              sign=lambda sid: f"{sid}.sig")
OLD = "A" * 43


def scripted(op: Generator[Command, Any, Any], replies: list[Any]) -> tuple[Any, list[Command]]:
    """Drive ``op``, answering each command with the next scripted reply; an exception in the
    script is raised in the operation as Redis errors are."""
    sent: list[Command] = []

    def execute(command: Command) -> Any:
        sent.append(command)
        reply = replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    result = drive(op, execute)
    assert replies == [], "the operation sent fewer commands than scripted"
    return result, sent


def loaded(data: dict[str, Any], user: str | None = None) -> Session:
    session = Session(id=OLD, new=False)
    raw = {k.encode(): JSONSerializer().dumps(v) for k, v in data.items()}
    raw[F_META.encode()] = f"1|4000.0|4990.0|{user or ''}".encode()
    assert after_read(CTX, session, OLD, raw) == ("ok", None)
    return session


def run_save(session: Session, replies: list[Any]) -> tuple[Any, list[Command]]:
    plan = plan_save(session, CTX.serializer, CONFIG, 5000.0)
    return scripted(save(CTX, session, plan, 5000.0), replies)


def test_update_after_a_logout_is_a_deleted_conflict() -> None:
    s = loaded({"a": 1})
    s["a"] = 2
    result, sent = run_save(s, [GONE])
    assert [type(c) for c in sent] == [Write] and sent[0].argv[0] == "update"
    assert (result.cookie, result.written, result.conflict, result.value) == ("delete", False, "deleted", None)
    assert s.id is None


def test_update_after_a_regenerate_is_a_regenerated_conflict_and_keeps_the_cookie() -> None:
    s = loaded({"a": 1})
    s["a"] = 2
    result, _ = run_save(s, [REPLACED])
    assert (result.cookie, result.written, result.conflict) == ("keep", False, "regenerated")


def test_a_regenerate_that_loses_its_claim_writes_nothing() -> None:
    for reply, cookie, conflict in ((REPLACED, "keep", "regenerated"), (GONE, "delete", "deleted")):
        s = loaded({"a": 1}, user="ann")
        s.regenerate()
        result, sent = run_save(s, [reply])
        assert [c.argv[0] for c in sent if isinstance(c, Write)] == ["replace"]  # no create
        assert (result.cookie, result.conflict) == (cookie, conflict)


def test_a_regenerate_that_wins_moves_the_index_entry_and_sets_the_new_cookie() -> None:
    s = loaded({"a": 1}, user="ann")
    s.regenerate()
    result, sent = run_save(s, [WRITTEN, 1, WRITTEN, 1])
    claim, remove, create, add = sent
    assert isinstance(claim, Write) and claim.argv[:2] == ["replace", 10_000]
    assert isinstance(remove, IndexRemove) and remove.index == "t:u:ann"
    assert isinstance(create, Write) and create.argv[0] == "create" and create.key != claim.key
    assert isinstance(add, IndexAdd) and add.index == "t:u:ann" and add.member != remove.member
    assert result.cookie == "set" and result.value == f"{s.id}.sig" and s.id != OLD


def test_a_create_under_a_taken_caller_chosen_key_is_an_exists_conflict() -> None:
    s = Session(id="django-key", new=True)
    s["a"] = 1
    result, sent = run_save(s, [EXISTS])
    assert len(sent) == 1 and sent[0].argv[0] == "create"
    assert (result.cookie, result.written, result.conflict) == ("keep", False, "exists")


def test_a_random_id_collision_retries_with_another_id() -> None:
    s = Session()
    s["a"] = 1
    result, sent = run_save(s, [EXISTS, WRITTEN])
    assert [c.argv[0] for c in sent] == ["create", "create"] and sent[0].key != sent[1].key
    assert result.cookie == "set"


def test_a_dead_shard_is_retried_once_on_a_sharded_server_only() -> None:
    from dataclasses import replace

    from sessionkit import _ops

    down = SessionBackendUnavailable("shard down")
    s = Session()
    s["a"] = 1
    plan = plan_save(s, CTX.serializer, CONFIG, 5000.0)
    result, sent = scripted(_ops.save(replace(CTX, sharded=True), s, plan, 5000.0), [down, WRITTEN])
    assert result.cookie == "set" and sent[0].key != sent[1].key
    s = Session()
    s["a"] = 1
    with pytest.raises(SessionBackendUnavailable):
        scripted(_ops.save(CTX, s, plan_save(s, CTX.serializer, CONFIG, 5000.0), 5000.0), [down])


def test_emptying_deletes_only_if_the_script_found_nothing_else() -> None:
    for reply, cookie, index_removal in ((EMPTIED, "delete", True), (WRITTEN, "keep", False)):
        s = loaded({"flash": "hi"}, user="ann")
        s.pop("flash")
        result, sent = run_save(s, [reply, 1] if index_removal else [reply])
        assert sent[0].argv[0] == "empty" and "flash" in sent[0].argv
        # a session another request kept alive stays in its user's index (revoke_user finds it)
        assert [type(c) for c in sent[1:]] == ([IndexRemove] if index_removal else [])
        assert result.cookie == cookie and result.written


def test_a_destroy_removes_the_user_the_script_read_from_the_index() -> None:
    s = loaded({"a": 1}, user="ann")
    s.destroy()
    result, sent = run_save(s, [b"1|4000.0|4990.0|bob", 1])  # bound to bob meanwhile
    assert sent[0].argv[0] == "delete"
    assert isinstance(sent[1], IndexRemove) and sent[1].index == "t:u:bob"
    assert result.cookie == "delete"


def test_reading_the_replaced_marker_refuses_a_new_session_and_leaves_the_cookie() -> None:
    s = Session(id=OLD, new=False)
    assert after_read(CTX, s, OLD, {b"\x00r": b"1"}) == ("miss", None)
    s["x"] = 1
    plan = plan_save(s, CTX.serializer, CONFIG, 5000.0)
    assert plan.kind == "refused"
    assert (settled(CTX, s, plan).cookie, settled(CTX, s, plan).conflict) == ("keep", "regenerated")


def test_an_expired_hash_is_deleted_on_read() -> None:
    config = StoreConfig(key_prefix="t:", absolute_timeout=100)
    ctx = Context(config, JSONSerializer(), now=lambda: 5000.0, new_id=lambda: "x")
    s = Session(id=OLD, new=False)
    outcome, cleanup = after_read(ctx, s, OLD, {F_META.encode(): b"1|100.0|4990.0|"})
    assert outcome == "miss" and cleanup == Delete(config.key_for(OLD)) and s.new
    assert ReadHash(config.key_for(OLD)).key == cleanup.key
