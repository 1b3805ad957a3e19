"""The upstream walk: every batch and facility a batch was made from, in one recursive query."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, String, TextClause, bindparam, select, text

from labourledger.mirror import schema
from labourledger.mirror.connection import Connected, as_dicts

__all__ = ["Counted", "UpstreamWalk"]

Counted = Callable[[Iterable[str]], Collection[str]]
"""Which of some entry ids have a revocation that counts (the ledger judges them by
`labourledger.authority`); the walk honours those and no others."""


def _hop(batch: str) -> str:
    """SQL for where a batch's parents are looked up: at the batch itself when a live
    transformation made it, else at the facility of its first registration (whose supply
    links stand in for inputs); NULL for a batch unknown here."""
    return f"""CAST(COALESCE(
        (SELECT t.output FROM transformations t WHERE t.output = {batch}
           AND t.entry_id NOT IN :revoked LIMIT 1),
        (SELECT b.facility FROM batches b CROSS JOIN entries n
           WHERE b.batch_id = {batch} AND n.entry_id = b.entry_id ORDER BY n.seq LIMIT 1)
    ) AS VARCHAR(66))"""


# Batch and facility ids are keccak hashes under different prefixes, so one `parent`
# column serves both kinds. Each step is an index lookup per node, whatever the mirror's size.
@cache
def _walk(dialect: str) -> TextClause:
    """The walk in one recursive query, for a database `dialect` (its SQLAlchemy name)."""
    # SQLite assumes a recursive table holds a million rows; once ANALYZE has said `edges`
    # holds fewer, it builds a Bloom filter from every edge at each recursive step (an
    # 11-facility walk read 199k edges ten times over). likelihood() says the walk's rows
    # are few, so each step only searches ix_edges_parent; CROSS JOIN keeps the walk the
    # outer loop. PostgreSQL has no likelihood() and plans CROSS JOIN as an inner join.
    alive = "likelihood(w.cycle = 0, 0.000000001)" if dialect == "sqlite" else "w.cycle = 0"
    return text(
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
            FROM walk w CROSS JOIN edges e
            WHERE e.parent = w.hop AND {alive} AND w.depth < :max_depth
              AND (e.valid_from IS NULL OR e.valid_from <= :on)
              AND (e.valid_to IS NULL OR e.valid_to >= :on)
              AND e.entry_id NOT IN :revoked
        )
        SELECT kind, id, parent, via, depth, cycle,
               CASE WHEN EXISTS (SELECT 1 FROM revocations r WHERE r.target = walk.via)
                      OR (kind = 'batch' AND EXISTS (
                          SELECT 1 FROM transformations t JOIN revocations r
                            ON r.target = t.entry_id WHERE t.output = walk.id))
                    THEN 1 ELSE 0 END AS contested
        FROM walk ORDER BY depth, id
        """
    ).bindparams(bindparam("revoked", expanding=True, type_=String))


class UpstreamWalk(Connected):
    """Walks the provenance graph (the `edges` table) upstream from a batch."""

    def walk_upstream(
        self, batch_id: str, *, on: str, counted: Counted, max_depth: int = 64
    ) -> list[dict[str, Any]]:
        """Every node upstream of a batch.

        Edges go from a batch to the input batches of the transformation that made it;
        from a batch no transformation made to the suppliers of its facility; and from a
        facility to its suppliers. Transformations and links whose revocation counts
        (`counted` says which), and links not valid on `on` (an ISO date, the batch's
        production date), are not followed. A revocation that does not count is no more
        than a row in a table: anyone may store one.
        Rows: kind (batch|facility), id, parent, via (the edge's entry id), depth, and
        cycle (1 when the node is already on its own path: reported, not followed).
        """
        params = {"batch": batch_id.lower(), "on": on, "max_depth": max_depth}
        revoked: set[str] = set()
        asked: set[str] = set()
        while True:
            with self._connect() as conn:
                walk = _walk(conn.dialect.name)
                rows = as_dicts(conn.execute(walk, params | {"revoked": sorted(revoked)}))
                # Rows whose edge, or whose batch's transformation, has a revocation stored:
                # usually none, and then the walk is one query.
                contested = [r for r in rows if r.pop("contested")]
                reached = self._relied_on(conn, contested) - asked
            # Dropping a revoked edge can open others (a revoked transformation gives way
            # to the facility's supply links): those are asked about too, until none is new.
            asked |= reached
            found = set(counted(reached)) if reached else set()
            if not found:
                return rows
            revoked |= found

    def _relied_on(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """The entries a walk relied on for `rows`: the edges it followed, and the
        transformations that made the batches it reached (one with no inputs draws no
        edge, yet stops the walk at its output)."""
        t = schema.transformations
        outputs = [r["id"] for r in rows if r["kind"] == "batch"]
        makers = self._chunked_in(
            conn, t.c.output, outputs, lambda among: select(t.c.entry_id).where(among)
        )
        return {r["entry_id"] for r in makers} | {r["via"] for r in rows if r["via"]}
