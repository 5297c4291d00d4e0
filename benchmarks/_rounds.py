"""The order of interleaved benchmark rounds: every configuration once per round, the order
rotated by one each round, so no configuration always runs first or right after another."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def rotated(names: Sequence[T], rounds: int) -> Iterator[T]:
    """``names`` once per round for ``rounds`` rounds, round ``r`` starting at ``names[r % len]``."""
    for r in range(rounds):
        shift = r % len(names)
        yield from [*names[shift:], *names[:shift]]
