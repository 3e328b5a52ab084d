"""In-process rate limits per device and per point (fixed one-minute windows).

A device is its MAC from the router's redirect when there is one, else the client address; a
point is its NAS-Identifier. Behind a router's NAT every phone at a point shares one address,
which is why the point gets its own, larger budget. One process, one memory: run one portal
process per host, or put the same limits in the reverse proxy.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Counts hits per key in the current minute; `hit` says whether one more is allowed."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False once it is over its budget for this minute."""
        if self.per_minute <= 0:
            return True
        window = int(self._clock() // 60)
        if window != self._window:
            self._window = window
            self._counts.clear()
        count = self._counts.get(key, 0) + 1
        if count == 1 and len(self._counts) >= self.max_keys:
            # A flood of distinct keys: refuse new ones rather than grow without bound.
            return False
        self._counts[key] = count
        return count <= self.per_minute


class PortalLimits:
    """The portal's two budgets: per device and per point."""

    def __init__(self, per_device: int, per_point: int) -> None:
        self.device = RateLimiter(per_device)
        self.point = RateLimiter(per_point)

    def allow(self, *, point: str, device: str) -> bool:
        """Count one request from `device` at `point`; False if either budget is spent."""
        device_ok = self.device.hit(f"{point}\x00{device}")
        point_ok = self.point.hit(point)
        return device_ok and point_ok
