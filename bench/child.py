"""Running a load generator in a fresh process, so its CPU is not charged to anything measured."""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

Spec = TypeVar("Spec")
Result = TypeVar("Result")


def _child(work: Callable[[Any], object], spec: object, conn: Connection) -> None:
    message: object
    try:
        message = work(spec)
    except BaseException as exc:  # report everything to the parent, which decides
        message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    # The parent may be gone (interrupted): then there is nobody to tell.
    with contextlib.suppress(OSError):
        conn.send(message)
    conn.close()


def run_in_child(
    work: Callable[[Spec], Result],
    spec: Spec,
    *,
    result_type: type[Result],
    name: str,
    budget: float,
    error: type[Exception],
) -> Result:
    """`work(spec)` in a spawned process (`work` must be a module-level function).

    Raises `error` when the child fails, gives nothing within `budget` seconds, or dies; a
    child's own `error` comes back as its first line, anything else with its traceback.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, spec, sender), name=name, daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(budget):
            raise error(f"load generator gave no result within {budget:.0f} s")
        message = receiver.recv()
    except EOFError as exc:
        raise error(f"load generator exited with code {process.exitcode}") from exc
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
    if isinstance(message, str):
        raise error(message.splitlines()[0] if error.__name__ in message else message)
    if not isinstance(message, result_type):
        raise error(f"unexpected message from the load generator: {message!r}")
    return message
