"""The SQL mirror: entries, anchors, proofs, chain events and projections, on SQLite or PostgreSQL.

Every write goes through `transaction()`: an entry and its projections, or a
whole batch of entries, are stored together or not at all. Each concern lives in its
own module; `Mirror` composes them.
"""

from __future__ import annotations

from labourledger.mirror.anchors import ON_CHAIN, AnchorRecords, proof_status
from labourledger.mirror.chain_events import ChainRecords
from labourledger.mirror.connection import IN_MEMORY, SCHEMA_REVISION, migrations_dir
from labourledger.mirror.entries import ENTRY_FIELDS, EntryRecords
from labourledger.mirror.lookups import ProjectionQueries
from labourledger.mirror.walk import UpstreamWalk

__all__ = [
    "ENTRY_FIELDS",
    "IN_MEMORY",
    "ON_CHAIN",
    "SCHEMA_REVISION",
    "Mirror",
    "migrations_dir",
    "proof_status",
]


class Mirror(EntryRecords, AnchorRecords, ChainRecords, ProjectionQueries, UpstreamWalk):
    """One SQL database holding the workspace's entries and what the chain says of them."""
