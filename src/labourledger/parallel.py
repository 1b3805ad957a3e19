"""CPU-bound work spread over the machine's cores in forked worker processes.

Workers are forked, not spawned: they inherit the items and the function instead of
receiving them pickled (entries carry their bodies; nothing of a key or account is sent
anywhere), and they start in milliseconds rather than re-importing the library. Only
results travel, pickled, so they should be small.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["cores", "map_chunks"]

T = TypeVar("T")
R = TypeVar("R")

# The job the workers were forked with; None in any process not running one.
_job: tuple[Callable[[Sequence[Any]], list[Any]], Sequence[Any]] | None = None


def cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    import multiprocessing

    # Forking a process with other threads can copy a lock some thread holds (a web server's
    # worker thread, say); a job inside a job would fork from a worker. Both run serially.
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and _job is None
    )


def _run(start: int, stop: int) -> list[Any]:
    assert _job is not None, "a worker runs only the job it was forked with"
    fn, items = _job
    return fn(items[start:stop])


def map_chunks(
    fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, chunk: int, min_items: int
) -> Iterator[R]:
    """The results of `fn` over consecutive chunks of at most `chunk` items, flattened and
    in order: in one worker per core when there are at least `min_items` items and the
    process can fork, else in this process.

    Results are yielded as their chunk finishes, so a caller can use them while the
    workers go on.
    """
    starts = range(0, len(items), chunk)
    workers = cores()
    if len(items) < min_items or workers < 2 or not _can_fork():
        for start in starts:
            yield from fn(items[start : start + chunk])
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _job
    _job = (fn, items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            # The pool forks all its workers on the first submission, while `_job` is set.
            done = pool.map(_run, starts, [start + chunk for start in starts])
            _job = None
            for results in done:
                yield from results
    finally:
        _job = None
