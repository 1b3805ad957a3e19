"""Nothing left out: what the chain's completeness index says exists, against the evidence.

Audits, finding updates, revocations, grievances and transformations are anchored with an
`Indexed(subject, entryId)` event (`labourledger.index`). For every upstream facility, every
lot of the trace, every audit and grievance relied on, and every entry relied on (for its
revocations), the verifier reads those events with chain access alone: an indexed entry the
evidence does not hold fails its facility, naming the entry, its block and who anchored it;
a revocation of a relied-on entry that the evidence lacks is applied from the chain alone
when whoever anchored it may revoke the target (its issuer, or an admin at that block), and
fails otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from labourledger.envelope import to_hex
from labourledger.index import revocation_subject
from labourledger.verify.results import CheckResult, Outcome

__all__ = ["IndexedEntry", "Missing", "index_subjects", "missing_from_evidence"]


class IndexedEntry(Protocol):
    """One `Indexed` event as the chain reports it (`labourledger.chain.IndexEvent`)."""

    @property
    def subject(self) -> bytes: ...
    @property
    def entry_id(self) -> bytes: ...
    @property
    def submitter(self) -> str: ...
    @property
    def block_number(self) -> int: ...


@dataclass
class Missing:
    """What the index shows that the evidence lacks: failed checks, and revocations
    applied from the chain alone (target id to the revocation ids)."""

    results: list[CheckResult] = field(default_factory=list)
    revoked: dict[str, list[str]] = field(default_factory=dict)


def _bytes(entry_id: str) -> bytes:
    return bytes.fromhex(entry_id.removeprefix("0x"))


def index_subjects(
    facilities: Collection[str],
    relied_on: Mapping[str, str | None],
    parents: Mapping[str, str],
    lots: Mapping[str, str | None],
) -> dict[bytes, tuple[str | None, str | None]]:
    """Every subject to read, with the facility it concerns and, for a revocation subject,
    the target entry. `relied_on` maps each entry the verdict depends on to its facility
    (None for the batch itself); `parents` are the audits and grievances relied on, with
    their facility (their updates are indexed under them); `lots` are the trace's batches,
    with their facility when known (transformations are indexed under the lot they made)."""
    subjects: dict[bytes, tuple[str | None, str | None]] = {
        _bytes(f): (f, None) for f in facilities
    }
    subjects |= {_bytes(b): (f, None) for b, f in lots.items()}
    subjects |= {_bytes(p): (f, None) for p, f in parents.items()}
    subjects |= {
        revocation_subject(_bytes(entry_id)): (facility, entry_id)
        for entry_id, facility in relied_on.items()
    }
    return subjects


def missing_from_evidence(
    events: Sequence[IndexedEntry],
    subjects: Mapping[bytes, tuple[str | None, str | None]],
    held: Collection[str],
    target_issuer: Callable[[str], str],
    held_admin: Callable[[str, int], bool],
) -> Missing:
    """Compare the index with `held` (every entry id the evidence holds)."""
    missing = Missing()
    for event in events:
        entry_id = to_hex(event.entry_id)
        if entry_id in held or event.subject not in subjects:
            continue
        facility, target = subjects[event.subject]
        where = f"block {event.block_number}, anchored by {event.submitter}"
        if target is not None:
            issuer = target_issuer(target)
            if event.submitter.lower() == issuer.lower() or held_admin(
                event.submitter, event.block_number
            ):
                missing.revoked.setdefault(target, []).append(f"{entry_id} (on chain, {where})")
                continue
            reason = (
                f"revocation {entry_id} of {target} ({where}) is indexed on chain but missing "
                "from the evidence"
            )
        else:
            reason = (
                f"indexed entry {entry_id} ({where}) is missing from the evidence: it was "
                "left out, or not imported here"
            )
        missing.results.append(
            CheckResult("complete", Outcome.FAIL, reason, entry_id=entry_id, facility=facility)
        )
    return missing
