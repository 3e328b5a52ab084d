"""RFC 5080 section 2.2.2 duplicate detection: a retransmission gets the cached reply.

A request is identified by (source address, source port, code, Identifier, Request
Authenticator). While it is being processed, copies are dropped; once answered, copies get the
same reply bytes and are never processed again. Requests that got no reply are forgotten, so
the client's retransmission is processed afresh (e.g. after a database error).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

DuplicateKey = tuple[str, int, int, int, bytes]


class Pending(Enum):
    """Marker for a request still being processed."""

    IN_PROGRESS = "in progress"
    # Same key but other bytes: not a retransmission (RFC 5080 section 2.2.2), e.g. a forgery.
    CONFLICT = "conflict"


@dataclass(slots=True)
class _Entry:
    expires: float
    reply: bytes | Pending
    request: bytes


class DuplicateCache:
    """Replies to recent requests, bounded in age and count."""

    def __init__(
        self, *, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[DuplicateKey, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: DuplicateKey, request: bytes = b"") -> bytes | Pending | None:
        """Return the cached reply, IN_PROGRESS, CONFLICT (same key, other bytes), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires < self._clock():
            del self._entries[key]
            return None
        if entry.request != request:
            return Pending.CONFLICT
        return entry.reply

    def begin(self, key: DuplicateKey, request: bytes = b"") -> None:
        """Mark a request (its exact bytes) as being processed."""
        self._expire()
        self._entries[key] = _Entry(self._clock() + self._ttl, Pending.IN_PROGRESS, request)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def finish(self, key: DuplicateKey, reply: bytes | None) -> None:
        """Store the reply sent for a request, or forget a request that got none."""
        if reply is None or key not in self._entries:
            # Forgotten, or evicted while in progress: the cache stays within its bound.
            self._entries.pop(key, None)
            return
        self._entries[key] = _Entry(self._clock() + self._ttl, reply, self._entries[key].request)
        self._entries.move_to_end(key)

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.expires >= now:
                break
            del self._entries[key]
