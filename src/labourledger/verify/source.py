"""What verification reads, and from where: the `EvidenceSource` protocol.

A source hands out evidence (signed entries, proofs, the upstream walk) and what the chain
says about it (anchored roots, roles, the completeness index). It judges nothing except
revocations, which it judges with `labourledger.revocations` (and so `authority`) before
they may cut anything. Two sources implement it: a workspace's mirror
(`labourledger.mirror.evidence`) and a bundle held in memory (`labourledger.verify.bundled`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from labourledger.verify.integrity import AnchoredRoot

if TYPE_CHECKING:
    from labourledger.chain import LedgerChain
    from labourledger.chain.ledger_contract import RoleEvent
    from labourledger.envelope import Domain, SignedEntry
    from labourledger.revocations import Revocations
    from labourledger.verify.completeness import IndexedEntry
    from labourledger.verify.integrity import InclusionProof
    from labourledger.verify.results import CheckResult

__all__ = ["ChainFacts", "EvidenceSource", "Registered", "StoredProof", "anchored_root_on"]

#: The kinds a source looks up by their subject (batch, product or facility id).
Registered = Literal["batch", "product", "facility"]


@dataclass(frozen=True)
class ChainFacts:
    """The chain and contract the evidence is anchored on, as the report names them."""

    chain_id: int
    contract: str
    #: Where reading role grants and index events starts.
    deploy_block: int
    #: How deep an anchor must be before it counts as final.
    confirmations: int
    #: The RPC endpoint, with any credentials redacted.
    label: str
    embedded: bool


@dataclass(frozen=True)
class StoredProof:
    """An entry's inclusion proof, and the transaction that anchored its root (if known)."""

    proof: InclusionProof
    tx_hash: str | None


class EvidenceSource(Protocol):
    """Everything `verify_batch` reads. Ids are 0x lower-case hex strings throughout."""

    @property
    def chain(self) -> ChainFacts:
        """The chain and contract the evidence claims."""

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain entries are signed under."""

    def batch_id(self, ref: str) -> str:
        """A batch id from a 0x id or a reference the source can resolve (a lot)."""

    def walk_upstream(self, batch_id: str, *, on: str) -> list[dict[str, Any]]:
        """Every node upstream of a batch, as `Mirror.walk_upstream` gives them: rows of
        kind, id, parent, via, depth and cycle. Edges whose entry has a revocation that
        counts are not followed; links not valid on `on` (ISO date) neither."""

    def lookup(self, kind: Registered, subjects: Iterable[str]) -> dict[str, dict[str, Any]]:
        """For each subject registered, its first registration's body, with `entry_id`
        and the subject under `batch_id`, `product_id` or `facility_id`."""

    def timelines(self, subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
        """Entries of `kind` about each subject, as `Mirror.timelines` gives them: anchor
        order, then pending ones; absent subjects have none."""

    def supplies(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Supply links by supplier (supplier, buyer, material, validity)."""

    def entries(self, entry_ids: Sequence[str]) -> dict[str, SignedEntry]:
        """The signed entries; an InputError names the first one the source lacks."""

    def carried(self) -> list[str]:
        """Entries the evidence vouches for as a whole, relied on or not (a bundle's): each
        must pass its integrity checks. None for a mirror, which holds everything."""

    def holds(self, entry_ids: Iterable[str]) -> set[str]:
        """Which of `entry_ids` the evidence holds."""

    def proofs(self, entry_ids: Iterable[str]) -> dict[str, StoredProof]:
        """Inclusion proofs of the entries sent for anchoring; pending ones are absent."""

    def revocations(self, entry_ids: Iterable[str]) -> Revocations:
        """The revocations of `entry_ids` the evidence holds, judged by
        `labourledger.revocations`: those that count, and those ignored with the reason."""

    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """What the contract holds for `root`, read from the chain."""

    def has_role(self, role: str, account: str, block: int) -> bool:
        """Whether `account` held `role` at `block`, read from the chain."""

    def role_history(self) -> list[RoleEvent]:
        """Every role grant and revocation since the contract was deployed."""

    def index_events(self, subjects: Iterable[bytes]) -> Sequence[IndexedEntry]:
        """The chain's `Indexed` events under any of `subjects`."""

    def runtime_code_matches(self) -> bool:
        """Whether the contract runs the LabourLedger code this package ships."""

    def chain_checks(self) -> list[CheckResult]:
        """Checks of what the evidence claims about its chain that the chain must confirm
        (a bundle's deploy block); none for a workspace's own configuration."""


def anchored_root_on(chain: LedgerChain, root: bytes) -> AnchoredRoot | None:
    """What the contract on `chain` holds for `root`, with its depth below the head now."""
    record = chain.anchor_of(root)
    if record is None:
        return None
    return AnchoredRoot(
        root=root,
        size=record.size,
        block_number=record.block_number,
        timestamp=record.timestamp,
        submitter=record.submitter,
        confirmations=chain.latest_block() - record.block_number,
    )
