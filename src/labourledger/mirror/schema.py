"""The mirror's tables (SQLAlchemy Core). Alembic migrations in `migrations/` create them.

Ids, hashes and addresses are stored as the `0x` hex strings the CLI prints,
so a person can query the mirror with plain SQL. Bodies, refs and proof paths
are JSON text. An anchor made here stores neither paths nor a row per entry: its
`leaf_runs` say which entries are its leaves, in order, and `Mirror.proofs_for` derives
each path from them (see mirror/runs.py). A `proofs` row is a proof carried in with an
imported entry, whose tree the mirror may hold in part: it keeps its path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _hex32(name: str, *args: Any, **kwargs: Any) -> Column[str]:
    """A 32-byte id or hash as 0x + 64 hex digits."""
    return Column(name, String(66), *args, **kwargs)


def _address(name: str, *args: Any, **kwargs: Any) -> Column[str]:
    """An Ethereum address as 0x + 40 hex digits (checksummed)."""
    return Column(name, String(42), *args, **kwargs)


entries = Table(
    "entries",
    metadata,
    # seq keeps the order entries were recorded in, which fixes their leaf order in a batch.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    _hex32("entry_id", nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    _address("issuer", nullable=False),
    _hex32("subject", nullable=False),
    Column("refs", JSON, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("schema_version", Integer, nullable=False),
    _hex32("content_hash", nullable=False),
    Column("signature", String(132), nullable=False),
    Column("body", JSON, nullable=False),
    _hex32("salt", nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    _address("contract", nullable=False),
    Column("source", String(16), nullable=False),
    Index("ix_entries_kind", "kind"),
    # Subject and kind together: with subject alone, SQLite's planner may prefer the
    # kind index and scan every audit to find one facility's.
    Index("ix_entries_subject_kind", "subject", "kind"),
)

entry_refs = Table(
    "entry_refs",
    metadata,
    _hex32("entry_id", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
    _hex32("ref", primary_key=True, index=True),
)

anchors = Table(
    "anchors",
    metadata,
    _hex32("root", primary_key=True),
    Column("size", Integer, nullable=False),
    # prepared (stored, maybe sent) -> submitted (mined) -> final; orphaned after a reorg.
    Column("status", String(16), nullable=False, index=True),
    Column("chain_id", BigInteger, nullable=False),
    _address("contract", nullable=False),
    _hex32("tx_hash"),
    Column("block_number", BigInteger, index=True),
    _hex32("block_hash"),
    Column("timestamp", BigInteger),
    _address("submitter"),
)

proofs = Table(
    "proofs",
    metadata,
    _hex32("entry_id", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
    _hex32("root", ForeignKey("anchors.root", ondelete="CASCADE"), nullable=False, index=True),
    Column("leaf_index", Integer, nullable=False),
    Column("path", JSON),
)

# Runs of consecutive entries (by seq) that are consecutive leaves of an anchor made here.
leaf_runs = Table(
    "leaf_runs",
    metadata,
    Column("first_seq", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False),
    _hex32("root", ForeignKey("anchors.root", ondelete="CASCADE"), nullable=False, index=True),
    Column("first_leaf", Integer, nullable=False),
)

role_events = Table(
    "role_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("role", String(16), nullable=False),
    _address("account", nullable=False, index=True),
    _address("sender", nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("block_number", BigInteger, nullable=False, index=True),
    _hex32("block_hash", nullable=False),
    _hex32("tx_hash", nullable=False),
    Column("log_index", Integer, nullable=False),
    UniqueConstraint("tx_hash", "log_index", name="uq_role_events_position"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    _hex32("hash", nullable=False),
)

# The contract's Indexed events: what exists on chain about a facility or an entry, whether
# or not the mirror holds it. Root and submitter come from the same transaction's anchor.
chain_index = Table(
    "chain_index",
    metadata,
    _hex32("tx_hash", primary_key=True),
    Column("log_index", Integer, primary_key=True),
    _hex32("subject", nullable=False, index=True),
    _hex32("entry_id", nullable=False, index=True),
    _hex32("root"),
    _address("submitter"),
    Column("block_number", BigInteger, nullable=False, index=True),
    _hex32("block_hash", nullable=False),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _projection(name: str, *columns: Column[Any]) -> Table:
    """A typed view of one kind's bodies; rows go when their entry goes."""
    return Table(
        name,
        metadata,
        _hex32("entry_id", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
        *columns,
    )


facilities = _projection(
    "facilities",
    _hex32("facility_id", nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("country", String(2), nullable=False, index=True),
    Column("address", Text, nullable=False),
    Column("os_id", String(15)),
    Column("facility_type", String(64)),
    Column("tier", Integer, nullable=False, index=True),
    Column("worker_count", Integer),
    Column("worker_band", String(32)),
    Column("parent_company", Text),
)

supply_links = _projection(
    "supply_links",
    _hex32("supplier", nullable=False, index=True),
    _hex32("buyer", nullable=False, index=True),
    Column("material", Text, nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_to", String(10)),
)

attestations = _projection(
    "attestations",
    _hex32("facility", nullable=False, index=True),
    Column("claim", String(64), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
)

audits = _projection(
    "audits",
    _hex32("facility", nullable=False, index=True),
    Column("standard", String(32), nullable=False),
    Column("audit_type", String(16), nullable=False),
    Column("notice", String(16), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("valid_until", String(10)),
    Column("result", String(16)),
)

findings = Table(
    "findings",
    metadata,
    _hex32("audit", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
    Column("finding_id", String(64), primary_key=True),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("ilo_indicators", JSON, nullable=False),
)

finding_updates = _projection(
    "finding_updates",
    _hex32("audit", nullable=False, index=True),
    Column("finding_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("verified_on", String(10), nullable=False),
)

products = _projection(
    "products",
    _hex32("product_id", nullable=False, index=True),
    Column("gtin", String(14), index=True),
    Column("sku", Text),
    Column("name", Text, nullable=False),
    Column("brand", Text, nullable=False),
)

batches = _projection(
    "batches",
    _hex32("batch_id", nullable=False, index=True),
    _hex32("product", nullable=False),
    Column("lot", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("produced_at", String(10), nullable=False),
    _hex32("facility", nullable=False, index=True),
)

transformations = _projection(
    "transformations",
    _hex32("output", nullable=False, index=True),
    _hex32("facility", nullable=False),
    Column("date", String(10), nullable=False),
)

transformation_inputs = Table(
    "transformation_inputs",
    metadata,
    _hex32("entry_id", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
    _hex32("input", primary_key=True, index=True),
)

# The provenance graph in one table: a transformation's output to each input batch, a
# link's buyer to its supplier. The recursive walk finds a node's parents through the
# index on `parent`; joining the projections instead made it read every edge each time.
edges = Table(
    "edges",
    metadata,
    _hex32("entry_id", ForeignKey("entries.entry_id", ondelete="CASCADE"), primary_key=True),
    _hex32("child", primary_key=True),
    _hex32("parent", nullable=False, index=True),
    Column("child_kind", String(16), nullable=False),
    Column("valid_from", String(10)),
    Column("valid_to", String(10)),
)

revocations = _projection(
    "revocations",
    _hex32("target", nullable=False, index=True),
    Column("reason", Text, nullable=False),
)
