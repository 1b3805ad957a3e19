"""kill -9 at random points, before, during and after the commit: `supplier import` and
`sync` each leave all of their work or none of it, `anchor` leaves a batch its rerun
finishes, and a rerun finishes the job with no entry lost or anchored twice (every root on
chain, read back by sync, counted once), every proof valid and doctor clean.

The kill points are spread over twice one uninterrupted run's duration, so some
land before the process opens its transaction, some inside it and some after it
committed (or exited). The whole test is bounded: each process has a timeout.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from clihelp import PASSPHRASE, console_script, facility_rows, subprocess_env, write_csv
from harness import anchored_entries, mirror_counts, run

from labourledger import keys

pytestmark = pytest.mark.integration

ROWS = 100
IMPORT_TRIALS = 6
ANCHOR_TRIALS = 4
SYNC_TRIALS = 4
#: Facilities each anchor trial adds as pending entries.
ANCHORED_ROWS = 10
#: Every kill point above: each must have been tried.
MIN_TRIALS = IMPORT_TRIALS + ANCHOR_TRIALS + SYNC_TRIALS
PROCESS_SECONDS = 120


def _start(workspace: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*console_script(), "--workspace", str(workspace), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def _finish(workspace: Path, *args: str) -> float:
    """Run a command to the end; returns how long it took."""
    started = time.monotonic()
    process = _start(workspace, *args)
    _, err = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, err
    return time.monotonic() - started


def _kill_after(workspace: Path, delay: float, *args: str) -> bool:
    """Start a command, SIGKILL it after `delay` seconds; whether it was still running."""
    process = _start(workspace, *args)
    try:
        process.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=PROCESS_SECONDS)
        return True
    assert process.returncode == 0
    return False


def _delays(duration: float, trials: int, rng: random.Random) -> list[float]:
    """Kill points spread from the start to twice an uninterrupted run, shuffled."""
    points = [(i + rng.random()) / trials * 2 * duration for i in range(trials)]
    rng.shuffle(points)
    return points


def _anchors(workspace: Path) -> list[tuple[str, int, str]]:
    uri = f"file:{workspace / 'mirror.sqlite'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        rows = db.execute("SELECT root, size, status FROM anchors ORDER BY root").fetchall()
    return [(str(r), int(s), str(st)) for r, s, st in rows]


def _ok(workspace: Path, *args: str) -> str:
    code, out, err = run(workspace, list(args))
    assert code == 0, f"{args}: {err}"
    return out


@pytest.mark.parametrize("chain", ["embedded", "anvil"])
def test_kill_minus_nine_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, chain: str
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(keys, "SCRYPT_N", 2**10)
    rng = random.Random()
    ws = tmp_path / "ws"
    if chain == "embedded":
        _ok(ws, "init")
    else:
        _ok(ws, "init", "--chain", request.getfixturevalue("anvil_url"), "--confirmations", "0")
        _ok(ws, "keys", "new", "admin")
        _ok(ws, "keys", "fund", "admin")
        _ok(ws, "contracts", "deploy", "--key", "admin")
    _ok(ws, "keys", "new", "brand")
    _ok(ws, "keys", "fund", "brand")
    _ok(ws, "roles", "grant", "BRAND", "brand", "--key", "admin")
    csv = write_csv(tmp_path / "facilities.csv", facility_rows(ROWS))
    imported = ["supplier", "import", str(csv), "--key", "brand"]

    duration = _finish(ws, *imported)
    _ok(ws, "anchor", "--key", "brand")
    expected = ROWS
    trials = {"killed before the end": 0, "finished before the kill": 0}
    for trial, delay in enumerate(_delays(duration, IMPORT_TRIALS, rng), start=1):
        # Each trial imports rows not registered yet (a list imported again signs nothing).
        rows = facility_rows(ROWS, start=trial * ROWS)
        imported[2] = str(write_csv(tmp_path / f"facilities-{trial}.csv", rows))
        before = mirror_counts(ws, ("entries",))["entries"]
        killed = _kill_after(ws, delay, *imported)
        trials["killed before the end" if killed else "finished before the kill"] += 1
        after = mirror_counts(ws, ("entries",))["entries"]
        assert after in (before, before + ROWS), f"half an import stored: {after - before}"
        if after == before:
            _finish(ws, *imported)  # the rerun a user makes after seeing nothing imported
        expected += ROWS
        assert mirror_counts(ws, ("entries",))["entries"] == expected
        if rng.random() < 0.5:
            _ok(ws, "anchor", "--key", "brand")

    _ok(ws, "anchor", "--key", "brand")
    few = write_csv(tmp_path / "few.csv", facility_rows(ANCHORED_ROWS, start=8 * ROWS))
    anchor = ["anchor", "--key", "brand"]
    _ok(ws, "supplier", "import", str(few), "--key", "brand")
    expected += ANCHORED_ROWS
    anchor_duration = _finish(ws, *anchor)
    for trial, delay in enumerate(_delays(anchor_duration, ANCHOR_TRIALS, rng), start=1):
        rows = facility_rows(ANCHORED_ROWS, start=8 * ROWS + trial * ANCHORED_ROWS)
        _ok(ws, "supplier", "import", str(write_csv(few, rows)), "--key", "brand")
        expected += ANCHORED_ROWS
        killed = _kill_after(ws, delay, *anchor)
        trials["killed before the end" if killed else "finished before the kill"] += 1
        _finish(ws, *anchor)  # the rerun finishes a batch left prepared or sent first
        counts = mirror_counts(ws, ("entries",))["entries"], anchored_entries(ws)
        assert counts == (expected, expected)

    _ok(ws, "sync")
    synced = _anchors(ws)
    sync_duration = 0.0
    for _ in range(3):  # a sync from the deploy block re-reads every anchor
        _reset_sync(ws)
        sync_duration = max(sync_duration, _finish(ws, "sync"))
    for delay in _delays(sync_duration, SYNC_TRIALS, rng):
        _reset_sync(ws)
        killed = _kill_after(ws, delay, "sync")
        trials["killed before the end" if killed else "finished before the kill"] += 1
        assert _anchors(ws) == synced
        _finish(ws, "sync")
        assert _anchors(ws) == synced

    assert sum(trials.values()) >= MIN_TRIALS
    assert all(trials.values()), trials  # kills landed both before and after the end
    counts = mirror_counts(ws, ("entries",))["entries"], anchored_entries(ws)
    assert counts == (expected, expected)
    assert sum(size for _, size, _ in synced) == expected  # each entry in one anchor only
    code, out, err = run(ws, ["doctor", "--json"])
    checks = {c["check"]: c for c in json.loads(out)}
    assert code == 0, err
    assert all(c["outcome"] == "pass" for c in checks.values()), checks


def _reset_sync(workspace: Path) -> None:
    """Forget the sync bookmark, so the next sync re-reads the chain from the deploy block."""
    with sqlite3.connect(workspace / "mirror.sqlite") as db:
        db.execute("DELETE FROM sync_state WHERE key = 'last_synced_block'")
