"""Integrity checks of single entries: hash, signature, id, inclusion in an anchored root.

Each check is a small object with a name; it returns a CheckResult and never
raises for bad evidence, so a report lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from labourledger.envelope import Domain, SignedEntry
from labourledger.errors import InvalidSignature
from labourledger.merkle import verify_inclusion
from labourledger.verify.results import CheckResult, Outcome

__all__ = [
    "AnchoredRoot",
    "ContentHashMatches",
    "EntryCheck",
    "EntryIdMatches",
    "IncludedInAnchor",
    "InclusionProof",
    "IssuerHeldRole",
    "IssuerOperatesFacility",
    "SignatureMatchesIssuer",
    "SignedBeforeAnchor",
]


@dataclass(frozen=True)
class InclusionProof:
    """An RFC 6962 audit path of one entry in one anchored root."""

    root: bytes
    leaf_index: int
    tree_size: int
    path: Sequence[bytes]


@dataclass(frozen=True)
class AnchoredRoot:
    """What the chain says about a root: who anchored it, when, how many entries."""

    root: bytes
    size: int
    block_number: int
    timestamp: int
    submitter: str
    confirmations: int


class EntryCheck(Protocol):
    """A named check of one entry."""

    @property
    def name(self) -> str:
        """The check's short name, as reports show it."""

    def __call__(self, entry: SignedEntry) -> CheckResult: ...


def _result(check: str, entry: SignedEntry, ok: bool, good: str, bad: str) -> CheckResult:
    return CheckResult(
        check=check,
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        reason=good if ok else bad,
        entry_id="0x" + entry.entry_id.hex(),
    )


@dataclass(frozen=True)
class ContentHashMatches:
    """keccak256(salt ‖ JCS(body)) equals the signed content hash."""

    name: str = "content_hash"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return _result(
            self.name,
            entry,
            entry.content_hash_matches(),
            "body and salt hash to the signed content hash",
            "body or salt was altered: they no longer hash to the signed content hash",
        )


@dataclass(frozen=True)
class EntryIdMatches:
    """The stored entry id is the EIP-712 digest of the signed fields."""

    domain: Domain
    name: str = "entry_id"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return _result(
            self.name,
            entry,
            entry.id_matches(self.domain),
            "entry id is the EIP-712 digest of its fields",
            f"entry id does not match its fields for chain {self.domain.chain_id} / "
            f"contract {self.domain.verifying_contract}",
        )


@dataclass(frozen=True)
class SignatureMatchesIssuer:
    """The signature recovers to the claimed issuer (low-s, v in {27, 28})."""

    domain: Domain
    name: str = "signature"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        try:
            signer = entry.recover(self.domain)
        except InvalidSignature as exc:
            return _result(self.name, entry, False, "", str(exc))
        return _result(
            self.name,
            entry,
            signer == entry.issuer,
            f"signed by the issuer {entry.issuer}",
            f"signature recovers to {signer}, not to the claimed issuer {entry.issuer}",
        )


@dataclass(frozen=True)
class IncludedInAnchor:
    """The entry's audit path leads to a root the contract holds, with the same size,
    at least `min_confirmations` blocks deep. No proof means pending, never verified."""

    proof: InclusionProof | None
    anchored: AnchoredRoot | None
    min_confirmations: int
    name: str = "anchored"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        def fail(reason: str) -> CheckResult:
            return _result(self.name, entry, False, "", reason)

        if self.proof is None:
            return fail("pending: not yet anchored, so not verified (run `labourledger anchor`)")
        root_hex = "0x" + self.proof.root.hex()
        if self.anchored is None:
            return fail(f"root {root_hex} is not anchored on this chain's contract")
        if self.anchored.size != self.proof.tree_size:
            return fail(
                f"proof claims a tree of {self.proof.tree_size} entries, "
                f"the chain anchored {self.anchored.size}"
            )
        included = verify_inclusion(
            entry.entry_id,
            self.proof.leaf_index,
            self.proof.tree_size,
            self.proof.path,
            self.proof.root,
        )
        if not included:
            return fail(f"inclusion proof does not lead to root {root_hex}")
        if self.anchored.confirmations < self.min_confirmations:
            # Pending is not failure: the evidence is in, the chain has not settled yet.
            wait = self.min_confirmations - self.anchored.confirmations
            return CheckResult(
                check=self.name,
                outcome=Outcome.ATTENTION,
                reason=f"pending: anchored in block {self.anchored.block_number}, "
                f"{self.anchored.confirmations} of {self.min_confirmations} confirmations; "
                f"wait {wait} more block{'s' if wait != 1 else ''}, then `labourledger sync`",
                entry_id="0x" + entry.entry_id.hex(),
            )
        return _result(
            self.name,
            entry,
            True,
            f"included in root {root_hex}, anchored in block {self.anchored.block_number}",
            "",
        )


@dataclass(frozen=True)
class IssuerHeldRole:
    """The issuer held a role allowed for the kind at the block of the anchor including it.

    `held` answers whether an account held a role at a block (the contract, asked
    at that block). Pending entries fail: there is no anchor block to judge by.
    """

    roles: tuple[str, ...]
    block: int | None
    held: Callable[[str, str, int], bool]
    name: str = "issuer_role"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        wanted = " or ".join(self.roles)
        if self.block is None:
            return _result(self.name, entry, False, "", "pending: no anchor block to judge by")
        ok = any(self.held(role, entry.issuer, self.block) for role in self.roles)
        return _result(
            self.name,
            entry,
            ok,
            f"issuer held {wanted} at block {self.block}",
            f"issuer {entry.issuer} held no {wanted} role at block {self.block}, "
            "where the entry was anchored",
        )


@dataclass(frozen=True)
class IssuerOperatesFacility:
    """A supplier signs only for its own facilities: the issuer of a self-declaration,
    or of a transformation it signed without a BRAND role, is named among the facility's
    operators by a brand's latest registration of it.

    `operators` maps a facility id to the accounts its registrations name (checksummed).
    """

    operators: Mapping[str, frozenset[str]]
    name: str = "issuer_operates_facility"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        facility = str(entry.body["facility"])
        result = _result(
            self.name,
            entry,
            entry.issuer in self.operators.get(facility, frozenset()),
            f"issuer is an operator of facility {facility}",
            f"issuer {entry.issuer} is not an operator of facility {facility} in any brand's "
            "latest registration of it; a supplier signs only for its own facilities",
        )
        return replace(result, facility=facility)  # reported with the facility it concerns


#: Clock skew allowed between a signer's clock and the anchoring block's timestamp.
SKEW_SECONDS = 900


@dataclass(frozen=True)
class SignedBeforeAnchor:
    """The entry claims to be signed no later than the block that anchored it.

    The anchor is the one timestamp nobody can move: an `issuedAt` after it
    was made up, whoever signed it.
    """

    anchored: AnchoredRoot | None
    name: str = "issued_before_anchor"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        if self.anchored is None:
            return _result(self.name, entry, False, "", "pending: no anchor time to judge by")
        late = entry.issued_at - self.anchored.timestamp
        return _result(
            self.name,
            entry,
            late <= SKEW_SECONDS,
            f"signed {entry.issued_at_iso}, anchored {late * -1} s later",
            f"claims to be signed {entry.issued_at_iso}, {late} s after the block "
            f"{self.anchored.block_number} that anchored it",
        )
