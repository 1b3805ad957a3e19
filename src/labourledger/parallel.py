"""CPU-bound work spread over the machine's cores in forked worker processes.

Workers are forked, not spawned: they inherit the items and the function instead of
receiving them pickled (entries carry their bodies; nothing of a key or account is sent
anywhere), and they start in milliseconds rather than re-importing the library. Only
results travel, pickled, each worker's through its own pipe, so they should be small.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, NoReturn, TypeVar, cast

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["cores", "map_chunks", "spare_core"]

T = TypeVar("T")
R = TypeVar("R")

#: Bytes a worker's pipe holds (Linux lets a process ask up to 1 MiB): with the default
#: 64 KiB a worker waits, mid-result, for this process to finish with the chunk before.
_PIPE_BYTES = 1 << 20

#: Reads of the running-task count `spare_core` takes the least of, and the pause between.
_READS, _READ_GAP = 3, 0.001

# True in a worker: a job inside a job runs serially rather than fork from a worker.
_in_worker = False


def cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def spare_core() -> bool:
    """Whether a core looks free for a worker now: fewer tasks running or ready to run than
    cores, this process included (Linux's count, the least of a few reads, so a task
    passing through is not taken for load); elsewhere, the 1-minute load average.

    On a busy machine, and more so where the scheduler shares the cores among sessions
    rather than processes (Linux's autogroup), workers get little more CPU than this
    process alone and only add the cost of forking and sending their results back. The
    count is read now rather than averaged: a minute's average still counted a verify that
    had finished seconds before, and kept the next import serial.
    """
    counts = []
    for _ in range(_READS):
        count = _running()
        if count is None:
            break
        counts.append(count)
        time.sleep(_READ_GAP)
    else:
        return min(counts) < cores()
    try:
        return os.getloadavg()[0] < cores()
    except (AttributeError, OSError):  # no load average here
        return True


def _running() -> int | None:
    """Tasks running or ready to run on the machine now, this process included (the fourth
    field of /proc/loadavg), or None where it cannot be read."""
    try:
        with open("/proc/loadavg", "rb") as loadavg:
            return int(loadavg.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


def _can_fork() -> bool:
    # Forking a process with other threads can copy a lock some thread holds (a web server's
    # worker thread, say). Such a process, and a worker, run jobs serially.
    return hasattr(os, "fork") and threading.active_count() == 1 and not _in_worker


def map_chunks(
    fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, chunk: int, min_items: int
) -> Iterator[R]:
    """The results of `fn` over consecutive chunks of at most `chunk` items, flattened and
    in order: in one worker per core when there are at least `min_items` items and the
    process can fork, else in this process, as they are read.

    Workers start at once: a caller may do other work before reading their results (they
    go on until their pipes are full), which are yielded as their chunk finishes. An
    exception `fn` raises in a worker is raised here, in its turn. Workers left unread are
    stopped when the iterator is closed or dropped.
    """
    starts = range(0, len(items), chunk)
    workers = min(cores(), len(starts))
    if len(items) < min_items or workers < 2 or not _can_fork():
        return (result for start in starts for result in fn(items[start : start + chunk]))
    forked = _forked(fn, items, chunk, [starts[n::workers] for n in range(workers)])
    next(forked)  # forks them
    return cast(Iterator[R], forked)


def _forked(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    chunk: int,
    shares: list[range],
) -> Iterator[R | None]:
    """`map_chunks` in a forked worker per share of chunk starts, dealt round-robin, so the
    chunks come back in order by reading the workers in turn; first None, once they are
    started (a started generator's `finally` runs when it is closed or dropped)."""
    import multiprocessing

    pipes: list[Connection] = []
    pids: list[int] = []
    done = False
    try:
        for share in shares:
            receive, send = multiprocessing.Pipe(duplex=False)
            _widen(send)
            pid = os.fork()
            if pid == 0:
                _work(fn, items, chunk, share, send)
            send.close()
            pipes.append(receive)
            pids.append(pid)
        yield None
        for turn in range(sum(len(share) for share in shares)):
            pipe = pipes[turn % len(pipes)]
            try:
                ok, results = pipe.recv()
            except EOFError:
                raise ChildProcessError("a worker ended without sending its results") from None
            if not ok:
                raise results
            yield from results
        done = True
    finally:
        for pid in pids:
            if not done:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for pipe in pipes:
            pipe.close()


def _widen(pipe: Connection) -> None:
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower limit: results wait a little more for the reader


def _work(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    chunk: int,
    share: range,
    pipe: Connection,
) -> NoReturn:
    """A worker's life: `fn` of each chunk of its share sent back in order, or the first
    exception; then it exits at once, running nothing of the parent's (no atexit, no
    flushing of inherited buffers)."""
    global _in_worker
    _in_worker = True
    code = 0
    try:
        for start in share:
            try:
                results = fn(items[start : start + chunk])
            except Exception as exc:
                pipe.send((False, exc))
                break
            pipe.send((True, results))
    except BaseException:
        code = 1  # the parent sees the pipe close without the results
    finally:
        os._exit(code)
