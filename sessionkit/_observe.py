"""Observability hooks: one callback per store operation, no hard dependency on any metrics library.

Feed them to Prometheus or OpenTelemetry with a few lines (see docs/observability.md)::

    def hook(event: OperationEvent) -> None:
        LATENCY.labels(event.operation, event.outcome).observe(event.seconds)

    store = RedisStore(url, secret_keys=..., hooks=[hook])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

# "cache": the replica-local cache (outcome hit, miss, evict, invalidate or flush; seconds 0).
Operation = Literal["load", "save", "delete", "regenerate", "revoke_user", "cache"]


@dataclass(frozen=True)
class OperationEvent:
    """One finished store operation. ``outcome`` is ``ok``, ``miss``, ``noop``, ``conflict``,
    ``degraded``, or ``error``."""

    operation: Operation
    outcome: str
    seconds: float


Hook = Callable[[OperationEvent], None]


class Outcome:
    """Mutable outcome slot for ``observed``; the operation sets ``value`` when not ``ok``."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = "ok"


@contextmanager
def observed(hooks: Sequence[Hook], operation: Operation) -> Iterator[Outcome]:
    outcome = Outcome()
    if not hooks:
        yield outcome
        return
    start = time.perf_counter()
    try:
        yield outcome
    except BaseException:
        outcome.value = "error"
        raise
    finally:
        event = OperationEvent(operation, outcome.value, time.perf_counter() - start)
        for hook in hooks:
            hook(event)
