"""Facility bodies from Open Supply Hub download CSVs.

Reading is separate from recording: every row is validated first, so a file
with bad rows can be refused whole, with each bad row named.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labourledger import kinds
from labourledger.errors import InputError

__all__ = ["FacilityRows", "RowError", "facility_body_from_row", "read_facility_csv"]

_WORKER_COUNT = re.compile(r"^\d+$")
_LIST_SEPARATOR = re.compile(r"\s*[|;]\s*")


@dataclass(frozen=True)
class RowError:
    """One invalid CSV row: its line number in the file, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class FacilityRows:
    """The valid facility bodies of a CSV, and every invalid row."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _text(row: Mapping[str, str | None], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def facility_body_from_row(row: Mapping[str, str | None]) -> dict[str, Any]:
    """Map one Open Supply Hub row (plus optional `tier`, `gln`, `lei`) to a facility body.

    Raises InputError naming the field when the row does not validate.
    """
    body: dict[str, Any] = {
        "name": _text(row, "name"),
        "address": _text(row, "address"),
        "country": _text(row, "country_code") or _text(row, "country"),
        "os_id": _text(row, "os_id"),
        "gln": _text(row, "gln"),
        "lei": _text(row, "lei"),
        "facility_type": _text(row, "facility_type"),
        "parent_company": _text(row, "parent_company"),
    }
    processing = _text(row, "processing_type")
    body["processing_types"] = _LIST_SEPARATOR.split(processing) if processing else []
    workers = _text(row, "number_of_workers")
    if workers is not None:
        key = "worker_count" if _WORKER_COUNT.match(workers) else "worker_band"
        body[key] = int(workers) if key == "worker_count" else workers
    tier = _text(row, "tier")
    if tier is not None:
        if not tier.isdigit():
            raise InputError(f"tier: expected 1, 2, 3 or 4, got {tier!r}")
        body["tier"] = int(tier)
    elif body["facility_type"] in kinds.TIER_BY_TYPE:
        body["tier"] = kinds.TIER_BY_TYPE[body["facility_type"]]
    body = {k: v for k, v in body.items() if v is not None}
    return kinds.canonical_body("facility", body)


def read_facility_csv(path: Path) -> FacilityRows:
    """Validate every row of an Open Supply Hub CSV; collects all errors, raises none per row."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    result = FacilityRows()
    with handle:
        reader = csv.DictReader(handle)
        missing = {"name", "address", "facility_type"} - set(reader.fieldnames or [])
        if missing or not {"country_code", "country"} & set(reader.fieldnames or []):
            need = sorted(missing) or ["country_code"]
            raise InputError(f"{path}: missing column(s) {', '.join(need)}")
        for row in reader:
            try:
                result.bodies.append(facility_body_from_row(row))
                result.lines.append(reader.line_num)
            except InputError as exc:
                result.errors.append(RowError(reader.line_num, str(exc)))
    return result
