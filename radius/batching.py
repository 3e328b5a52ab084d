"""Batching concurrent requests into one database transaction each.

Under load, one commit per request makes commit waits the limit. Requests that arrive while a
batch is in the database wait for the next one: all of them are committed together and only
then answered, so nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class Batcher(Generic[T, R]):
    """Feeds submitted items in batches to `process`, which returns one result per item."""

    def __init__(
        self,
        process: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int,
        name: str,
    ) -> None:
        self._process = process
        self._max_batch = max_batch
        self._name = name
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the worker task."""
        self._worker = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def submit(self, item: T) -> R:
        """Queue `item` and wait for its result (raises if its batch failed)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def drain(self) -> None:
        """Wait until everything submitted so far is processed, then stop the worker."""
        await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._run_batch(batch)
            except Exception:
                # The worker must outlive any bug: fail what is left, keep serving.
                log.exception("%s: batch handling failed", self._name)
                for _, future in batch:
                    _resolve_error(future, RuntimeError(f"{self._name} failed"))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _run_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._process([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except Exception:
            if len(batch) == 1:
                log.exception(
                    "%s: request failed; no reply, the client will retransmit", self._name
                )
                _resolve_error(batch[0][1], RuntimeError(f"{self._name} failed"))
                return
            # One bad item must not fail its neighbours: retry them one by one.
            log.warning("%s: batch of %d failed; retrying one by one", self._name, len(batch))
            for entry in batch:
                await self._run_batch([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _resolve_error(future: asyncio.Future[R], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


class ShardedBatcher(Generic[T, R]):
    """Several batchers side by side, so one batch's commit wait overlaps another's work.

    Items with the same shard key always go to the same batcher, so their order is kept.
    """

    def __init__(
        self,
        process: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        shards: int,
        shard_key: Callable[[T], int],
        max_batch: int,
        name: str,
    ) -> None:
        self._shard_key = shard_key
        self._shards = [
            Batcher(process, max_batch=max_batch, name=f"{name}-{index}")
            for index in range(max(shards, 1))
        ]

    def start(self) -> None:
        """Start every shard's worker."""
        for shard in self._shards:
            shard.start()

    async def submit(self, item: T) -> R:
        """Queue `item` on its shard and wait for its result."""
        return await self._shards[self._shard_key(item) % len(self._shards)].submit(item)

    async def drain(self) -> None:
        """Wait until every shard has processed what it was given, then stop them."""
        await asyncio.gather(*(shard.drain() for shard in self._shards))
