"""Serializers: a two-method protocol. JSON by default; pickle is never used."""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from sessionkit._errors import SerializationError


@runtime_checkable
class Serializer(Protocol):
    """Turns one session value into bytes and back.

    ``dumps`` must be deterministic (the same value gives the same bytes): change detection
    compares serialized bytes, so a non-deterministic serializer would write on every request.
    """

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class JSONSerializer:
    """Compact UTF-8 JSON, the default. Values must be JSON types (dict, list, str, int, ...)."""

    __slots__ = ("_decoder", "_encode", "_encoder", "_scan")

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        # What ``JSONEncoder.encode`` builds on every call, built once: the C encoder with the same
        # settings, without the circular-reference memo (a dict it would share between threads;
        # a cycle then ends in RecursionError, reported as SerializationError all the same).
        make: Any = getattr(json.encoder, "c_make_encoder", None)
        self._encode: Callable[[Any, int], Any] | None = None if make is None else make(
            None, self._encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False,
            False)
        self._decoder = json.JSONDecoder()
        # What ``JSONDecoder.decode`` calls (typeshed types the decoder argument oddly).
        scanner: Any = json.scanner.make_scanner
        self._scan: Callable[[str, int], tuple[Any, int]] = scanner(self._decoder)

    def dumps(self, value: Any) -> bytes:
        try:
            if self._encode is None or type(value) is str:
                return self._encoder.encode(value).encode()
            return "".join(self._encode(value, 0)).encode()
        except (TypeError, ValueError, RecursionError) as exc:
            raise SerializationError(
                f"{exc}; session values must be JSON types (dict, list, str, int, float, bool, "
                "None) with the default serializer. Convert the value (e.g. str(uuid), "
                "dt.isoformat()) or pass a serializer that knows the type."
            ) from exc

    def loads(self, data: bytes) -> Any:
        text = data.decode()
        try:  # what ``dumps`` wrote (no surrounding whitespace): the C scanner alone
            value, end = self._scan(text, 0)
            if end == len(text):
                return value
        except StopIteration:
            pass
        return self._decoder.decode(text)  # anything else: the full decoder, and its errors
