"""The Python snippets of the core docs run as written (against the test server)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def snippets(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_core_snippet_runs(redis_url: str, redis_client, redis_server) -> None:
    if redis_server.process is None:
        pytest.fail("docs snippets write under the default key prefix: run them on a server the suite owns")
    (code,) = snippets("core.md")
    before = set(redis_client.scan_iter(match="sessionkit:s:*"))  # another test's default-prefix keys
    exec(compile(code.replace("redis://127.0.0.1:6379/0", redis_url), "docs/core.md", "exec"), {})
    keys = [k for k in redis_client.scan_iter(match="sessionkit:s:*") if k not in before]
    live = [k for k in keys if redis_client.hexists(k, "\x00m")]
    # the regenerated session; the pre-login one is gone (a data-less "replaced" marker for seconds)
    assert len(live) == 1 and len(keys) == 2
    redis_client.delete(*keys)


def test_observability_snippets_feed_their_metrics(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """The hooks shown for Prometheus and OpenTelemetry receive events (their libraries are stood in for)."""
    observed: list[tuple] = []

    class Histogram:
        def __init__(self, *args, **kwargs) -> None: ...

        def labels(self, *labels):
            return types.SimpleNamespace(observe=lambda seconds: observed.append(("prom", labels, seconds)))

        def record(self, seconds, attributes):
            observed.append(("otel", attributes, seconds))

    meter = types.SimpleNamespace(create_histogram=lambda *a, **k: Histogram())
    monkeypatch.setitem(sys.modules, "prometheus_client", types.SimpleNamespace(Histogram=Histogram))
    otel = types.ModuleType("opentelemetry")
    otel.metrics = types.SimpleNamespace(get_meter=lambda name: meter)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "opentelemetry", otel)

    prom_code, otel_code = snippets("observability.md")
    scope: dict = {}
    exec(compile(prom_code.replace("redis://127.0.0.1:6379/0", redis_url), "observability.md", "exec"), scope)
    exec(compile(otel_code, "observability.md", "exec"), scope)
    store = scope["store"]
    store.hooks = (scope["to_prometheus"], scope["to_otel"])
    store.open(None).get("x")
    store.save(store.open(store.codec.sign("A" * 43)))
    store.open(store.codec.sign("A" * 43)).get("x")
    def operation(labels) -> str:
        return labels["operation"] if isinstance(labels, dict) else labels[0]

    cache = [labels for _, labels, _ in observed if operation(labels) == "cache"]
    assert ("cache", "miss") in cache  # the local cache reports through the same hooks
    assert [(kind, labels) for kind, labels, _ in observed if operation(labels) != "cache"] == [
        ("prom", ("save", "noop")), ("otel", {"operation": "save", "outcome": "noop"}),
        ("prom", ("load", "miss")), ("otel", {"operation": "load", "outcome": "miss"}),
    ]
    store.close()


# The files the distribution rename covers so far; the other docs follow with the same rule.
INSTALL_DOCS = ["README.md", "docs/demo.md", "docs/e2e.md", ".pre-commit-hooks.yaml"]


@pytest.mark.parametrize("name", INSTALL_DOCS)
def test_install_lines_name_our_distribution_not_the_unrelated_sessionkit(name: str) -> None:
    """`sessionkit` on the package index is another project: an install line must say
    `sessionkit-redis[...]` (or a path such as `./sessionkit[flask]` / `.[all]`)."""
    text = (DOCS.parent / name).read_text()
    wrong = re.findall(r"(?<![/\w.-])sessionkit\[[a-z,]+\]|pip install ['\"]?sessionkit(?![\w\[/-])", text)
    assert wrong == []
    assert "sessionkit-redis" in text or name == "docs/e2e.md"
