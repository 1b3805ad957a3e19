"""The US DOL "List of Goods Produced by Child Labor or Forced Labor", as a dated snapshot.

labourledger ships one snapshot; a compliance team can point `policy.goods_list` (or
`verify --goods-list`) at its own file in the same format, for instance a fuller or a
newer edition. Either is validated before a verdict depends on it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from labourledger.errors import InputError, invalid_input
from labourledger.identifiers import validate_country

__all__ = ["GoodsList", "ListedGood", "load_goods_list"]

SHIPPED = "dol_goods_2024.json"


class ListedGood(BaseModel):
    """One good, the countries it is listed for, and the kind of labour it is listed for."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    good: str = Field(min_length=1)
    #: labourledger's mapping from supply-chain text (product names, processes) to the good.
    keywords: tuple[str, ...] = Field(min_length=1)
    countries: dict[str, tuple[Literal["child", "forced"], ...]] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not k.strip() for k in value):
            raise ValueError("keywords must not be blank")
        return tuple(k.strip().lower() for k in value)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for code, flags in value.items():
            if not flags:
                raise ValueError(f"{code} lists no kind of labour (child, forced)")
        try:
            return {validate_country(code, "countries"): flags for code, flags in value.items()}
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("countries: ")) from None


class GoodsList(BaseModel):
    """A dated snapshot of the list: its edition and source travel into every report."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    source: str = Field(min_length=1)
    edition: str = Field(min_length=1)
    snapshot_date: dt.date
    note: str = ""
    #: What a partial snapshot covers; empty for the whole list.
    coverage: str = ""
    goods: list[ListedGood] = Field(min_length=1)

    @property
    def label(self) -> str:
        """How reasons name the list: its edition, and its coverage when partial, so a
        facility "not on the list" is not read as cleared by goods the snapshot omits."""
        return f"{self.edition}; {self.coverage}" if self.coverage else self.edition

    def assesses(self, texts: Sequence[str]) -> bool:
        """Whether the list speaks about what `texts` describe: always for the whole list; for
        a partial snapshot, only when one of its goods' keywords occurs in `texts`."""
        if not self.coverage:
            return True
        haystack = " ".join(texts).lower()
        return any(k in haystack for g in self.goods for k in g.keywords)

    def forced_labour_goods(self, country: str, texts: Sequence[str]) -> list[str]:
        """Goods of `country` flagged for forced labour whose keywords occur in `texts`."""
        haystack = " ".join(texts).lower()
        return [
            g.good
            for g in self.goods
            if "forced" in g.countries.get(country, ()) and any(k in haystack for k in g.keywords)
        ]


@functools.cache
def load_goods_list(path: str | None = None) -> GoodsList:
    """The snapshot at `path`, or the one shipped with labourledger."""
    from labourledger.exchange import parse_json

    if path is None:
        name = SHIPPED
        raw = resources.files("labourledger").joinpath("data", SHIPPED).read_bytes()
    else:
        name = path
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"policy goods_list: cannot read {path} ({exc.strerror})") from None
        except ValueError:  # a NUL in the name, which no file name holds
            raise InputError(f"policy goods_list: cannot read {path!r} (not a file name)") from None
    try:
        return GoodsList.model_validate(parse_json(raw, name))
    except ValidationError as exc:  # named as the policy's option, then where in the file
        where = str(invalid_input(exc, "")).removeprefix(".")
        raise InputError(f"policy goods_list: {name}: {where}") from None
