"""The SQL mirror of a workspace's ledger (SQLite by default, PostgreSQL by URL)."""

from labourledger.mirror.store import Mirror, migrations_dir

__all__ = ["Mirror", "migrations_dir"]
