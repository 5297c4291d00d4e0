"""The sans-IO write decision, without any server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import JSONSerializer, Session, SessionTooLarge
from sessionkit._config import StoreConfig
from sessionkit._plan import F_EXPIRES, F_META, deadline, plan_save

ser = JSONSerializer()
cfg = StoreConfig(refresh_interval=60, max_size=1000)


def existing(data: dict, touched: float = 1000.0, rotate_on_clear: bool = True) -> Session:
    return Session(
        data, id="x" * 43, new=False, snapshot={k: ser.dumps(v) for k, v in data.items()},
        created_at=900.0, touched_at=touched, rotate_on_clear=rotate_on_clear,
    )


def test_untouched_session_plans_nothing() -> None:
    assert plan_save(existing({"a": 1}), ser, cfg, 2000.0).kind == "none"


def test_new_empty_session_plans_nothing() -> None:
    s = Session()
    s.get("a")
    assert plan_save(s, ser, cfg, 1.0).kind == "none"


def test_only_changed_fields_are_written() -> None:
    s = existing({"a": 1, "b": [1], "c": "x"})
    s["b"].append(2)  # nested mutation, no modified flag
    del s["c"]
    plan = plan_save(s, ser, cfg, 1010.0)
    assert plan.kind == "update"
    idle = cfg.idle_timeout  # the key's TTL: within the absolute lifetime
    assert plan.fields == {"b": b"[1,2]", F_META: b"1|900.0|1010.0|", F_EXPIRES: repr(1010.0 + idle).encode()}
    assert plan.deleted == ["c"]


def test_read_only_inside_refresh_interval_writes_nothing_and_outside_refreshes() -> None:
    s = existing({"a": 1}, touched=1000.0)
    s.get("a")
    assert plan_save(s, ser, cfg, 1059.0).kind == "none"
    plan = plan_save(s, ser, cfg, 1060.0)
    assert (plan.kind, plan.deleted) == ("update", [])
    assert plan.fields == {F_META: b"1|900.0|1060.0|", F_EXPIRES: repr(1060.0 + cfg.idle_timeout).encode()}


def test_read_only_access_serializes_nothing() -> None:
    class Counting(JSONSerializer):
        calls = 0

        def dumps(self, value):
            Counting.calls += 1
            return super().dumps(value)

    s = existing({"user": "ann", "n": 1, "cart": ["a"]})
    assert (s["user"], s.get("n"), "cart" in s) == ("ann", 1, True)
    assert plan_save(s, Counting(), cfg, 1010.0).kind == "none"
    assert Counting.calls == 0
    s["cart"].append("b")  # a mutable value handed out is compared again
    assert plan_save(s, Counting(), cfg, 1010.0).fields["cart"] == b'["a","b"]'
    assert Counting.calls == 1


def test_size_limit_is_checked_before_anything_is_planned() -> None:
    s = existing({})
    s["big"] = "x" * 2000
    with pytest.raises(SessionTooLarge) as info:
        plan_save(s, ser, cfg, 1.0)
    assert info.value.limit == 1000 and info.value.size > 2000


def test_emptied_session_is_deleted_only_if_no_other_key_exists() -> None:
    s = existing({"a": 1, "b": 2})
    del s["a"]
    del s["b"]
    plan = plan_save(s, ser, cfg, 1.0)
    # "empty": the script HDELs what this request removed and deletes the hash only if nothing is left
    assert (plan.kind, plan.deleted, list(plan.fields)) == ("empty", ["a", "b"], [F_META, F_EXPIRES])


def test_every_write_carries_the_keys_own_expiry() -> None:
    """A per-session lifetime (``Session.ttl``) is in the hash: readers need no PTTL to honour it."""
    s = existing({"a": 1})
    s.ttl = 30.0
    s["a"] = 2
    plan = plan_save(s, ser, cfg, 1000.0)
    assert plan.ttl_ms == 30_000 and plan.fields[F_EXPIRES] == b"1030.0"
    raw = {k.encode(): v for k, v in plan.fields.items()}
    assert deadline(raw, cfg) == 1030.0
    # the absolute lifetime caps it: created at 900, a 200 s cap ends at 1100
    capped = StoreConfig(absolute_timeout=200.0, idle_timeout=150.0)
    assert deadline({**raw, F_EXPIRES.encode(): b"5000.0"}, capped) == 1100.0
    # written before the field existed: the idle timeout from the last write
    legacy = {F_META.encode(): b"1|900.0|1000.0|", b"a": b"1"}
    assert deadline(legacy, capped) == 1100.0 and deadline(legacy, cfg) == 1000.0 + cfg.idle_timeout
    assert deadline({b"a": b"1"}, cfg) is None and deadline({F_META.encode(): b"junk"}, cfg) is None


def test_emptied_then_refilled_plans_a_new_id() -> None:
    s = existing({"a": 1})
    del s["a"]
    s["user"] = "ann"
    assert plan_save(s, ser, cfg, 1.0).kind == "regenerate"
    s = existing({"a": 1}, rotate_on_clear=False)
    s.clear()
    s["user"] = "ann"
    assert plan_save(s, ser, cfg, 1.0).kind == "update"


def test_metadata_names_cannot_be_used_as_keys() -> None:
    with pytest.raises(KeyError):
        Session()["\x00c"] = 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)
keys = st.sampled_from(["a", "b", "c", "d", "é", ""])
mutation = st.one_of(
    st.tuples(st.just("set"), keys, json_values),
    st.tuples(st.just("del"), keys, st.none()),
    st.tuples(st.just("append"), keys, json_values),
)


@given(st.dictionaries(keys, json_values, max_size=4), st.lists(mutation, max_size=12))
def test_any_mutation_sequence_applies_exactly(initial: dict, mutations: list) -> None:
    """Simulating Redis with a dict: applying the planned write to the stored fields gives the model."""
    stored = {k: ser.dumps(v) for k, v in initial.items()}
    session = existing(dict(initial), rotate_on_clear=False)  # the diff alone (no new ID)
    model = ser.loads(ser.dumps(initial))
    session._data = ser.loads(ser.dumps(initial))  # independent copy, as a real load gives
    for op, key, value in mutations:
        if op == "set":
            session[key] = value
            model[key] = value
        elif op == "del" and key in model:
            del session[key]
            del model[key]
        elif op == "append" and isinstance(model.get(key), list):
            session[key].append(value)
            model[key].append(value)
    plan = plan_save(session, ser, cfg, 5000.0, destroy_if_empty=False)
    if plan.kind == "update":
        stored.update({k: v for k, v in plan.fields.items() if not k.startswith("\x00")})
        for k in plan.deleted:
            stored.pop(k)
        session.mark_saved(session.id, plan.fields, plan.deleted, 5000.0)
    else:
        assert plan.kind == "none" and initial == model
    assert {k: ser.loads(v) for k, v in stored.items()} == model
    # after commit the session considers itself clean
    assert plan_save(session, ser, cfg, 5001.0, destroy_if_empty=False).kind == "none"
