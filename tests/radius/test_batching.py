"""Batching concurrent requests: one call per batch, ordered results, isolation of bad items."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from radius.batching import Batcher


class Recorder:
    """A `process` that records its batches and doubles numbers; "bad" items make it fail."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.batches: list[list[object]] = []
        self.delay = delay

    async def __call__(self, items: Sequence[object]) -> list[object]:
        self.batches.append(list(items))
        if self.delay:
            await asyncio.sleep(self.delay)
        else:
            await asyncio.sleep(0)
        if "bad" in items:
            raise ValueError("bad item in batch")
        return [item * 2 for item in items]  # type: ignore[operator]


@pytest.fixture
async def stop_later() -> AsyncIterator[list[Batcher[object, object]]]:
    batchers: list[Batcher[object, object]] = []
    yield batchers
    for batcher in batchers:
        await batcher.drain()


async def queue_items(
    batcher: Batcher[object, object], items: Sequence[object]
) -> list[asyncio.Task[object]]:
    """Submit every item before the worker runs: they all wait in the queue."""
    tasks = [asyncio.create_task(batcher.submit(item)) for item in items]
    await asyncio.sleep(0)
    return tasks


async def test_items_submitted_together_go_in_one_batch(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    tasks = await queue_items(batcher, [1, 2, 3, 4, 5])
    assert process.batches == []
    batcher.start()
    results = await asyncio.gather(*tasks)
    assert process.batches == [[1, 2, 3, 4, 5]]
    assert results == [2, 4, 6, 8, 10]


async def test_each_submit_gets_its_own_result(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    tasks = await queue_items(batcher, [10, 3, 7])
    batcher.start()
    assert await tasks[1] == 6
    assert await tasks[2] == 14
    assert await tasks[0] == 20


async def test_single_submit_after_start(stop_later: list[Batcher[object, object]]) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    batcher.start()
    assert await batcher.submit(21) == 42
    assert await batcher.submit(5) == 10
    assert process.batches == [[21], [5]]


async def test_max_batch_is_respected(stop_later: list[Batcher[object, object]]) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=2, name="test")
    stop_later.append(batcher)
    tasks = await queue_items(batcher, [1, 2, 3, 4, 5])
    batcher.start()
    assert await asyncio.gather(*tasks) == [2, 4, 6, 8, 10]
    assert process.batches == [[1, 2], [3, 4], [5]]


async def test_items_arriving_during_a_batch_wait_for_the_next(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder(delay=0.05)
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    batcher.start()
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0.01)  # the worker is now inside process([1])
    later = await queue_items(batcher, [2, 3, 4])
    assert await first == 2
    assert await asyncio.gather(*later) == [4, 6, 8]
    assert process.batches == [[1], [2, 3, 4]]


async def test_a_failing_batch_is_retried_one_by_one(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    tasks = await queue_items(batcher, [1, "bad", 3])
    batcher.start()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 2
    assert results[2] == 6
    assert isinstance(results[1], RuntimeError)
    assert "test failed" in str(results[1])
    assert process.batches == [[1, "bad", 3], [1], ["bad"], [3]]


async def test_a_failing_single_item_raises_from_submit(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="accounting")
    stop_later.append(batcher)
    batcher.start()
    with pytest.raises(RuntimeError, match="accounting failed"):
        await batcher.submit("bad")
    # The worker survives a failure.
    assert await batcher.submit(4) == 8
    assert process.batches == [["bad"], [4]]


async def test_drain_waits_for_queued_work_then_stops(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder(delay=0.02)
    batcher: Batcher[object, object] = Batcher(process, max_batch=2, name="test")
    tasks = await queue_items(batcher, [1, 2, 3, 4, 5])
    batcher.start()
    await batcher.drain()
    assert all(task.done() for task in tasks)
    assert [task.result() for task in tasks] == [2, 4, 6, 8, 10]
    assert process.batches == [[1, 2], [3, 4], [5]]
    assert batcher._worker is not None
    assert batcher._worker.done()


async def test_drain_with_nothing_queued_returns(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder()
    batcher: Batcher[object, object] = Batcher(process, max_batch=2, name="test")
    batcher.start()
    await asyncio.wait_for(batcher.drain(), 1)
    assert process.batches == []


async def test_cancelled_submit_does_not_break_its_batch(
    stop_later: list[Batcher[object, object]],
) -> None:
    process = Recorder(delay=0.02)
    batcher: Batcher[object, object] = Batcher(process, max_batch=100, name="test")
    stop_later.append(batcher)
    tasks = await queue_items(batcher, [1, 2, 3])
    batcher.start()
    await asyncio.sleep(0.005)
    tasks[1].cancel()
    assert await tasks[0] == 2
    assert await tasks[2] == 6
    assert tasks[1].cancelled()
    assert await batcher.submit(7) == 14


async def test_batcher_survives_a_process_returning_too_few_results() -> None:
    calls = 0

    async def process(items: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        return [i * 2 for i in items][:1] if calls == 1 else [i * 2 for i in items]

    batcher: Batcher[int, int] = Batcher(process, max_batch=10, name="t")
    tasks = [asyncio.create_task(batcher.submit(i)) for i in (1, 2)]
    await asyncio.sleep(0)
    batcher.start()
    _, pending = await asyncio.wait(tasks, timeout=0.5)
    # Every submit must end (with a result or an error), never hang.
    assert not pending
    # And the worker must still serve later requests.
    assert await asyncio.wait_for(batcher.submit(5), 0.5) == 10
