"""Observability hooks: one callback per store operation, no hard dependency on any metrics library.

Feed them to Prometheus or OpenTelemetry with a few lines (see docs/observability.md)::

    def hook(event: OperationEvent) -> None:
        LATENCY.labels(event.operation, event.outcome).observe(event.seconds)

    store = RedisStore(url, secret_keys=..., hooks=[hook])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Operation = Literal["load", "save", "delete", "regenerate", "revoke_user"]


@dataclass(frozen=True)
class OperationEvent:
    """One finished store operation. ``outcome`` is ``ok``, ``miss``, ``noop``, ``conflict``,
    ``degraded``, or ``error``."""

    operation: Operation
    outcome: str
    seconds: float


Hook = Callable[[OperationEvent], None]


def emit(hooks: Sequence[Hook], operation: Operation, outcome: str, start: float) -> None:
    """Send one ``OperationEvent`` (started at ``perf_counter()`` value ``start``) to every hook.

    Stores call it only when hooks are installed: without hooks an operation costs no timing.
    """
    event = OperationEvent(operation, outcome, time.perf_counter() - start)
    for hook in hooks:
        hook(event)
