"""RFC 5080 duplicate detection: in progress, cached replies, expiry and the size bound."""

from __future__ import annotations

from radius.dedup import DuplicateCache, DuplicateKey, Pending


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(identifier: int = 1, port: int = 40000) -> DuplicateKey:
    return ("192.0.2.1", port, 1, identifier, bytes([identifier]) * 16)


def make_cache(*, ttl: float = 30.0, max_entries: int = 100) -> tuple[DuplicateCache, FakeClock]:
    clock = FakeClock()
    return DuplicateCache(ttl=ttl, max_entries=max_entries, clock=clock), clock


def test_miss_begin_in_progress_finish_cached() -> None:
    cache, _ = make_cache()
    assert cache.lookup(key()) is None
    cache.begin(key())
    assert cache.lookup(key()) is Pending.IN_PROGRESS
    cache.finish(key(), b"reply-bytes")
    assert cache.lookup(key()) == b"reply-bytes"
    # Still there on a second retransmission.
    assert cache.lookup(key()) == b"reply-bytes"
    assert len(cache) == 1


def test_keys_differ_by_every_component() -> None:
    cache, _ = make_cache()
    base = key()
    cache.begin(base)
    cache.finish(base, b"reply")
    for other in [
        ("192.0.2.2", *base[1:]),
        (base[0], 40001, *base[2:]),
        (*base[:2], 4, *base[3:]),
        (*base[:3], 2, base[4]),
        (*base[:4], bytes(16)),
    ]:
        assert cache.lookup(other) is None  # type: ignore[arg-type]


def test_finish_none_forgets_the_request() -> None:
    cache, _ = make_cache()
    cache.begin(key())
    cache.finish(key(), None)
    assert cache.lookup(key()) is None
    assert len(cache) == 0


def test_finish_none_for_an_unknown_key_is_harmless() -> None:
    cache, _ = make_cache()
    cache.finish(key(9), None)
    assert len(cache) == 0


def test_reply_expires_after_the_ttl() -> None:
    cache, clock = make_cache(ttl=30)
    cache.begin(key())
    clock.now += 10
    cache.finish(key(), b"reply")
    # The TTL counts from the reply.
    clock.now += 30
    assert cache.lookup(key()) == b"reply"
    clock.now += 0.5
    assert cache.lookup(key()) is None
    assert len(cache) == 0


def test_in_progress_expires_too() -> None:
    cache, clock = make_cache(ttl=5)
    cache.begin(key())
    clock.now += 5.1
    assert cache.lookup(key()) is None


def test_begin_sweeps_expired_entries() -> None:
    cache, clock = make_cache(ttl=10)
    for identifier in range(5):
        cache.begin(key(identifier))
        cache.finish(key(identifier), b"r")
    clock.now += 11
    cache.begin(key(99))
    assert len(cache) == 1
    assert cache.lookup(key(99)) is Pending.IN_PROGRESS


def test_begin_keeps_entries_that_have_not_expired() -> None:
    cache, clock = make_cache(ttl=10)
    cache.begin(key(1))
    cache.finish(key(1), b"old")
    clock.now += 6
    cache.begin(key(2))
    cache.finish(key(2), b"new")
    clock.now += 6
    cache.begin(key(3))
    assert cache.lookup(key(1)) is None
    assert cache.lookup(key(2)) == b"new"
    assert len(cache) == 2


def test_max_entries_evicts_the_oldest() -> None:
    cache, clock = make_cache(max_entries=3)
    for identifier in range(1, 4):
        cache.begin(key(identifier))
        cache.finish(key(identifier), bytes([identifier]))
        clock.now += 1
    cache.begin(key(4))
    assert len(cache) == 3
    assert cache.lookup(key(1)) is None
    assert cache.lookup(key(2)) == b"\x02"
    assert cache.lookup(key(3)) == b"\x03"
    assert cache.lookup(key(4)) is Pending.IN_PROGRESS


def test_a_finished_reply_counts_as_recent_for_eviction() -> None:
    cache, _ = make_cache(max_entries=2)
    cache.begin(key(1))
    cache.begin(key(2))
    # Request 1 is answered after request 2 began: request 2 is now the oldest.
    cache.finish(key(1), b"one")
    cache.begin(key(3))
    assert cache.lookup(key(2)) is None
    assert cache.lookup(key(1)) == b"one"
    assert cache.lookup(key(3)) is Pending.IN_PROGRESS


def test_begin_again_after_forgetting_processes_afresh() -> None:
    cache, _ = make_cache()
    cache.begin(key())
    cache.finish(key(), None)
    cache.begin(key())
    assert cache.lookup(key()) is Pending.IN_PROGRESS
    cache.finish(key(), b"second")
    assert cache.lookup(key()) == b"second"


def test_dedup_never_holds_more_than_max_entries() -> None:
    cache = DuplicateCache(ttl=30, max_entries=2, clock=lambda: 0.0)
    cache.begin(key(1))
    cache.begin(key(2))
    cache.begin(key(3))  # evicts request 1 while it is still in progress
    cache.finish(key(1), b"reply-1")  # ... which re-inserts it
    assert len(cache) <= 2


def test_same_key_with_other_bytes_is_a_conflict_not_a_retransmission() -> None:
    cache = DuplicateCache(ttl=30, max_entries=8, clock=lambda: 0.0)
    cache.begin(key(), b"request-bytes")
    assert cache.lookup(key(), b"request-bytes-with-more") is Pending.CONFLICT
    cache.finish(key(), b"reply")
    assert cache.lookup(key(), b"request-bytes") == b"reply"
    assert cache.lookup(key(), b"forged") is Pending.CONFLICT
