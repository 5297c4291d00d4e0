"""The default JSON serializer: the bytes of ``json.dumps`` with its settings, and its errors."""

from __future__ import annotations

import json
import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import JSONSerializer, SerializationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(json_values)
def test_dumps_is_compact_json_and_round_trips(value: object) -> None:
    serializer = JSONSerializer()
    out = serializer.dumps(value)
    assert out == json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    assert serializer.loads(out) == value


@pytest.mark.parametrize("value", [{1j}, object(), [math.nan], {"x": math.inf}])
def test_values_json_cannot_hold_are_a_serialization_error(value: object) -> None:
    with pytest.raises(SerializationError, match="session values must be JSON types"):
        JSONSerializer().dumps(value)


def test_a_cycle_is_a_serialization_error_and_the_serializer_still_works() -> None:
    serializer = JSONSerializer()
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(SerializationError):
        serializer.dumps(cycle)
    assert serializer.dumps([1, [2]]) == b"[1,[2]]"


def test_one_value_serialized_from_many_threads_at_once() -> None:
    serializer = JSONSerializer()
    shared = {"cart": [{"sku": i, "tags": ["a", "b"]} for i in range(200)]}
    expected = serializer.dumps(shared)
    seen: list[bytes] = []

    def work() -> None:
        seen.extend(serializer.dumps(shared) for _ in range(200))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [expected] * 1600
