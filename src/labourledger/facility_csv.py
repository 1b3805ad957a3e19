"""Open Supply Hub facility CSVs: rows read into facility bodies, every row validated
first (so a file with bad rows can be refused whole, each bad row named), and bodies
written back as OSH's upload template plus the columns a re-import needs."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labourledger import kinds
from labourledger.errors import InputError

__all__ = [
    "LABOURLEDGER_COLUMNS",
    "OSH_UPLOAD_COLUMNS",
    "FacilityRows",
    "RowError",
    "facility_body_from_row",
    "facility_row",
    "read_facility_csv",
    "write_facility_csv",
]

#: Open Supply Hub's list-upload template, in its order.
OSH_UPLOAD_COLUMNS = (
    "country",
    "name",
    "address",
    "sector_product_type",
    "facility_type_processing_type",
    "number_of_workers",
    "parent_company",
)
#: What a re-import needs besides: the OS id (the facility's id derives from it), tier,
#: identifiers and operator keys.
LABOURLEDGER_COLUMNS = ("os_id", "tier", "gln", "lei", "operators")

#: ASCII digits only: int() refuses other Unicode digits such as '²'.
_WORKER_COUNT = re.compile(r"^\d+$", re.ASCII)
_WORKER_BAND = re.compile(kinds.WORKER_BAND)
#: Where csv.DictReader puts the values of a row beyond the header's columns.
_EXTRA = "\0extra"
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
    #: Whether the CSV has an operators column (Open Supply Hub's own export has none).
    names_operators: bool = False


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
    combined = _text(row, "facility_type_processing_type")
    if combined:
        # OSH's upload template puts facility and processing types in one column.
        for value in _LIST_SEPARATOR.split(combined):
            if value in kinds.FACILITY_TYPES and body["facility_type"] is None:
                body["facility_type"] = value
            else:
                body["processing_types"].append(value)
    operators = _text(row, "operators")
    if operators:
        body["operators"] = _LIST_SEPARATOR.split(operators)
    workers = _text(row, "number_of_workers")
    if workers is not None and _WORKER_COUNT.match(workers):
        body["worker_count"] = int(workers)
    elif workers is not None and _WORKER_BAND.match(workers):
        body["worker_band"] = workers
    elif workers is not None:
        raise InputError(
            "number_of_workers: expected a count of 0 or more or a range such as 1001-5000, "
            f"got {workers!r}"
        )
    tier = _text(row, "tier")
    if tier is not None:
        if not (tier.isascii() and tier.isdigit()):  # "²" is a digit to isdigit
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
        reader = csv.DictReader(handle, restkey=_EXTRA)
        try:
            header = [c for c in reader.fieldnames or [] if c]  # unnamed columns are not read
            # DictReader keeps the last of two same-named columns and drops the other unseen.
            twice = next((c for i, c in enumerate(header) if c in header[:i]), None)
            if twice is not None:
                raise InputError(f"{path}: column {twice!r} appears more than once in the header")
            columns = set(header)
            result.names_operators = "operators" in columns
            missing = {"name", "address"} - columns
            if not {"facility_type", "facility_type_processing_type"} & columns:
                missing.add("facility_type")
            if missing or not {"country_code", "country"} & columns:
                need = sorted(missing) or ["country_code"]
                raise InputError(f"{path}: missing column(s) {', '.join(need)}")
            for row in reader:
                try:
                    result.bodies.append(_body(row))
                    result.lines.append(reader.line_num)
                except InputError as exc:
                    result.errors.append(RowError(reader.line_num, str(exc)))
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: line {reader.line_num + 1}: not UTF-8 text (byte {exc.start} of a "
                "chunk); save the CSV as UTF-8"
            ) from None
        except csv.Error as exc:
            raise InputError(
                f"{path}: line {reader.line_num}: not a readable CSV ({exc})"
            ) from None
    return result


def _body(row: Mapping[str, Any]) -> dict[str, Any]:
    """A facility body from a DictReader row, refusing values beyond the header's columns."""
    extra = row.get(_EXTRA)
    if extra:
        raise InputError(
            f"{len(extra)} more value(s) than the header's {len(row) - 1} columns; "
            "quote values that contain a comma"
        )
    return facility_body_from_row(row)


def facility_row(body: Mapping[str, Any], *, operators: Sequence[str] = ()) -> dict[str, str]:
    """A facility body as one row of OSH's upload columns plus LABOURLEDGER_COLUMNS."""
    types = [body.get("facility_type"), *body.get("processing_types", [])]
    workers = body.get("worker_count", body.get("worker_band"))
    return {
        "country": body["country"],
        "name": body["name"],
        "address": body["address"],
        "sector_product_type": "",
        "facility_type_processing_type": "|".join(t for t in types if t),
        "number_of_workers": "" if workers is None else str(workers),
        "parent_company": body.get("parent_company", ""),
        "os_id": body.get("os_id", ""),
        "tier": str(body["tier"]),
        "gln": body.get("gln", ""),
        "lei": body.get("lei", ""),
        "operators": "|".join(operators),
    }


def write_facility_csv(path: Path, rows: Sequence[Mapping[str, str]], *, osh_only: bool) -> None:
    """Write facility rows as CSV (UTF-8); only OSH's template columns when `osh_only`."""
    columns = OSH_UPLOAD_COLUMNS if osh_only else OSH_UPLOAD_COLUMNS + LABOURLEDGER_COLUMNS
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
