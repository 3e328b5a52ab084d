"""Small-cell suppression: counts too small to share are hidden, never shown as their number.

A count from 1 to `threshold - 1` is hidden (primary suppression); 0 stays visible, since
"nobody" points at no one. When a breakdown is shown beside its total and exactly one cell is
hidden, the total minus the others would give it away, so the next smallest visible count is
hidden too (complementary suppression).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

FOOTNOTE = "An empty cell is a count from 1 to {limit} left out so that no one can be singled out."
"""The footnote that explains empty cells; format it with `limit=threshold - 1`."""


def is_small(count: int, threshold: int) -> bool:
    """Whether `count` must be hidden under `threshold`."""
    return 0 < count < threshold


def suppress_one(count: int, threshold: int) -> int | None:
    """`count`, or None when it must be hidden."""
    return None if is_small(count, threshold) else count


def suppress(
    counts: Mapping[K, int], threshold: int, *, with_total: bool = True
) -> dict[K, int | None]:
    """The breakdown with small counts as None; with a shown total, no lone hidden cell."""
    hidden = {key for key, count in counts.items() if is_small(count, threshold)}
    if with_total and len(hidden) == 1:
        visible = [(count, str(key), key) for key, count in counts.items() if count > 0]
        candidates = sorted(item for item in visible if item[2] not in hidden)
        if candidates:
            hidden.add(candidates[0][2])
    return {key: None if key in hidden else count for key, count in counts.items()}


def footnote(threshold: int) -> str:
    """The footnote for tables where cells were hidden under `threshold`."""
    return FOOTNOTE.format(limit=threshold - 1)
