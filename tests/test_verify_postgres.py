"""Verify on a PostgreSQL mirror: the report the SQLite mirror gives, whether the relied-on
entries are read in this process or in forked workers (each opening its own connection)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from labourledger import parallel
from labourledger.demo import run_demo
from labourledger.ledger import Ledger
from labourledger.mirror import schema
from labourledger.verify import relied

pytestmark = pytest.mark.integration


def _on_postgresql(sqlite_root: Path, root: Path, pg_url: str) -> Ledger:
    """A copy of the workspace at `sqlite_root` whose mirror is `pg_url`, holding the same
    rows."""
    shutil.copytree(sqlite_root, root)
    config = root / "config.toml"
    config.write_text(config.read_text().replace('"sqlite:///mirror.sqlite"', f'"{pg_url}"'))
    ledger = Ledger.open(root)
    ledger.mirror.upgrade()
    source = create_engine(f"sqlite:///{sqlite_root / 'mirror.sqlite'}")
    with source.connect() as read, ledger.mirror.engine.begin() as write:
        for table in schema.metadata.sorted_tables:
            if rows := [dict(row) for row in read.execute(select(table)).mappings()]:
                write.execute(insert(table), rows)
    source.dispose()
    return ledger


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "generated_at": ""}


def test_a_postgresql_mirror_verifies_as_sqlite_does_forked_or_not(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = run_demo(tmp_path / "demo", admin_passphrase="demo admin passphrase")
    expected = _comparable(Ledger.open(demo.workspace).verify(demo.batch))
    ledger = _on_postgresql(demo.workspace, tmp_path / "pg", pg_url)
    assert ledger.mirror.engine.dialect.name == "postgresql"
    monkeypatch.setattr(relied, "POOL_MIN_ENTRIES", 10**9)  # read here
    assert _comparable(ledger.verify(demo.batch)) == expected
    monkeypatch.setattr(relied, "POOL_MIN_ENTRIES", 1)  # read in workers, two at a time
    monkeypatch.setattr(relied, "FACTS_CHUNK", 2)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    assert _comparable(ledger.verify(demo.batch)) == expected
    assert forks
    # The workers' connections were their own: this process's still serves.
    assert _comparable(ledger.verify(demo.batch)) == expected
    assert expected["verdict"] == "PASS" and sum(expected["entry_counts"].values()) > 4
