"""A durable key-value store for py-evm: one SQLite file, one transaction per atomic batch.

py-evm keeps every piece of chain state (trie nodes, headers, blocks, receipts,
the canonical head pointer) in a flat bytes-to-bytes database. `SQLiteAtomicDB`
is that database on disk:

- table `kv(key BLOB PRIMARY KEY, value BLOB)`;
- WAL journal with `synchronous=FULL`: WAL alone already makes every commit
  atomic and crash-safe, and FULL adds an fsync of the WAL on each commit so a
  block that was reported as mined (an anchor whose transaction hash the
  caller has already stored) also survives a power loss, which NORMAL would
  not promise; a mined block costs a few commits, so the price is small;
- each `atomic_batch()` is buffered in memory by py-evm's own write batch and
  written in one `BEGIN IMMEDIATE … COMMIT` transaction, so a crash or an
  error part-way leaves none of the batch behind; writes outside a batch are
  committed one by one, as py-evm expects.

SQLite's locking (a busy timeout, then an error) keeps two connections from
committing at the same moment; serialising whole chain operations across
processes is the job of the embedded chain's file lock.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB

__all__ = ["SQLiteAtomicDB"]

BUSY_TIMEOUT_SECONDS = 30.0


class SQLiteAtomicDB(BaseAtomicDB):
    """py-evm's atomic key-value database, kept in one SQLite file."""

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the store at `path`."""
        self.path = path
        # Autocommit mode (isolation_level=None): single writes commit at once and
        # batches open their own explicit transaction. Callers serialise access
        # (the embedded chain holds a lock per request), so sharing across threads is safe.
        self._conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
        )
        weakref.finalize(self, self._conn.close)

    def __getitem__(self, key: bytes) -> bytes:
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        value: bytes = row[0]
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

    def __delitem__(self, key: bytes) -> None:
        if self._conn.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount == 0:
            raise KeyError(key)

    def _exists(self, key: bytes) -> bool:
        return self._conn.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone() is not None

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """A batch of writes that reaches the file all at once, or not at all."""
        with _TransactionalWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite write transaction: committed if the block ends normally, else rolled back."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


class _TransactionalWriteBatch(AtomicDBWriteBatch):
    """py-evm's in-memory write batch, flushed inside one SQLite transaction."""

    _write_target_db: SQLiteAtomicDB

    def _commit(self) -> None:
        with self._write_target_db.transaction():
            super()._commit()
