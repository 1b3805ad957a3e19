"""An entry's rows as the mirror stores them, made ahead as plain tuples and inserted with
one driver-level executemany a table.

Making the rows is pure (no database), so `record_many`'s workers make them while they
sign, and the process holding the transaction only inserts. Going past SQLAlchemy's
per-row parameter processing roughly halves the cost of an insert; the JSON columns are
serialised as SQLAlchemy's JSON type serialises them (`json.dumps`, no engine
serialiser is configured), so the stored text is the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import JSON, Connection, Table

from labourledger.mirror import schema
from labourledger.mirror.projections import rows_for

__all__ = ["ENTRY_FIELDS", "EntryRows", "entry_rows", "insert_rows"]

ENTRY_FIELDS = (
    "entry_id",
    "issuer",
    "kind",
    "schema_version",
    "subject",
    "refs",
    "issued_at",
    "content_hash",
    "signature",
    "body",
    "salt",
)
#: `json.dumps` with its defaults (as SQLAlchemy calls it), less its per-call argument checks.
_dumps = json.JSONEncoder().encode
#: Columns of `entries` not in an entry's row: numbered by the database, given by the store.
_NOT_IN_ROW = ("seq", "source")


class EntryRows(NamedTuple):
    """One entry's rows: its `entries` row (values of the entry columns, JSON as text,
    without `source`) and the rows that refer to it (its refs and projections), each as
    (table name, values in the table's column order)."""

    entry_id: str
    entry: tuple[Any, ...]
    children: tuple[tuple[str, tuple[Any, ...]], ...]


class _Layout(NamedTuple):
    names: tuple[str, ...]
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's, in `names` order
    json_at: tuple[int, ...]  # positions of the JSON columns


@cache
def _layout(table: Table) -> _Layout:
    columns = [c for c in table.columns if table is not schema.entries or c.name not in _NOT_IN_ROW]
    names = tuple(c.name for c in columns)
    json_at = tuple(i for i, c in enumerate(columns) if isinstance(c.type, JSON))
    return _Layout(names, itemgetter(*names), json_at)


def _row(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """`row`'s values in `table`'s column order, JSON columns as text."""
    layout = _layout(table)
    values = layout.values(row)
    if not layout.json_at:
        return values
    serialised = list(values)
    for i in layout.json_at:
        serialised[i] = _dumps(serialised[i])
    return tuple(serialised)


def entry_rows(entry: Mapping[str, Any]) -> EntryRows:
    """The rows of a signed entry given as a dict of ENTRY_FIELDS + chain_id, contract."""
    entry_id = entry["entry_id"]
    refs = [("entry_refs", (entry_id, ref)) for ref in dict.fromkeys(entry["refs"])]
    projected = [
        (table.name, _row(table, row))
        for table, row in rows_for(entry_id, entry["kind"], entry["body"], entry["subject"])
    ]
    return EntryRows(entry_id, _row(schema.entries, entry), (*refs, *projected))


def _insert(conn: Connection, table: str, columns: Sequence[str]) -> str:
    """INSERT of `columns` into `table` in the driver's own placeholders."""
    style = conn.dialect.paramstyle
    if style == "qmark":
        marks = ["?"] * len(columns)
    elif style in ("format", "pyformat"):
        marks = ["%s"] * len(columns)
    else:  # the mirror runs on sqlite3 and psycopg; a new driver needs its style here
        raise NotImplementedError(f"mirror: the {style} parameter style")
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"


def insert_rows(conn: Connection, rows: Iterable[EntryRows], *, source: str) -> None:
    """Insert entries' rows in `conn`'s transaction: the entries, then the rows that refer
    to them, table by table."""
    entries: list[tuple[Any, ...]] = []
    by_table: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        entries.append((*row.entry, source))
        for table, child in row.children:
            by_table.setdefault(table, []).append(child)
    if not entries:
        return
    columns = (*_layout(schema.entries).names, "source")
    conn.exec_driver_sql(_insert(conn, "entries", columns), entries)
    for table, values in by_table.items():
        columns = _layout(schema.metadata.tables[table]).names
        conn.exec_driver_sql(_insert(conn, table, columns), values)
