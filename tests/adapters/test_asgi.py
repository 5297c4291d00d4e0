"""sessionkit.adapters._asgi: the middleware's own reading of the request's cookie and its ``Vary``
header give exactly what Starlette's ``request.cookies`` and ``add_vary_header`` give; one store
per event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

from sessionkit.adapters import _asgi

READER = _asgi.CookieReader("session")  # one reader for every case: what it remembers is exercised too


def scope_with(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "headers": headers, "path": "/", "query_string": b""}


@pytest.mark.parametrize("headers", [
    [],
    [(b"cookie", b"session=abc")],
    [(b"cookie", b"a=1; session=abc.def; b=2")],
    [(b"cookie", b"xsession=1; sessionx=2")],  # the name inside other names only
    [(b"cookie", b"session=first; session=second")],  # the last one wins
    [(b"cookie", b' session = "quoted\\073value" ')],
    [(b"cookie", b"session=")],
    [(b"cookie", b"session")],  # no '=': a value with an empty name
    [(b"cookie", b"other=1"), (b"cookie", b"session=in-the-second-header")],
    [(b"cookie", b"session=1"), (b"cookie", b"session=2; a=b"), (b"cookie", b"a=c")],  # the last that has it
    [(b"host", b"x"), (b"cookie", b"session=\xe9t\xe9")],  # latin-1 bytes
])
def test_the_request_cookie_is_what_starlette_reads(headers: list[tuple[bytes, bytes]]) -> None:
    scope = scope_with(headers)
    assert READER(scope) == HTTPConnection(scope).cookies.get("session")


@given(st.lists(st.text(alphabet=st.sampled_from(list('session=;"\\ ,abc.012\t')), max_size=40),
                min_size=1, max_size=3))
def test_any_cookie_headers_read_as_starlette_reads_them(texts: list[str]) -> None:
    scope = scope_with([(b"cookie", text.encode("latin-1")) for text in texts])
    assert READER(scope) == HTTPConnection(scope).cookies.get("session")
    assert READER(scope) == HTTPConnection(scope).cookies.get("session")  # now from what it remembers


def test_the_cookie_reader_stays_exact_past_what_it_remembers() -> None:
    reader = _asgi.CookieReader("session")
    for i in [*range(3000), 1, 2999]:
        assert reader(scope_with([(b"cookie", b"session=v%d" % i)])) == f"v{i}"


@pytest.mark.parametrize("headers", [
    [],
    [(b"content-type", b"text/plain")],
    [(b"vary", b"Accept-Encoding")],
    [(b"vary", b"Accept"), (b"content-length", b"2"), (b"vary", b"Origin")],
])
def test_vary_cookie_is_added_as_starlette_adds_it(headers: list[tuple[bytes, bytes]]) -> None:
    ours = list(headers)
    _asgi.add_vary_cookie(ours)
    message: dict[str, Any] = {"type": "http.response.start", "headers": list(headers)}
    MutableHeaders(scope=message).add_vary_header("Cookie")
    assert ours == message["headers"]


def test_response_headers_become_a_list_that_takes_more() -> None:
    message: dict[str, Any] = {"type": "http.response.start", "headers": ((b"a", b"1"),)}
    _asgi.response_headers(message).append((b"b", b"2"))
    assert message["headers"] == [(b"a", b"1"), (b"b", b"2")]
    bare: dict[str, Any] = {"type": "http.response.start"}
    _asgi.response_headers(bare).append((b"c", b"3"))
    assert bare["headers"] == [(b"c", b"3")]


def test_one_store_per_event_loop_also_when_loops_alternate() -> None:
    made: list[object] = []

    def make() -> Any:
        made.append(object())
        return made[-1]

    stores = _asgi.LoopStores(make)

    async def twice() -> tuple[object, object]:
        return stores.get(), stores.get()

    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        a1, a2 = first.run_until_complete(twice())
        b1, b2 = second.run_until_complete(twice())
        a3, _ = first.run_until_complete(twice())
    finally:
        first.close()
        second.close()
    assert a1 is a2 is a3 and b1 is b2 and a1 is not b1
    assert len(made) == 2
