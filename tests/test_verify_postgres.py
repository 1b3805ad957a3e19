"""Verify on a PostgreSQL mirror: the report the SQLite mirror gives, whether the relied-on
entries and facilities' evidence are read in this process or in forked workers (each opening
its own connection)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from chunking import assert_same_in_chunks
from sqlalchemy import create_engine, insert, select

from labourledger.demo import run_demo
from labourledger.ledger import Ledger
from labourledger.mirror import schema

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
    assert _comparable(ledger.verify(demo.batch)) == expected
    assert expected["verdict"] == "PASS" and sum(expected["entry_counts"].values()) > 4
    # Read here and in forked workers (each opening its own connection; this process's
    # still serves the runs after), the same report.
    assert_same_in_chunks(ledger, demo.batch, monkeypatch)
