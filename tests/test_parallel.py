"""Forked workers fail as the same work would here: the first failing chunk's exception, in its
turn, a worker that dies is reported rather than waited for, and workers start at once and
are stopped when their results are dropped unread. A core counts as spare for a worker while
fewer tasks than cores run (or, where that count cannot be read, while the load average is
under the number of cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from fresh import assert_prints_ok

from labourledger import parallel

# Run in a fresh interpreter (`fresh`).
_FAILING = """
import os
from labourledger import parallel

def pids(chunk):
    return [os.getpid()] * len(chunk)

assert set(parallel.map_chunks(pids, range(40), chunk=5, min_items=10)) - {os.getpid()}

def failing(chunk):
    # Chunks 3 (items 15-19) and 4 (20-24) go to different workers; both fail.
    bad = [x for x in chunk if x in (17, 23)]
    if bad:
        raise ValueError(f"item {bad[0]}")
    return list(chunk)

got = []
try:
    for x in parallel.map_chunks(failing, range(40), chunk=5, min_items=10):
        got.append(x)
except ValueError as exc:
    assert str(exc) == "item 17", exc
    assert got == list(range(15)), got  # everything before the failing chunk, in order
else:
    raise AssertionError("no error")

def dying(chunk):
    if 12 in chunk:
        os._exit(3)
    return list(chunk)

try:
    list(parallel.map_chunks(dying, range(40), chunk=5, min_items=10))
except ChildProcessError:
    pass
else:
    raise AssertionError("a dead worker went unnoticed")
# No worker is left behind: every child was reaped.
try:
    os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    print("ok")
"""


_DROPPED = """
import os, time
from labourledger import parallel

def slow(chunk):
    time.sleep(0.05)
    return list(chunk)

results = parallel.map_chunks(slow, range(400), chunk=5, min_items=10)
assert os.waitpid(-1, os.WNOHANG) == (0, 0)  # workers run before anything is read
assert next(results) == 0
del results  # dropped half read: its workers are stopped and reaped
try:
    os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    print("ok")
"""


def test_workers_start_at_once_and_stop_when_dropped_unread() -> None:
    assert_prints_ok(_DROPPED)


def test_workers_fail_in_order_and_a_dead_worker_is_reported() -> None:
    assert_prints_ok(_FAILING)


_RUNNING = [([1, 1, 1], True), ([3, 1, 2], True), ([2, 2, 3], False), ([5] * 3, False)]


@pytest.mark.parametrize(("running", "spare"), _RUNNING)
def test_a_core_is_spare_while_fewer_tasks_than_cores_run(
    monkeypatch: pytest.MonkeyPatch, running: list[int], spare: bool
) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    reads = iter(running)
    monkeypatch.setattr(parallel, "_running", lambda: next(reads))
    # The load average lags; it is not what decides where the count can be read.
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0) if not spare else (9.0,) * 3)
    assert parallel.spare_core() is spare


@pytest.mark.parametrize(("load", "spare"), [(0.3, True), (1.9, True), (2.0, False), (4.5, False)])
def test_without_the_count_a_core_is_spare_while_the_load_is_under_the_cores(
    monkeypatch: pytest.MonkeyPatch, load: float, spare: bool
) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "_running", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert parallel.spare_core() is spare


def test_the_running_count_is_read_from_the_kernel() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        counts = [parallel._running() for _ in range(5)]
    finally:
        busy.kill()
        busy.wait()
    assert all(count is not None and count >= 2 for count in counts)  # this test and the loop
