"""Importing: facilities from an Open Supply Hub CSV, and signed entry files from other
parties, each verified against this workspace's chain and stored whole or not at all."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from labourledger.authority import (
    issue_refusal,
    may_update_grievance,
    speaks_for_facility,
)
from labourledger.envelope import HashSigner, SignedEntry, to_hex
from labourledger.errors import InputError, NextStep, invalid_input
from labourledger.exchange import entry_from_file, read_entry_file, shape_problems
from labourledger.facility_csv import RowError, read_facility_csv
from labourledger.models import Anchor, Proof
from labourledger.progress import Progress
from labourledger.recording import CarriedProof
from labourledger.revoking import refusal_now
from labourledger.suppliers import amendments
from labourledger.verify.integrity import IncludedInAnchor

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "EntriesRefused",
    "FacilityImport",
    "ImportResult",
    "RowsInvalid",
    "eligibility",
    "import_facilities",
    "import_file",
    "import_files",
]


@dataclass(frozen=True)
class FacilityImport:
    """Facilities recorded from a CSV, the rows skipped as invalid, and the lines of the
    rows not recorded because the signer's registrations say them already."""

    entries: list[SignedEntry]
    errors: list[RowError]
    unchanged: list[int] = field(default_factory=list)


class RowsInvalid(InputError):
    """A CSV with invalid rows; nothing from it was stored."""

    def __init__(self, path: Path, errors: Sequence[RowError]) -> None:
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(
            f"{path}: {len(errors)} invalid row(s), nothing imported:\n{lines}",
            next_step=NextStep.SKIP_INVALID,
        )
        self.errors = list(errors)


@dataclass(frozen=True)
class NotOperator:
    """An entry stored that `verify` will not count (ATTENTION) until a brand names its
    issuer as an operator of the facility it concerns (`suppliers.change_operators`)."""

    #: The entry's place in the file, kind and id, as "entry 2 (audit 0x…)".
    entry: str
    issuer: str
    facility: str

    def __str__(self) -> str:
        return (
            f"{self.entry}: {self.issuer} is not an operator of facility {self.facility}, "
            "so verify will not count it (ATTENTION)"
        )


@dataclass(frozen=True)
class ImportResult:
    """Entries read from a signed entry file: all verified; `new` of them were not stored yet."""

    entries: list[SignedEntry]
    new: int
    warnings: list[NotOperator] = field(default_factory=list)


class EntriesRefused(InputError):
    """A signed entry file that failed verification; nothing from it was stored."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: refused, nothing imported:\n{lines}")
        self.problems = list(problems)


def import_facilities(
    ledger: Ledger,
    path: Path,
    signer: HashSigner,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> FacilityImport:
    """Register every facility of an Open Supply Hub CSV, in one transaction.

    Any invalid row refuses the whole file (RowsInvalid, listing each row)
    unless `skip_invalid`, in which case the valid rows are stored and the
    invalid ones returned. A row the signer's registrations say already is not signed
    again, and a CSV without an operators column keeps the operators they name
    (`suppliers.amendments`).
    """
    rows = read_facility_csv(path)
    if rows.errors and not skip_invalid:
        raise RowsInvalid(path, rows.errors)
    if not rows.bodies:
        return FacilityImport(entries=[], errors=rows.errors)
    found = amendments(ledger, rows.bodies, signer.address, keep_operators=not rows.names_operators)
    twice = [
        RowError(
            rows.lines[place],
            f"the facility of line {rows.lines[earlier]} again, with other values: keep one row",
        )
        for place, earlier in found.conflicts
    ]
    if twice and not skip_invalid:
        raise RowsInvalid(path, twice)
    entries = ledger.record_many("facility", found.bodies, signer, progress=progress)
    unchanged = [rows.lines[place] for place in found.unchanged]
    errors = sorted([*rows.errors, *twice], key=lambda e: e.line)
    return FacilityImport(entries=entries, errors=errors, unchanged=unchanged)


def import_file(ledger: Ledger, path: Path) -> ImportResult:
    """Verify every entry of a signed entry file against this workspace's chain, then
    store them all (as anchored, those that carry a proof checked against the chain; the
    rest as pending), or refuse the file (EntriesRefused) storing nothing."""
    return import_files(ledger, [path])[0]


def import_files(ledger: Ledger, paths: Sequence[Path]) -> list[ImportResult]:
    """`import_file` of several files as one: every entry of every file verified (a later
    file's entries may rest on an earlier one's), then all stored in one transaction, or
    the first file refused (EntriesRefused) and nothing from any of them stored."""
    checked = []
    earlier: list[SignedEntry] = []
    for path in paths:
        entries, carried = _checked_file(ledger, path, earlier)
        earlier += entries
        checked.append((entries, carried))
    seen = ledger.mirror.held(e.id_hex for e in earlier)
    ledger.store(earlier, source="import", proofs=[c for _, carried in checked for c in carried])
    results = []
    for entries, _ in checked:
        new = {e.id_hex for e in entries} - seen
        seen |= new
        results.append(ImportResult(entries, len(new), _not_operators(ledger, entries)))
    return results


def _checked_file(
    ledger: Ledger, path: Path, earlier: Sequence[SignedEntry]
) -> tuple[list[SignedEntry], list[CarriedProof]]:
    """The entries of a signed entry file and the proofs they carry, each verified against
    this workspace's chain (`earlier`: entries about to be stored with them); else
    EntriesRefused listing every problem."""
    file = read_entry_file(path)
    domain = ledger.domain
    if (file.chain_id, file.contract.lower()) != (
        domain.chain_id,
        domain.verifying_contract.lower(),
    ):
        raise EntriesRefused(
            path,
            [
                f"signed for chain {file.chain_id}, contract {file.contract}; this workspace "
                f"uses chain {domain.chain_id}, contract {domain.verifying_contract}"
            ],
        )
    entries: list[SignedEntry] = []
    known = list(earlier)  # and this file's entries, as they are read
    problems: list[str] = []
    carried: list[CarriedProof] = []
    for number, raw in enumerate(file.entries, 1):
        try:
            entry = entry_from_file(raw)
        except InputError as exc:
            problems.append(f"entry {number}: malformed ({exc})")
            continue
        reasons = shape_problems(entry, domain) or eligibility(ledger, entry, known)
        if not reasons and raw.get("proof") and raw.get("anchor"):
            found, reasons = _carried(ledger, entry, raw["proof"], raw["anchor"])
            carried += [found] if found else []
        label = f"entry {number} ({entry.kind} {to_hex(entry.entry_id)})"
        problems += [f"{label}: {reason}" for reason in reasons]
        entries.append(entry)
        known.append(entry)
    if problems:
        raise EntriesRefused(path, problems)
    return entries, carried


def _carried(
    ledger: Ledger, entry: SignedEntry, proof: Any, anchor: Any
) -> tuple[CarriedProof | None, list[str]]:
    """The proof and anchor that came with an entry, or why they do not show it anchored
    on this chain."""
    try:
        found = CarriedProof(
            entry.id_hex, Proof.model_validate(proof), Anchor.model_validate(anchor)
        )
    except ValidationError as exc:
        # The model's name (Proof or Anchor) says which of the two is at fault.
        problem = invalid_input(exc, exc.title.lower())
        return None, [f"its proof or anchor is malformed: {problem}"]
    if found.anchor.tx_hash is None:
        # The transaction hash is stored as carried: it must at least be one.
        return None, ["its anchor names no tx_hash"]
    checked = found.proof.inclusion(found.anchor.root)
    result = IncludedInAnchor(checked, ledger.anchored_root(checked.root), 0)(entry)
    return found, [] if result.passed else [f"its proof does not check: {result.reason}"]


def _not_operators(ledger: Ledger, entries: Sequence[SignedEntry]) -> list[NotOperator]:
    """Supplier-signed entries for a facility whose registrations do not name the signer."""
    warnings = []
    operators = functools.cache(ledger.operators)
    for number, entry in enumerate(entries, 1):
        held_brand = functools.partial(ledger.chain.has_role, "BRAND", entry.issuer)
        facility = str(entry.body.get("facility"))
        if speaks_for_facility(entry.kind, entry.body, held_brand) and (
            entry.issuer not in operators(facility)
        ):
            label = f"entry {number} ({entry.kind} {to_hex(entry.entry_id)})"
            warnings.append(NotOperator(label, entry.issuer, facility))
    return warnings


def eligibility(
    ledger: Ledger, entry: SignedEntry, earlier: Sequence[SignedEntry] = ()
) -> list[str]:
    """Why the issuer may not issue this entry, judged by the contract's roles now (with
    `earlier` entries of the same file taken as held); empty when it may."""
    if entry.kind == "revocation":
        target_id = str(entry.body["target"])
        issuer = _issuer_of(ledger, target_id, earlier)
        refusal = refusal_now(ledger, entry.issuer, target_id, issuer)
        if issuer is None:
            refusal = f"{refusal}: import it first"
        return [refusal] if refusal else []
    if entry.kind == "grievance_update":
        grievance = entry.body["grievance"]
        channel = _issuer_of(ledger, grievance, earlier)
        if channel is None:
            return [f"updates {grievance}, which this workspace does not hold: import it first"]
        auditor = functools.partial(ledger.chain.has_role, "AUDITOR", entry.issuer)
        if not may_update_grievance(entry.issuer, channel, auditor):
            return [f"only the channel that recorded it ({channel}) or an AUDITOR may update it"]
    refusal = issue_refusal(
        entry.kind,
        entry.body,
        entry.issuer,
        lambda role: ledger.chain.has_role(role, entry.issuer),
    )
    return [refusal] if refusal else []


def _issuer_of(ledger: Ledger, entry_id: str, earlier: Sequence[SignedEntry]) -> str | None:
    """Who issued an entry held here, or earlier in the file being imported."""
    for e in earlier:
        if to_hex(e.entry_id) == entry_id:
            return e.issuer
    row = ledger.mirror.get_entry(entry_id)
    return str(row["issuer"]) if row else None
