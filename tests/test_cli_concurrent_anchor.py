"""`labourledger anchor` started several times at once on one workspace, as separate
processes (two on SQLite, four on PostgreSQL): every run exits 0 without a traceback, one
anchors everything, the others find nothing pending, and nothing is anchored twice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clihelp import brand_workspace, console_script, subprocess_env

pytestmark = pytest.mark.integration

ENTRIES = 6


@pytest.mark.parametrize(("db", "runs"), [("sqlite", 2), ("postgresql", 4)])
def test_concurrent_anchor_commands_serialise(
    tmp_path: Path, anvil_url: str, db: str, runs: int, request: pytest.FixtureRequest
) -> None:
    url = None if db == "sqlite" else request.getfixturevalue("pg_url")
    ws = tmp_path / "ws"
    ledger = brand_workspace(ws, ENTRIES, chain=anvil_url, db=url)
    head = ledger.chain.latest_block()
    command = [*console_script(), "--workspace", str(ws), "--json", "anchor", "--key", "brand"]
    processes = [
        subprocess.Popen(
            command,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runs)
    ]
    finished = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0] * runs, finished
    assert not any("Traceback" in err for _, err in finished), finished
    anchored = [json.loads(out) for out, _ in finished]
    assert sorted(len(batches) for batches in anchored) == [0] * (runs - 1) + [1]
    [batch] = [b for batches in anchored for b in batches]
    assert batch["size"] == ENTRIES
    events = ledger.chain.anchored_events(head, ledger.chain.latest_block())
    assert [e.size for e in events] == [ENTRIES]  # one transaction: nothing anchored twice
    counts = ledger.mirror.counts()
    assert (counts["pending"], counts["anchored"]) == (0, ENTRIES)  # nothing lost
    assert ledger.mirror.unfinished_anchors() == []
