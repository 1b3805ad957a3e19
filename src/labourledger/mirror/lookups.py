"""Queries of the typed projections: facilities, links, audits, revocations, lookups by value.

Each read that hands rows on checks them (`labourledger.mirror.checked`): a row altered
outside labourledger is refused as a DamagedRow naming it, not met later as a TypeError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select

from labourledger.mirror import schema
from labourledger.mirror.checked import check_rows
from labourledger.mirror.connection import Connected, as_dicts

__all__ = ["ProjectionQueries"]


class ProjectionQueries(Connected):
    """Reads of the projection tables the entries' bodies are copied into."""

    def registrations(self, facility_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Facility registrations, of every facility or of `facility_ids`, in the order
        they were recorded here (which is in force is `suppliers.facilities`' to judge:
        it takes revocations)."""
        f = schema.facilities
        query = (
            select(f)
            .join(schema.entries, schema.entries.c.entry_id == f.c.entry_id)
            .order_by(schema.entries.c.seq)
        )
        if facility_ids is not None:
            query = query.where(f.c.facility_id.in_([i.lower() for i in facility_ids]))
        with self._connect() as conn:
            rows = as_dicts(conn.execute(query))
        check_rows("facilities", rows)
        return rows

    def facility(self, facility_id: str) -> dict[str, Any] | None:
        """The first registration of a facility (whether one is registered), or None."""
        f = schema.facilities
        with self._connect() as conn:
            row = conn.execute(
                select(f)
                .join(schema.entries, schema.entries.c.entry_id == f.c.entry_id)
                .where(f.c.facility_id == facility_id.lower())
                .order_by(schema.entries.c.seq)
            ).first()
        if row is None:
            return None
        found = dict(row._mapping)
        check_rows("facilities", [found])
        return found

    def links_of(self, facility_id: str) -> list[dict[str, Any]]:
        """Supply links where the facility is supplier or buyer."""
        s = schema.supply_links
        with self._connect() as conn:
            rows = as_dicts(
                conn.execute(
                    select(s).where(or_(s.c.supplier == facility_id, s.c.buyer == facility_id))
                )
            )
        check_rows("supply_links", rows)
        return rows

    def supplies(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Supply links by supplier, for each of `facility_ids` that supplies anyone."""
        s = schema.supply_links
        found: dict[str, list[dict[str, Any]]] = {}
        rows = self._chunked(
            s.c.supplier, (f.lower() for f in facility_ids), lambda among: select(s).where(among)
        )
        check_rows("supply_links", rows)
        for row in rows:
            found.setdefault(row["supplier"], []).append(row)
        return found

    def revocations(self, targets: Iterable[str]) -> dict[str, list[str]]:
        """For each of `targets` that a stored revocation names, the ids of those revocations;
        not judged (whether each counts is `labourledger.revocations`)."""
        r = schema.revocations
        found: dict[str, list[str]] = {}
        for row in self._chunked(
            r.c.target,
            (t.lower() for t in targets),
            lambda among: select(r.c.target, r.c.entry_id).where(among),
        ):
            found.setdefault(row["target"], []).append(row["entry_id"])
        return found

    def audits(
        self, *, facility: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[str]:
        """Ids of audits, optionally of one facility and ending within [since, until]
        (ISO dates), oldest first."""
        a = schema.audits
        query = select(a.c.entry_id).order_by(a.c.end_date, a.c.entry_id)
        if facility:
            query = query.where(a.c.facility == facility.lower())
        if since:
            query = query.where(a.c.end_date >= since)
        if until:
            query = query.where(a.c.end_date <= until)
        with self._connect() as conn:
            return [str(x) for x in conn.execute(query).scalars()]

    def lookup(self, table: str, column: str, values: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Rows of a projection table whose `column` is one of `values`, keyed by it; where
        several entries share a value, the first recorded wins."""
        t = schema.metadata.tables[table]
        rows = self._chunked(
            t.c[column],
            values,
            lambda among: (
                select(t, schema.entries.c.seq)
                .join(schema.entries, schema.entries.c.entry_id == t.c.entry_id)
                .where(among)
            ),
            reuse=("lookup", table, column),
        )
        check_rows(table, rows)
        found: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: r.pop("seq")):
            found.setdefault(row[column], row)
        return found

    def ids_with(self, table: str, key: str, columns: Iterable[str], value: str) -> set[str]:
        """The distinct `key` of every row of a projection table with `value` in any of
        `columns`: all the entries sharing a value, of which `lookup` keeps the first."""
        t = schema.metadata.tables[table]
        # With each row's entry, which names a row found damaged.
        picked = dict.fromkeys((t.c.entry_id, t.c[key]))
        query = select(*picked).where(or_(*(t.c[c] == value for c in columns)))
        with self._connect() as conn:
            rows = as_dicts(conn.execute(query))
        check_rows(table, rows)
        return {row[key] for row in rows}
