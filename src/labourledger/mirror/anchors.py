"""Anchors and Merkle proofs in the mirror: batches prepared, sent, mined, final or orphaned."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from labourledger.mirror import schema
from labourledger.mirror.connection import Connected, as_dicts

__all__ = ["ON_CHAIN", "AnchorRecords", "proof_status"]

#: Anchor states under which an entry counts as on chain.
ON_CHAIN = ("submitted", "final")


def proof_status(found: Mapping[str, Any] | None) -> str:
    """An entry's state from what `proof_for` found: pending, submitted or final."""
    if found is None or found["anchor"]["status"] not in ON_CHAIN:
        return "pending"
    return str(found["anchor"]["status"])


class AnchorRecords(Connected):
    """The mirror's anchors and the proofs of the entries in them."""

    def prepare_anchor(
        self,
        conn: Connection,
        *,
        root: str,
        size: int,
        chain_id: int,
        contract: str,
        entry_ids: Sequence[str],
        paths: Sequence[Sequence[str]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store a batch before its transaction is sent, so a crash can resume it;
        `progress` is told how many proofs are stored so far."""
        if len(entry_ids) != size or len(paths) != size:
            raise ValueError("one entry id and one path per leaf")
        # A root orphaned by a reorg may be prepared again on the new fork.
        conn.execute(
            delete(schema.anchors).where(
                and_(schema.anchors.c.root == root, schema.anchors.c.status == "orphaned")
            )
        )
        conn.execute(
            insert(schema.anchors).values(
                root=root, size=size, status="prepared", chain_id=chain_id, contract=contract
            )
        )
        rows = [
            {"entry_id": e, "root": root, "leaf_index": i, "path": list(path)}
            for i, (e, path) in enumerate(zip(entry_ids, paths, strict=True))
        ]
        for start in range(0, size, self.in_chunk):
            conn.execute(insert(schema.proofs), rows[start : start + self.in_chunk])
            if progress:
                progress(min(start + self.in_chunk, size))

    def drop_prepared(self, conn: Connection, root: str) -> None:
        """Take back a prepared batch whose transaction was never sent: its proofs and row."""
        a = schema.anchors
        prepared = select(a.c.root).where(and_(a.c.root == root, a.c.status == "prepared"))
        conn.execute(delete(schema.proofs).where(schema.proofs.c.root.in_(prepared)))
        conn.execute(delete(a).where(and_(a.c.root == root, a.c.status == "prepared")))

    def add_proof(
        self, conn: Connection, entry_id: str, root: str, leaf_index: int, path: Sequence[str]
    ) -> None:
        """Store one entry's proof in an anchor recorded from elsewhere (a bundle)."""
        conn.execute(
            insert(schema.proofs).values(
                entry_id=entry_id, root=root, leaf_index=leaf_index, path=list(path)
            )
        )

    def mark_anchor(self, conn: Connection, root: str, status: str, **fields: Any) -> None:
        """Set an anchor's status and chain facts (tx_hash, block_number, block_hash, …)."""
        conn.execute(
            update(schema.anchors)
            .where(schema.anchors.c.root == root)
            .values(status=status, **fields)
        )

    def record_chain_anchor(
        self, conn: Connection, *, root: str, size: int, status: str, **fields: Any
    ) -> None:
        """An `Anchored` event seen by sync: update our own anchor, or record another's."""
        existing = conn.execute(
            select(schema.anchors.c.status).where(schema.anchors.c.root == root)
        ).first()
        if existing is None:
            conn.execute(
                insert(schema.anchors).values(root=root, size=size, status=status, **fields)
            )
        elif existing.status != "final" or status == "final":
            self.mark_anchor(conn, root, status, **fields)

    def get_anchor(self, root: str) -> dict[str, Any] | None:
        """One anchor row, or None."""
        with self._connect() as conn:
            row = conn.execute(select(schema.anchors).where(schema.anchors.c.root == root)).first()
        return None if row is None else dict(row._mapping)

    def unfinished_anchors(self) -> list[dict[str, Any]]:
        """Anchors stored but not yet seen mined: their transaction may or may not be sent."""
        with self._connect() as conn:
            rows = conn.execute(select(schema.anchors).where(schema.anchors.c.status == "prepared"))
            return as_dicts(rows)

    def anchors_since(self, block: int) -> list[dict[str, Any]]:
        """Anchors mined in `block` or later."""
        with self._connect() as conn:
            rows = conn.execute(
                select(schema.anchors).where(schema.anchors.c.block_number >= block)
            )
            return as_dicts(rows)

    def finalise_anchors(self, conn: Connection, max_block: int) -> int:
        """Mark submitted anchors mined at or below `max_block` final; returns how many."""
        a = schema.anchors
        done = conn.execute(
            update(a)
            .where(and_(a.c.status == "submitted", a.c.block_number <= max_block))
            .values(status="final")
        )
        return done.rowcount

    def proof_for(self, entry_id: str) -> dict[str, Any] | None:
        """The entry's leaf index, tree size, path and anchor, or None if in no batch."""
        return self.proofs_for([entry_id]).get(entry_id.lower())

    def anchor_members(self, root: str) -> list[tuple[str, str, str]]:
        """(entry id, kind, subject) of every entry in the batch `root`, in leaf order."""
        p, e = schema.proofs, schema.entries
        query = (
            select(e.c.entry_id, e.c.kind, e.c.subject)
            .join(p, p.c.entry_id == e.c.entry_id)
            .where(p.c.root == root)
            .order_by(p.c.leaf_index)
        )
        with self._connect() as conn:
            return [(r.entry_id, r.kind, r.subject) for r in conn.execute(query)]

    def proofs_for(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """`proof_for` of many entries, keyed by entry id (absent if in no batch)."""
        p, a = schema.proofs, schema.anchors
        rows = self._chunked(
            p.c.entry_id,
            (i.lower() for i in entry_ids),
            lambda among: (
                select(p.c.entry_id, p.c.leaf_index, p.c.path, a)
                .join(a, a.c.root == p.c.root)
                .where(among)
            ),
        )
        found = {}
        for data in rows:
            entry_id, leaf_index, path = (data.pop(k) for k in ("entry_id", "leaf_index", "path"))
            found[entry_id] = {
                "leaf_index": leaf_index,
                "tree_size": data["size"],
                "path": path,
                "anchor": data,
            }
        return found

    def entry_status(self, entry_id: str) -> str:
        """pending, submitted or final."""
        return proof_status(self.proof_for(entry_id))
