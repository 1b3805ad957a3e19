"""A row read back from the mirror as a typed model, or the `DamagedRow` that names it.

Anyone with write access can change the mirror, and SQLite keeps whatever it is given in
any column: a row that no longer reads as one labourledger wrote is refused naming its
table, key and column, never met later as a TypeError. The checks of rows against the
schema's column types are in `labourledger.mirror.checked`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from labourledger.errors import DamagedRow, invalid_input

__all__ = ["as_model", "damaged", "problem_of"]

Model = TypeVar("Model", bound=BaseModel)

#: What the key of a table's rows names, where it is not an entry.
_NOUNS = {"anchors": "anchor", "blocks": "block"}


def damaged(table: str, key: object, problem: str, *, noun: str | None = None) -> DamagedRow:
    """The error for a row of `table` whose key is `key` (what it names: the noun of the
    table's own key unless given), and what is wrong with it."""
    return DamagedRow(problem, table=table, key=key, noun=noun or _NOUNS.get(table, "entry"))


def problem_of(exc: ValidationError, table: str) -> str:
    """The first value pydantic refused, named as `table.column`."""
    return str(invalid_input(exc, table))


def as_model(
    model: type[Model],
    row: Mapping[str, Any],
    *,
    table: str,
    key: object,
    column: str | None = None,
) -> Model:
    """`row` of `table` (whose key is `key`), or the value of its JSON `column`, as a
    `model`; DamagedRow naming the field it refuses."""
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        where = f"{table}.{column}" if column else table
        raise damaged(table, key, problem_of(exc, where)) from None
