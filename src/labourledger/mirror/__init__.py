"""The SQL mirror of a workspace's ledger (SQLite by default, PostgreSQL by URL).

Internal: use it through `labourledger.Ledger`; its tables and names may change between
releases (migrations keep a workspace's data).
"""

from labourledger.mirror.store import Mirror, migrations_dir

__all__ = ["Mirror", "migrations_dir"]
