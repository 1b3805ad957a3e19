"""Signed entries in the mirror: storing them with their projections, and reading them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, func, or_, select

from labourledger.damage import damaged
from labourledger.errors import DamagedRow
from labourledger.mirror import schema
from labourledger.mirror.anchors import ON_CHAIN
from labourledger.mirror.connection import Connected, as_dicts, write_cache
from labourledger.mirror.rows import ENTRY_FIELDS, EntryRows, entry_rows, insert_rows
from labourledger.mirror.runs import GAPS_PER_QUERY, gaps_test, placed, uncovered

__all__ = ["ENTRY_FIELDS", "EntryRecords", "Pending"]

#: A pending entry: its seq, entry_id, kind and subject (as attributes, or by position).
Pending = Row[int, str, str, str]


#: The types of a number the mirror may hold, or its absence.
_NUMBER = (int, type(None))


def _damaged_entry(row: Mapping[str, Any]) -> DamagedRow:
    if type(row["issued_at"]) is not int:
        problem = f"entries.issued_at: expected an integer, got {row['issued_at']!r:.40}"
    else:
        problem = f"entries.body: expected a JSON object, got {row['body']!r:.40}"
    return damaged("entries", row["entry_id"], problem)


def _damaged_anchor(row: Mapping[str, Any]) -> DamagedRow:
    """The error for a timeline row whose anchor (its block or time) is no number."""
    column, value = next(
        (c, row[k])
        for c, k in (("block_number", "block_number"), ("timestamp", "anchor_timestamp"))
        if type(row[k]) not in _NUMBER
    )
    problem = f"anchors.{column}: expected an integer, got {value!r:.40}"
    return damaged("anchors", row["entry_id"], problem, noun="entry")


class EntryRecords(Connected):
    """The mirror's entries: add them (with their projections) and read them back."""

    def add_entry(self, conn: Connection, entry: Mapping[str, Any], *, source: str) -> bool:
        """Store one signed entry and its projections; False (nothing stored) if already there."""
        return self.add_entries(conn, [entry], source=source) == 1

    def add_entries(
        self,
        conn: Connection,
        entries: Sequence[Mapping[str, Any]],
        *,
        source: str,
        fresh: bool = False,
    ) -> int:
        """Store signed entries (dicts of ENTRY_FIELDS + chain_id, contract) and their
        projections in `conn`'s transaction; returns how many were new (see `add_rows`)."""
        return self.add_rows(conn, [entry_rows(x) for x in entries], source=source, fresh=fresh)

    def add_rows(
        self,
        conn: Connection,
        rows: Sequence[EntryRows],
        *,
        source: str,
        fresh: bool = False,
    ) -> int:
        """Store entries' `rows` in `conn`'s transaction, a few statements per batch;
        returns how many were new. Entries already stored are skipped; `fresh` ones (just
        signed, each with a new salt, so none can be stored yet) are not looked for."""
        e = schema.entries
        known = set()
        if not fresh:
            known = {
                row["entry_id"]
                for row in self._chunked_in(
                    conn,
                    e.c.entry_id,
                    [r.entry_id for r in rows],
                    lambda among: select(e.c.entry_id).where(among),
                )
            }
        new: dict[str, EntryRows] = {}
        for row in rows:
            if row.entry_id not in known:
                new.setdefault(row.entry_id, row)
        with write_cache(conn):
            insert_rows(conn, new.values(), source=source)
        return len(new)

    def get_entry(self, entry_id: str) -> dict[str, Any] | None:
        """The stored entry as a dict of ENTRY_FIELDS, or None."""
        return self.get_entries([entry_id]).get(entry_id.lower())

    def get_entries(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored entries among `entry_ids`, keyed by id, as dicts of ENTRY_FIELDS."""
        e = schema.entries
        columns = [e.c[f] for f in ENTRY_FIELDS]
        return {
            row["entry_id"]: row
            for row in self._chunked(
                e.c.entry_id,
                (i.lower() for i in entry_ids),
                lambda among: select(*columns).where(among),
                reuse="entries",
            )
        }

    def held(self, entry_ids: Iterable[str]) -> set[str]:
        """Which of `entry_ids` the mirror holds (their ids only: no body is read)."""
        return self._present(schema.entries.c.entry_id, entry_ids)

    def pending_entries(self) -> list[Pending]:
        """Entries in no anchor yet, as rows of seq, entry_id, kind and subject, in the order
        they were recorded (rows, not dicts: anchoring reads 100,000 at a time). Only the
        ranges of seq outside every run are read (see mirror/runs.py)."""
        e, p, r = schema.entries, schema.proofs, schema.leaf_runs
        rows: list[Pending] = []
        with self._connect() as conn:
            runs = conn.execute(select(r.c.first_seq, r.c.last_seq).order_by(r.c.first_seq))
            gaps = uncovered([(first, last) for first, last in runs])
            for start in range(0, len(gaps), GAPS_PER_QUERY):
                query = (
                    select(e.c.seq, e.c.entry_id, e.c.kind, e.c.subject)
                    .outerjoin(p, p.c.entry_id == e.c.entry_id)
                    .where(gaps_test(gaps[start : start + GAPS_PER_QUERY]))
                    .where(p.c.entry_id.is_(None))
                    .order_by(e.c.seq)
                )
                rows += conn.execute(query).all()
        return rows

    def entries_about(self, subject: str) -> list[dict[str, Any]]:
        """Entries whose subject is `subject` or which refer to it, oldest first."""
        e, r = schema.entries, schema.entry_refs
        referring = select(r.c.entry_id).where(r.c.ref == subject)
        with self._connect() as conn:
            rows = conn.execute(
                select(e.c.entry_id, e.c.kind, e.c.issuer, e.c.issued_at)
                .where(or_(e.c.subject == subject, e.c.entry_id.in_(referring)))
                .order_by(e.c.seq)
            )
            return as_dicts(rows)

    def timeline(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Entries about `subject` (optionally of one kind) with their anchor facts, in
        anchor order (block, then leaf), then the ones not yet on chain in recording order.

        Each row holds ENTRY_FIELDS plus anchor_status, block_number, anchor_timestamp,
        tx_hash and leaf_index (None while pending).
        """
        return self.timelines([subject], kind).get(subject.lower(), [])

    def timelines(
        self, subjects: Iterable[str], kind: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """`timeline` of many subjects in a few queries, keyed by subject (absent if none)."""
        e, a = schema.entries, schema.anchors

        def query(among: ColumnElement[bool]) -> Select[Any]:
            picked = select(*(e.c[f] for f in ENTRY_FIELDS), e.c.seq).where(among)
            if kind is not None:
                picked = picked.where(e.c.kind == kind)
            found = placed(picked).subquery()
            return select(
                *(found.c[f] for f in ENTRY_FIELDS),
                found.c.seq,
                a.c.status.label("anchor_status"),
                a.c.block_number,
                a.c.timestamp.label("anchor_timestamp"),
                a.c.tx_hash,
                found.c.leaf_index,
            ).select_from(
                found.outerjoin(a, and_(a.c.root == found.c.root, a.c.status.in_(ON_CHAIN)))
            )

        rows = self._chunked(
            e.c.subject, (s.lower() for s in subjects), query, reuse=("timelines", kind)
        )
        for row in rows:
            # A row per entry (verify reads tens of thousands): checked by type alone, and
            # only what is sorted, compared or read as a body here and by the views.
            if type(row["issued_at"]) is not int or type(row["body"]) is not dict:
                raise _damaged_entry(row)
            if row["anchor_status"] is None:
                row["block_number"] = row["anchor_timestamp"] = row["tx_hash"] = None
                row["leaf_index"] = None
            elif not (
                type(row["block_number"]) in _NUMBER and type(row["anchor_timestamp"]) in _NUMBER
            ):
                raise _damaged_anchor(row)
        on_chain = sorted(
            (r for r in rows if r["anchor_status"]),
            key=lambda r: (r["block_number"], r["leaf_index"]),
        )
        pending = sorted((r for r in rows if not r["anchor_status"]), key=lambda r: r["seq"])
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for row in on_chain + pending:
            row.pop("seq")
            by_subject.setdefault(row["subject"], []).append(row)
        return by_subject

    def subjects_of(self, kind: str) -> list[str]:
        """The distinct subjects of entries of one kind (say, the facilities with grievances)."""
        e = schema.entries
        with self._connect() as conn:
            query = select(e.c.subject).where(e.c.kind == kind).distinct().order_by(e.c.subject)
            return [str(s) for s in conn.execute(query).scalars()]

    def counts(self) -> dict[str, int]:
        """Entries pending and on chain, and anchors by status."""
        e, p, a, r = schema.entries, schema.proofs, schema.anchors, schema.leaf_runs
        on_chain = a.c.status.in_(ON_CHAIN)
        with self._connect() as conn:
            total = conn.execute(select(func.count()).select_from(e)).scalar_one()
            carried = conn.execute(
                select(func.count()).select_from(p.join(a, a.c.root == p.c.root)).where(on_chain)
            ).scalar_one()
            in_runs = conn.execute(
                select(func.coalesce(func.sum(r.c.last_seq - r.c.first_seq + 1), 0))
                .select_from(r.join(a, a.c.root == r.c.root))
                .where(on_chain)
            ).scalar_one()
            anchored = int(carried) + int(in_runs)
            by_status = dict(
                (str(s), int(n))
                for s, n in conn.execute(select(a.c.status, func.count()).group_by(a.c.status))
            )
        return {
            "entries": total,
            "pending": total - anchored,
            "anchored": anchored,
            **{f"anchors_{s}": n for s, n in sorted(by_status.items())},
        }
