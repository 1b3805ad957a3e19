"""The upstream walk: every batch and facility a batch was made from, in one recursive query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from labourledger.mirror.connection import Connected, as_dicts

__all__ = ["UpstreamWalk"]


def _hop(batch: str) -> str:
    """SQL for where a batch's parents are looked up: at the batch itself when a live
    transformation made it, else at the facility of its first registration (whose supply
    links stand in for inputs); NULL for a batch unknown here."""
    return f"""CAST(COALESCE(
        (SELECT t.output FROM transformations t WHERE t.output = {batch}
           AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.target = t.entry_id) LIMIT 1),
        (SELECT b.facility FROM batches b JOIN entries n ON n.entry_id = b.entry_id
           WHERE b.batch_id = {batch} ORDER BY n.seq LIMIT 1)
    ) AS VARCHAR(66))"""


# Batch and facility ids are keccak hashes under different prefixes, so one `parent`
# column serves both kinds. Each step is an index lookup per node, whatever the mirror's size.
_WALK = text(
    f"""
    WITH RECURSIVE walk (kind, id, hop, parent, via, depth, path, cycle) AS (
        SELECT CAST('batch' AS VARCHAR(16)), CAST(:batch AS VARCHAR(66)), {_hop(":batch")},
               CAST(NULL AS VARCHAR(66)), CAST(NULL AS VARCHAR(66)), 0,
               CAST('/' || CAST(:batch AS VARCHAR(66)) || '/' AS TEXT), 0
        UNION ALL
        SELECT e.child_kind, e.child,
               CASE WHEN e.child_kind = 'facility' THEN e.child ELSE {_hop("e.child")} END,
               w.id, e.entry_id, w.depth + 1,
               CAST(w.path || e.child || '/' AS TEXT),
               CASE WHEN w.path LIKE '%/' || e.child || '/%' THEN 1 ELSE 0 END
        FROM walk w JOIN edges e ON e.parent = w.hop
        WHERE w.cycle = 0 AND w.depth < :max_depth
          AND (e.valid_from IS NULL OR e.valid_from <= :on)
          AND (e.valid_to IS NULL OR e.valid_to >= :on)
          AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.target = e.entry_id)
    )
    SELECT kind, id, parent, via, depth, cycle FROM walk ORDER BY depth, id
    """
)


class UpstreamWalk(Connected):
    """Walks the provenance graph (the `edges` table) upstream from a batch."""

    def walk_upstream(self, batch_id: str, *, on: str, max_depth: int = 64) -> list[dict[str, Any]]:
        """Every node upstream of a batch, in one recursive query.

        Edges go from a batch to the input batches of the transformation that made it;
        from a batch no transformation made to the suppliers of its facility; and from a
        facility to its suppliers. Revoked transformations, and links not valid on `on`
        (an ISO date, the batch's production date), are not followed.
        Rows: kind (batch|facility), id, parent, via (the edge's entry id), depth, and
        cycle (1 when the node is already on its own path: reported, not followed).
        """
        with self._connect() as conn:
            rows = conn.execute(
                _WALK, {"batch": batch_id.lower(), "on": on, "max_depth": max_depth}
            )
            return as_dicts(rows)
