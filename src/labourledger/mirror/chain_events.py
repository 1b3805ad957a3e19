"""What sync saw of the chain: role events, block hashes (to notice reorgs), bookmarks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, and_, delete, insert, select, update

from labourledger.chain.events import RoleEvent
from labourledger.envelope import to_hex
from labourledger.mirror import schema
from labourledger.mirror.anchors import ON_CHAIN
from labourledger.mirror.connection import Connected

__all__ = ["ChainRecords"]


class ChainRecords(Connected):
    """Role events, remembered blocks and sync bookmarks, and rewinding them on a reorg."""

    def record_role_event(self, conn: Connection, ev: RoleEvent) -> None:
        """Store one RoleGranted/RoleRevoked log (once)."""
        tx_hash = to_hex(ev.tx_hash)
        r = schema.role_events
        if conn.execute(
            select(r.c.id).where(and_(r.c.tx_hash == tx_hash, r.c.log_index == ev.log_index))
        ).first():
            return
        conn.execute(
            insert(r).values(
                role=ev.role,
                account=ev.account,
                sender=ev.sender,
                granted=ev.granted,
                block_number=ev.block_number,
                block_hash=to_hex(ev.block_hash),
                tx_hash=tx_hash,
                log_index=ev.log_index,
            )
        )

    def record_block(self, conn: Connection, number: int, block_hash: str) -> None:
        """Remember a block's hash, to notice a reorg later."""
        _upsert(conn, schema.blocks.c.number, number, hash=block_hash)

    def blocks_since(self, number: int) -> list[tuple[int, str]]:
        """(number, hash) of remembered blocks from `number` up, oldest first."""
        b = schema.blocks
        with self._connect() as conn:
            rows = conn.execute(
                select(b.c.number, b.c.hash).where(b.c.number >= number).order_by(b.c.number)
            )
            return [(int(n), str(h)) for n, h in rows]

    def rewind(self, conn: Connection, fork: int, *, keep_roots: set[str]) -> int:
        """Forget what was seen from block `fork` on: anchors not in `keep_roots` become
        orphaned and their entries pending again. Returns how many anchors were orphaned."""
        a, p = schema.anchors, schema.proofs
        lost = [
            root
            for (root,) in conn.execute(
                select(a.c.root).where(and_(a.c.block_number >= fork, a.c.status.in_(ON_CHAIN)))
            )
            if root not in keep_roots
        ]
        if lost:
            conn.execute(delete(p).where(p.c.root.in_(lost)))
            conn.execute(delete(schema.leaf_runs).where(schema.leaf_runs.c.root.in_(lost)))
            conn.execute(update(a).where(a.c.root.in_(lost)).values(status="orphaned"))
        conn.execute(delete(schema.role_events).where(schema.role_events.c.block_number >= fork))
        conn.execute(delete(schema.blocks).where(schema.blocks.c.number >= fork))
        return len(lost)

    def get_sync_state(self, key: str) -> str | None:
        """A sync bookmark (last_synced_block, …)."""
        s = schema.sync_state
        with self._connect() as conn:
            value = conn.execute(select(s.c.value).where(s.c.key == key)).scalar_one_or_none()
        return value

    def set_sync_state(self, conn: Connection, key: str, value: str) -> None:
        """Set a sync bookmark."""
        _upsert(conn, schema.sync_state.c.key, key, value=value)


def _upsert(conn: Connection, column: Column[Any], key: Any, **values: Any) -> None:
    """Set `values` on the row whose primary-key `column` holds `key`, or add that row
    (portable: SQLite's and PostgreSQL's own upserts are spelled differently)."""
    table = column.table
    if conn.execute(select(column).where(column == key)).first():
        conn.execute(update(table).where(column == key).values(**values))
    else:
        conn.execute(insert(table).values({column.name: key, **values}))
