"""Rows read back from the mirror, checked against the column types `schema` declares
before anything relies on them.

SQLite keeps whatever it is given in any column ('abc' in an INTEGER column, a float too
large for one). A read that hands rows on checks them here (integers, 0x ids and
addresses, ISO dates), so a damaged row is refused as a `DamagedRow` naming its table,
key and column (see `labourledger.damage`), not met later as a TypeError. PostgreSQL
enforces the column types itself; the shapes of ids and dates are checked on both.

Only the reads of few rows check whole rows (registrations, links, anchors: one per root);
a read of a row per entry checks what its callers compute with, by type alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator, core_schema
from sqlalchemy import JSON, Boolean, Column, Integer, String, Table

from labourledger.damage import damaged, problem_of
from labourledger.mirror import schema

__all__ = ["check_rows", "row_problem"]

#: Lengths `schema` gives its 0x columns (`_hex32`, `_address`) and its ISO dates.
_HEX32, _ADDRESS, _DATE = 66, 42, 10
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: str) -> str:
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    dt.date.fromisoformat(value)  # ValueError for a day no calendar has: 2026-02-30
    return value


def _hex(digits: int) -> Callable[[str], str]:
    shape = re.compile(rf"0x[0-9a-fA-F]{{{digits}}}")

    def check(value: str) -> str:
        if not shape.fullmatch(value):
            raise ValueError(f"expected 0x and {digits} hex digits, got {value!r}")
        return value

    return check


def _column_schema(column: Column[Any]) -> core_schema.CoreSchema:
    """What a column's values must be, from its declared type."""
    kind = column.type
    text = core_schema.str_schema(strict=True)
    found: core_schema.CoreSchema
    if isinstance(kind, Boolean):
        found = core_schema.bool_schema(strict=True)
    elif isinstance(kind, Integer):  # BigInteger too; every count, index and block is >= 0
        found = core_schema.int_schema(strict=True, ge=0)
    elif isinstance(kind, JSON):
        found = core_schema.any_schema()
    elif isinstance(kind, String) and kind.length in (_HEX32, _ADDRESS):
        found = core_schema.no_info_after_validator_function(_hex(kind.length - 2), text)
    elif isinstance(kind, String) and kind.length == _DATE:
        found = core_schema.no_info_after_validator_function(_iso_date, text)
    else:
        found = text
    return core_schema.nullable_schema(found) if column.nullable else found


@cache
def _validator(table: Table) -> SchemaValidator:
    """A table's rows, checked column by column: a row may hold some of its columns (a
    query's pick) and others besides (a join's), which are not checked."""
    fields = {
        c.name: core_schema.typed_dict_field(_column_schema(c), required=False)
        for c in table.columns
    }
    return SchemaValidator(
        core_schema.typed_dict_schema(fields, total=False, extra_behavior="ignore")
    )


def row_problem(table: str, row: Mapping[str, Any]) -> str | None:
    """What is wrong with a row of `table` (its columns `schema` declares), or None."""
    try:
        _validator(schema.metadata.tables[table]).validate_python(row)
    except ValidationError as exc:
        return problem_of(exc, table)
    return None


def check_rows(table: str, rows: Iterable[Mapping[str, Any]], key: str = "entry_id") -> None:
    """DamagedRow naming the first of `rows` (of `table`, keyed by their `key`) that holds
    a value its columns cannot."""
    validate = _validator(schema.metadata.tables[table]).validate_python
    for row in rows:
        try:
            validate(row)
        except ValidationError as exc:
            raise damaged(table, row.get(key), problem_of(exc, table)) from None
