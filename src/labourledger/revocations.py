"""Which revocations count: signed, intact, anchored where they claim to be, and issued by
the target's issuer or an admin (`labourledger.authority`). The others are ignored, each
with the reason, so that no key with a role, and no one editing a bundle, can withdraw
someone else's evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from labourledger.authority import IgnoredRevocation, revocation_refusal
from labourledger.envelope import Domain, SignedEntry, to_hex
from labourledger.verify.integrity import (
    AnchoredRoot,
    ContentHashMatches,
    EntryCheck,
    EntryIdMatches,
    IncludedInAnchor,
    InclusionProof,
    SignatureMatchesIssuer,
)

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["RevocationFacts", "Revocations", "held_revocations", "judge_revocations"]


@dataclass(frozen=True)
class RevocationFacts:
    """What judging revocations reads: the entries, proofs and anchors, and the chain's roles.

    `held_admin(account, block)` asks the contract at `block` (None: the latest block).
    """

    domain: Domain
    entries: Mapping[str, SignedEntry]
    proofs: Mapping[str, InclusionProof]
    anchored_root: Callable[[bytes], AnchoredRoot | None]
    held_admin: Callable[[str, int | None], bool]


@dataclass
class Revocations:
    """The revocations of some entries: those that count, by target, and those ignored."""

    counted: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[IgnoredRevocation] = field(default_factory=list)


def _problem(revocation: SignedEntry, target: str, facts: RevocationFacts) -> str | None:
    checks: list[EntryCheck] = [
        ContentHashMatches(),
        EntryIdMatches(facts.domain),
        SignatureMatchesIssuer(facts.domain),
    ]
    for check in checks:
        result = check(revocation)
        if not result.passed:
            return result.reason
    proof = facts.proofs.get(to_hex(revocation.entry_id))
    block = None
    if proof is not None:
        anchored = facts.anchored_root(proof.root)
        included = IncludedInAnchor(proof, anchored, 0)(revocation)
        if not included.passed or anchored is None:
            return included.reason
        block = anchored.block_number
    found = facts.entries.get(target)
    return revocation_refusal(
        revocation.issuer,
        target,
        found.issuer if found else None,
        lambda: facts.held_admin(revocation.issuer, block),
    )


def judge_revocations(found: Mapping[str, Iterable[str]], facts: RevocationFacts) -> Revocations:
    """Judge the revocations `found` (revocation ids by target id): a revocation counts when
    its hash, id and signature check, its proof (if it has one) leads to an anchored root,
    and its signer is the target's issuer or held ADMIN at the anchor block."""
    judged = Revocations()
    for target, revocation_ids in found.items():
        for revocation_id in revocation_ids:
            problem = _problem(facts.entries[revocation_id], target, facts)
            if problem is None:
                judged.counted.setdefault(target, []).append(revocation_id)
            else:
                judged.ignored.append(IgnoredRevocation(revocation_id, target, problem))
    return judged


def held_revocations(ledger: Ledger, entry_ids: Iterable[str]) -> Revocations:
    """The revocations of `entry_ids` held in `ledger`'s mirror, judged against its chain:
    those that count, and those ignored with the reason."""
    found = ledger.mirror.revocations(entry_ids)
    if not found:
        return Revocations()
    revocation_ids = [r for rs in found.values() for r in rs]
    rows = ledger.mirror.get_entries([*revocation_ids, *found])
    facts = RevocationFacts(
        domain=ledger.domain,
        entries={i: SignedEntry.model_validate(row) for i, row in rows.items()},
        proofs=ledger.stored_proofs(revocation_ids),
        anchored_root=ledger.anchored_root,
        held_admin=ledger.reads.held_admin,
    )
    return judge_revocations(found, facts)
