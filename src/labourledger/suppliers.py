"""Suppliers: the facilities registered in a workspace, their operators, and their Open
Supply Hub CSVs.

Reading a CSV is separate from recording: every row is validated first, so a file
with bad rows can be refused whole, with each bad row named.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger import kinds
from labourledger.damage import as_model
from labourledger.envelope import to_hex
from labourledger.errors import InputError, NextStep
from labourledger.identifiers import facility_id_from_os_id, is_hex_id, validate_country
from labourledger.models import (
    FacilityRegistration,
    FacilitySummary,
    FacilityView,
    SupplyLinkView,
)
from labourledger.recording import record_checked
from labourledger.vocabulary import FacilityType

if TYPE_CHECKING:
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.recording import Signer

__all__ = [
    "LABOURLEDGER_COLUMNS",
    "OSH_UPLOAD_COLUMNS",
    "Amendments",
    "FacilityRows",
    "RowError",
    "amendments",
    "change_operators",
    "export_facility_csv",
    "facilities",
    "facility",
    "facility_body_from_row",
    "facility_id",
    "facility_row",
    "held_as",
    "operators",
    "read_facility_csv",
    "register_facility",
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


def export_facility_csv(
    ledger: Ledger,
    path: Path,
    *,
    country: str | None = None,
    tier: int | None = None,
    facility_type: str | None = None,
    osh_only: bool = False,
) -> int:
    """Write the registered facilities (filtered as `facilities`), less those whose
    registration was revoked, as an Open Supply Hub upload CSV that `read_facility_csv`
    reads back; returns how many were written."""
    live = [
        r
        for r in facilities(ledger, country=country, tier=tier, facility_type=facility_type)
        if not r.revoked_by
    ]
    bodies = ledger.entries([r.entry_id for r in live])
    rows = [
        facility_row(bodies[r.entry_id].body, operators=operators(ledger, r.facility_id))
        for r in live
    ]
    write_facility_csv(path, rows, osh_only=osh_only)
    return len(rows)


# -- the registry -------------------------------------------------------------


def facility_id(ledger: Ledger, ref: str, *, registered: bool = False) -> str:
    """A facility id from its Open Supply Hub id or its 0x id. A 0x id that is another
    entry's, a batch's or a product's here is refused (it would match nothing, or file a
    grievance where no facility shows it). With `registered`, a 0x id must be one of a
    facility registered here, since nothing catches a typo in it (an OS id's check
    character does, so it may name a facility registered elsewhere)."""
    if not ref.startswith("0x"):
        return to_hex(facility_id_from_os_id(ref))
    if not is_hex_id(ref):
        raise InputError(f"facility {ref}: expected a 0x id of 64 hex digits or an OS id")
    found = ref.lower()
    if ledger.mirror.facility(found) is None:
        if other := held_as(ledger, found):
            raise InputError(f"facility {ref}: the id of {other} here, not of a facility")
        if registered:
            raise InputError(
                f"facility {ref}: no facility with this id is registered here (its OS id "
                "names it wherever it is registered)",
                next_step=NextStep.REGISTER_FACILITY,
            )
    return found


def held_as(ledger: Ledger, ref: str) -> str | None:
    """What `ref`, a 0x id, is the id of here (an entry of some kind, a facility, a batch,
    a product), to name it where an id of another kind was expected; None if nothing."""
    entry = ledger.mirror.get_entry(ref)
    if entry is not None:
        kind = str(entry["kind"])
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} entry"
    for table, key, what in (
        ("facilities", "facility_id", "a facility"),
        ("batches", "batch_id", "a batch"),
        ("products", "product_id", "a product"),
    ):
        if ledger.mirror.lookup(table, key, [ref]):
            return what
    return None


def facilities(
    ledger: Ledger,
    *,
    country: str | None = None,
    tier: int | None = None,
    facility_type: str | None = None,
) -> list[FacilitySummary]:
    """Registered facilities, filtered, each with the revocations of its registration."""
    if tier is not None and not 1 <= tier <= 4:
        raise InputError(f"tier: expected 1 to 4, got {tier}")
    if country is not None:
        country = validate_country(country)
    if facility_type is not None and facility_type not in tuple(FacilityType):
        raise InputError(
            f"facility_type: {facility_type!r} is not one of: {', '.join(FacilityType)}"
        )
    rows = ledger.mirror.facilities(country=country, tier=tier, facility_type=facility_type)
    revoked = ledger.revoked(r["entry_id"] for r in rows)
    return [
        as_model(
            FacilitySummary,
            r | {"revoked_by": revoked.get(r["entry_id"], [])},
            table="facilities",
            key=r["entry_id"],
        )
        for r in rows
    ]


def facility(ledger: Ledger, ref: str) -> FacilityView:
    """A facility: its registration, every entry about it with status, and its links."""
    fid = facility_id(ledger, ref)
    row = ledger.mirror.facility(fid)
    if row is None:
        raise InputError(
            f"facility {ref}: not registered here", next_step=NextStep.REGISTER_FACILITY
        )
    return FacilityView(
        facility_id=fid,
        facility=as_model(FacilityRegistration, row, table="facilities", key=row["entry_id"]),
        entries=ledger.describe_many([e["entry_id"] for e in ledger.mirror.entries_about(fid)]),
        links=[
            as_model(SupplyLinkView, link, table="supply_links", key=link["entry_id"])
            for link in ledger.mirror.links_of(fid)
        ],
        audits=ledger.audits_of([fid]).get(fid, []),
        attestations=ledger.attestations(fid),
    )


def operators(ledger: Ledger, ref: str) -> list[str]:
    """The SUPPLIER keys a facility's registrations now name as speaking for it
    (pending registrations included; `verify` counts only anchored ones)."""
    return sorted(kinds.operators_named(_live_registrations(ledger, facility_id(ledger, ref))))


def _live_registrations(ledger: Ledger, facility_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = ledger.mirror.timeline(facility_id, "facility")
    revoked = ledger.revoked(r["entry_id"] for r in rows)
    return [(r["issuer"], r["body"]) for r in rows if r["entry_id"] not in revoked]


def register_facility(
    ledger: Ledger,
    signer: Signer,
    *,
    name: str,
    country: str,
    address: str,
    tier: int,
    facility_type: FacilityType | None = None,
    os_id: str | None = None,
    gln: str | None = None,
    lei: str | None = None,
    processing_types: Sequence[str] = (),
    worker_count: int | None = None,
    parent_company: str | None = None,
    operators: Sequence[str] = (),
) -> SignedEntry:
    """Sign and store (pending) one facility's registration; `operators` are the SUPPLIER
    keys whose self-declarations and transformations count for it. The body is checked
    before `signer` is asked for (InputError naming the field)."""
    return record_checked(
        ledger,
        "facility",
        {
            "name": name,
            "country": country,
            "address": address,
            "facility_type": facility_type,
            "tier": tier,
            "os_id": os_id,
            "gln": gln,
            "lei": lei,
            "processing_types": list(processing_types),
            "worker_count": worker_count,
            "parent_company": parent_company,
            "operators": list(operators),
        },
        signer,
    )


@dataclass(frozen=True)
class Amendments:
    """A facility list measured against what its signer registered already."""

    #: The bodies that change a registration, or register a facility anew.
    bodies: list[dict[str, Any]]
    #: The places in the list of the bodies the signer's registrations say already.
    unchanged: list[int]


def amendments(
    ledger: Ledger, bodies: Sequence[dict[str, Any]], issuer: str, *, keep_operators: bool
) -> Amendments:
    """`bodies` less those `issuer`'s latest registration of their facility here (not
    revoked; pending counts) or an earlier body of the list says already: importing the
    same list again signs nothing new. With `keep_operators` (a list without an operators
    column), each keeps the operators that registration names, so a facility registered
    again from such a list keeps the suppliers that speak for it."""
    parsed = [kinds.parse_body("facility", b) for b in bodies]
    ids = [to_hex(kinds.subject_for("facility", p, issuer=issuer)) for p in parsed]
    found = ledger.mirror.timelines(ids, "facility")
    revoked = ledger.revoked(r["entry_id"] for rows in found.values() for r in rows)
    latest = {}
    for facility, rows in found.items():
        own = [r["body"] for r in rows if r["issuer"] == issuer and r["entry_id"] not in revoked]
        if own:
            latest[facility] = own[-1]
    changed, unchanged = [], []
    for place, (facility, body, model) in enumerate(zip(ids, bodies, parsed, strict=True)):
        last = latest.get(facility)
        named = last.get("operators", []) if last and keep_operators else []
        if named:
            body = {**body, "operators": named}
            model = kinds.parse_body("facility", body)
        if last is not None and kinds.parse_body("facility", last) == model:
            unchanged.append(place)
            continue
        changed.append(body)
        latest[facility] = body
    return Amendments(changed, unchanged)


def change_operators(
    ledger: Ledger,
    ref: str,
    signer: HashSigner,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> SignedEntry:
    """Register a facility again with operators added or removed: the SUPPLIER accounts
    whose self-declarations and transformations count for it. Once anchored, the new
    registration replaces the signer's earlier list; other brands' lists stay. Refused naming
    `add` or `remove` for an address whose change would leave that list as it is."""
    live = _live_registrations(ledger, facility_id(ledger, ref))
    own = [body for issuer, body in live if issuer == signer.address]
    shared = [body for _, body in live if body.get("os_id")]
    if not (own or shared):
        raise InputError(
            f"facility {ref}: nothing to amend: {signer.address} has not registered it and "
            "it has no OS id to share another brand's registration",
            next_step=NextStep.REGISTER_FACILITY,
        )
    body = dict((own or shared)[-1])
    # The signer's list starts from its own last one, never from another brand's.
    named = own[-1].get("operators", []) if own else []
    added = [kinds.checksum_address(x, "add") for x in add]
    gone = [kinds.checksum_address(x, "remove") for x in remove]
    # A registration that changes nothing would still be signed, anchored and read as a change.
    for given, no_op, state in (
        ("add", [a for a in added if a in named], "is already"),
        ("remove", [a for a in gone if a not in named], "is not"),
    ):
        if no_op:
            raise InputError(
                f"{given}: {no_op[0]} {state} an operator in {signer.address}'s registration "
                f"of facility {ref}"
            )
    body["operators"] = [a for a in dict.fromkeys([*named, *added]) if a not in gone]
    return ledger.record("facility", body, signer)
