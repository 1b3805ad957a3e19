"""Anchors and Merkle proofs in the mirror: batches prepared, sent, mined, final or orphaned."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    insert,
    null,
    select,
    update,
)

from labourledger.damage import damaged
from labourledger.envelope import to_hex
from labourledger.errors import DamagedRow
from labourledger.merkle import MerkleLevels
from labourledger.mirror import schema
from labourledger.mirror.checked import check_rows
from labourledger.mirror.connection import Connected, as_dicts
from labourledger.mirror.runs import member_rows, placed, runs_of

__all__ = ["ON_CHAIN", "AnchorRecords", "Trees", "proof_status"]

#: Trees rebuilt from their leaves, by root (None: the leaves do not rebuild it).
Trees = dict[str, MerkleLevels | None]

#: Anchor states under which an entry counts as on chain.
ON_CHAIN = ("submitted", "final")
#: Trees kept for deriving paths: verify reads a batch's proofs a chunk at a time, and a
#: tree of 100,000 leaves takes some half a second to rebuild and 25 MB to keep.
TREES_KEPT = 4


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
        seqs: Sequence[int],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store a batch before its transaction is sent, so a crash can resume it: its leaves
        are the entries whose `seqs` are given, in leaf order; `progress` is told how many
        are stored."""
        if len(seqs) != size:
            raise ValueError("one entry per leaf")
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
        self.add_leaves(conn, root, seqs, progress)

    def add_leaves(
        self,
        conn: Connection,
        root: str,
        seqs: Sequence[int],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store the leaves of a whole tree: the entries whose `seqs` are given, in leaf
        order, as runs (see mirror/runs.py), from which `proofs_for` derives each path."""
        runs = runs_of(seqs)
        conn.execute(
            insert(schema.leaf_runs),
            [
                {"first_seq": first, "last_seq": last, "root": root, "first_leaf": leaf}
                for first, last, leaf in runs
            ],
        )
        if progress:
            progress(len(seqs))

    def drop_prepared(self, conn: Connection, root: str) -> None:
        """Take back a prepared batch whose transaction was never sent: its leaves and row."""
        a = schema.anchors
        prepared = select(a.c.root).where(and_(a.c.root == root, a.c.status == "prepared"))
        conn.execute(delete(schema.leaf_runs).where(schema.leaf_runs.c.root.in_(prepared)))
        conn.execute(delete(a).where(and_(a.c.root == root, a.c.status == "prepared")))

    def add_proof(
        self, conn: Connection, entry_id: str, root: str, leaf_index: int, path: Sequence[str]
    ) -> None:
        """Store one entry's proof in an anchor recorded from elsewhere (a bundle): with its
        path, as the mirror may hold only some of that tree's leaves."""
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
        """One anchor row, or None; DamagedRow if it holds what no anchor could."""
        with self._connect() as conn:
            row = conn.execute(select(schema.anchors).where(schema.anchors.c.root == root)).first()
        if row is None:
            return None
        found = dict(row._mapping)
        check_rows("anchors", [found], key="root")
        return found

    def unfinished_anchors(self) -> list[dict[str, Any]]:
        """Anchors stored but not yet seen mined: their transaction may or may not be sent."""
        with self._connect() as conn:
            rows = conn.execute(select(schema.anchors).where(schema.anchors.c.status == "prepared"))
            return as_dicts(rows)

    def anchors_since(self, block: int) -> list[dict[str, Any]]:
        """Anchors mined in `block` or later; DamagedRow for one that holds what no anchor
        could."""
        with self._connect() as conn:
            rows = as_dicts(
                conn.execute(select(schema.anchors).where(schema.anchors.c.block_number >= block))
            )
        check_rows("anchors", rows, key="root")
        return rows

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
        e = schema.entries
        query = (
            member_rows(e.c.entry_id, e.c.kind, e.c.subject)
            .where(schema.leaf_runs.c.root == root)
            .order_by("leaf_index")
        )
        with self._connect() as conn:
            return [(r.entry_id, r.kind, r.subject) for r in conn.execute(query)]

    def proven(self, entry_ids: Iterable[str]) -> set[str]:
        """Which of `entry_ids` are in a batch (ids only: no tree is rebuilt for a path)."""
        e = schema.entries

        def query(among: ColumnElement[bool]) -> Select[Any]:
            found = placed(select(e.c.entry_id, e.c.seq).where(among)).subquery()
            return select(found.c.entry_id).where(found.c.root.is_not(None))

        wanted = (i.lower() for i in entry_ids)
        return {row["entry_id"] for row in self._chunked(e.c.entry_id, wanted, query)}

    def proofs_for(
        self, entry_ids: Iterable[str], *, as_bytes: bool = False, trees: Trees | None = None
    ) -> dict[str, dict[str, Any]]:
        """`proof_for` of many entries, keyed by entry id (absent if in no batch); with
        `as_bytes`, each stored path's hashes as bytes rather than hex, and in place of a
        derived path, its `tree` (see `fill_paths`, also for `trees`)."""
        with self._connect() as conn:
            rows = self.proof_rows(
                conn, [i.lower() for i in entry_ids], as_bytes=as_bytes, trees=trees
            )
        found = {}
        for data in rows:
            entry_id, leaf_index, path = (data.pop(k) for k in ("entry_id", "leaf_index", "path"))
            found[entry_id] = {
                "leaf_index": leaf_index,
                "tree_size": data["size"],
                "path": path,
                "tree": data.pop("tree", None),
                "anchor": data,
            }
        return found

    def proof_rows(
        self,
        conn: Connection,
        entry_ids: Sequence[str] | None,
        *,
        as_bytes: bool = False,
        trees: Trees | None = None,
        checked: bool = True,
    ) -> list[dict[str, Any]]:
        """entry_id, leaf_index and path (derived where not stored; see `fill_paths` for
        `as_bytes`), and the anchor's columns, of each of `entry_ids` in a batch (see
        `placed`), or of every run's entry and every stored proof when None (both, for an
        entry that has both). Rows a proof cannot be read from are refused (see
        `fill_paths`), unless `checked` is False (for `doctor`, which judges them itself)."""
        a, e = schema.anchors, schema.entries

        def with_anchor(rows: Select[Any]) -> Select[Any]:
            found = rows.subquery()
            return select(found.c.entry_id, found.c.leaf_index, found.c.path, a).join(
                a, a.c.root == found.c.root
            )

        if entry_ids is None:
            p = schema.proofs
            in_runs = member_rows(e.c.entry_id, schema.leaf_runs.c.root, null().label("path"))
            stored = select(p.c.entry_id, p.c.root, p.c.leaf_index, p.c.path)
            rows = as_dicts(conn.execute(with_anchor(in_runs)))
            rows += as_dicts(conn.execute(with_anchor(stored)))
        else:
            rows = self._chunked_in(
                conn,
                e.c.entry_id,
                entry_ids,
                lambda among: with_anchor(placed(select(e.c.entry_id, e.c.seq).where(among))),
                reuse="proof_rows",
            )
        self.fill_paths(conn, rows, as_bytes=as_bytes, trees=trees, checked=checked)
        return rows

    def fill_paths(
        self,
        conn: Connection,
        rows: Iterable[dict[str, Any]],
        *,
        as_bytes: bool = False,
        trees: Trees | None = None,
        checked: bool = True,
    ) -> None:
        """Set the `path` of each proof row (entry_id, root, size, leaf_index, path) stored
        without one: derived from its tree, rebuilt from the root's runs. Leaves that do not
        rebuild the root (a row missing or altered) get an empty path, which fails the
        inclusion check instead of raising.

        With `as_bytes`, for a verifier, a stored path is a list of bytes, and a path that
        would be derived is not: the row's `tree` is the tree it would be read from (None
        where the leaves do not rebuild the root), its every node hashed here, whose leaf
        at the index a verifier compares (a verify reads tens of thousands of proofs;
        deriving their paths and walking them was a tenth of checking its entries).

        `trees` holds the trees used, by root, across calls: a reader of many chunks of
        proofs under more roots than the mirror keeps (`TREES_KEPT`) would rebuild each
        root's tree once a chunk.

        With `checked`, a row altered outside labourledger is refused as a DamagedRow: its
        anchor's columns checked once per root, its leaf index by type (verify reads a
        proof per entry, and a wrong index only fails the inclusion check)."""
        trees = {} if trees is None else trees
        anchors: set[str] = set()
        for row in rows:
            if checked:
                if row["root"] not in anchors:
                    check_rows("anchors", [row], key="root")
                    anchors.add(row["root"])
                index = row["leaf_index"]
                if type(index) is not int or index < 0:
                    raise _bad_index(row)
            if row["path"] is not None:
                if as_bytes:
                    row["path"] = _path_bytes(row)
                continue
            root, index = row["root"], row["leaf_index"]
            if root not in trees:
                trees[root] = self._kept_trees.get(root) or self._rebuild(conn, root, row["size"])
            tree = trees[root]
            if as_bytes:
                row["path"], row["tree"] = [], tree
                continue
            path = (
                tree.inclusion_proof(index) if tree is not None and 0 <= index < tree.size else []
            )
            row["path"] = [to_hex(h) for h in path]

    @cached_property
    def _kept_trees(self) -> _KeptTrees:
        return _KeptTrees()

    def _rebuild(self, conn: Connection, root: str, size: int) -> MerkleLevels | None:
        """The tree of `root` from its runs, or None if they are not its leaves."""
        r = schema.leaf_runs
        leaves = conn.execute(
            member_rows(schema.entries.c.entry_id, r.c.first_leaf)
            .where(r.c.root == root)
            .order_by("leaf_index")
        ).all()
        # SQLite's arithmetic reads a run's first leaf of 'abc' as 0: a run altered so is
        # none of the root's, whatever index it happens to give.
        if len(leaves) != size or any(
            row.leaf_index != i or type(row.first_leaf) is not int for i, row in enumerate(leaves)
        ):
            return None
        tree = MerkleLevels([bytes.fromhex(row.entry_id[2:]) for row in leaves])
        if to_hex(tree.root) != root:
            return None
        self._kept_trees.put(root, tree)
        return tree

    def entry_status(self, entry_id: str) -> str:
        """pending, submitted or final."""
        return proof_status(self.proof_for(entry_id))


def _bad_index(row: Mapping[str, Any]) -> DamagedRow:
    """The error for a proof row whose leaf index is no index."""
    index = row["leaf_index"]
    if row["path"] is not None:  # a proof carried in, stored with its index
        problem = f"proofs.leaf_index: {index!r} is not a leaf index"
        return damaged("proofs", row["entry_id"], problem)
    problem = f"leaf_runs.first_leaf: puts the entry at leaf {index!r}"
    return damaged("leaf_runs", row["entry_id"], problem)


def _path_bytes(row: Mapping[str, Any]) -> list[bytes]:
    """A stored path's hashes as bytes; DamagedRow if it is not a list of 0x hashes."""
    try:
        return [bytes.fromhex(h[2:]) for h in row["path"]]
    except (TypeError, ValueError):  # not a list, not text, not hex: only these
        problem = f"proofs.path: expected a list of 0x hashes, got {row['path']!r:.80}"
        raise damaged("proofs", row["entry_id"], problem) from None


class _KeptTrees:
    """The trees last rebuilt, by root (which commits to every leaf, so a kept tree is never
    stale); `serve` reads the mirror from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees: OrderedDict[str, MerkleLevels] = OrderedDict()

    def get(self, root: str) -> MerkleLevels | None:
        with self._lock:
            tree = self._trees.get(root)
            if tree is not None:
                self._trees.move_to_end(root)
            return tree

    def put(self, root: str, tree: MerkleLevels) -> None:
        with self._lock:
            self._trees[root] = tree
            if len(self._trees) > TREES_KEPT:
                self._trees.popitem(last=False)
