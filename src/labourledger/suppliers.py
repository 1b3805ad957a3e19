"""Suppliers: the facilities registered in a workspace, the registration in force of each,
their operators, and the export of their Open Supply Hub CSV (`facility_csv` reads and
writes the rows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger import kinds
from labourledger.damage import as_model
from labourledger.envelope import to_hex
from labourledger.errors import InputError, NextStep, a_kind
from labourledger.facility_csv import facility_row, write_facility_csv
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
    "Amendments",
    "amendments",
    "change_operators",
    "export_facility_csv",
    "facilities",
    "facility",
    "facility_id",
    "held_as",
    "operators",
    "register_facility",
]


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
        try:
            return to_hex(facility_id_from_os_id(ref))
        except InputError as exc:  # named as what the user gave: a facility, not an os_id
            detail = str(exc).removeprefix("os_id: ")
            raise InputError(f"facility {ref}: not an OS id ({detail}) nor a 0x id") from None
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
        return f"{a_kind(str(entry['kind']))} entry"
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
    """Registered facilities, each as its registration in force says (`_in_force`), with
    the revocations of that registration, filtered on what it says."""
    if tier is not None and not 1 <= tier <= 4:
        raise InputError(f"tier: expected 1 to 4, got {tier}")
    if country is not None:
        country = validate_country(country)
    if facility_type is not None and facility_type not in tuple(FacilityType):
        raise InputError(
            f"facility_type: {facility_type!r} is not one of: {', '.join(FacilityType)}"
        )
    found = [
        as_model(FacilitySummary, row, table="facilities", key=row["entry_id"])
        for row in _in_force(ledger, ledger.mirror.registrations())
        if country in (None, row["country"])
        and tier in (None, row["tier"])
        and facility_type in (None, row["facility_type"])
    ]
    return sorted(found, key=lambda f: (f.tier, f.country, f.name))


def _in_force(ledger: Ledger, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of registration `rows` in recording order, each facility's in force: its latest not
    revoked, or its latest if all are (listed as revoked), each with `revoked_by`. A
    registration amends the earlier ones, and withdrawing one leaves those standing."""
    revoked = ledger.revoked(r["entry_id"] for r in rows)
    current: dict[str, dict[str, Any]] = {}
    for row in rows:
        held = current.get(row["facility_id"])
        if held is None or row["entry_id"] not in revoked or held["entry_id"] in revoked:
            current[row["facility_id"]] = row
    return [r | {"revoked_by": revoked.get(r["entry_id"], [])} for r in current.values()]


def facility(ledger: Ledger, ref: str) -> FacilityView:
    """A facility: its registration in force, every entry about it with status, and its
    links."""
    fid = facility_id(ledger, ref)
    found = _in_force(ledger, ledger.mirror.registrations([fid]))
    if not found:
        raise InputError(
            f"facility {ref}: not registered here", next_step=NextStep.REGISTER_FACILITY
        )
    [row] = found
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
    #: Bodies that register a facility an earlier body of the list registers otherwise:
    #: (place, the earlier's place). Neither wins silently.
    conflicts: list[tuple[int, int]]


def amendments(
    ledger: Ledger, bodies: Sequence[dict[str, Any]], issuer: str, *, keep_operators: bool
) -> Amendments:
    """`bodies` less those `issuer`'s latest registration of their facility here (not
    revoked; pending counts) or an earlier body of the list says already (importing the
    same list again signs nothing new), and less those an earlier body contradicts. With
    `keep_operators` (a list without an operators column), each keeps the operators that
    registration names, so a facility registered again from such a list keeps the
    suppliers that speak for it."""
    parsed = [kinds.parse_body("facility", b) for b in bodies]
    ids = [to_hex(kinds.subject_for("facility", p, issuer=issuer)) for p in parsed]
    found = ledger.mirror.timelines(ids, "facility")
    revoked = ledger.revoked(r["entry_id"] for rows in found.values() for r in rows)
    latest = {}  # each facility's latest own body here, and that body parsed
    for facility, rows in found.items():
        own = [r["body"] for r in rows if r["issuer"] == issuer and r["entry_id"] not in revoked]
        if own:
            latest[facility] = (own[-1], kinds.parse_body("facility", own[-1]))
    changed, unchanged, conflicts = [], [], []
    listed: dict[str, tuple[int, Any]] = {}  # the first place of each facility in the list
    for place, (facility, body, model) in enumerate(zip(ids, bodies, parsed, strict=True)):
        last, said = latest.get(facility, (None, None))
        named = last.get("operators", []) if last and keep_operators else []
        if named:
            body = {**body, "operators": named}
            model = kinds.parse_body("facility", body)
        if facility in listed:  # the list names it again: the same, or otherwise
            earlier, first = listed[facility]
            if first == model:
                unchanged.append(place)
            else:
                conflicts.append((place, earlier))
            continue
        listed[facility] = (place, model)
        if said == model:
            unchanged.append(place)
        else:
            changed.append(body)
    return Amendments(changed, unchanged, conflicts)


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
