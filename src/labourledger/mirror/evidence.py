"""A workspace's mirror as an `EvidenceSource`: what `verify` reads of a batch recorded or
imported here, and what this workspace's chain says about it."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from labourledger.mirror.store import proof_status
from labourledger.redaction import redact_url
from labourledger.verify.integrity import InclusionProof
from labourledger.verify.source import ChainFacts, Registered, StoredProof

if TYPE_CHECKING:
    from labourledger.chain.ledger_contract import IndexEvent, RoleEvent
    from labourledger.envelope import Domain, SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.mirror.anchors import Trees
    from labourledger.revocations import Revocations
    from labourledger.verify.integrity import AnchoredRoot
    from labourledger.verify.results import CheckResult

__all__ = ["MirrorEvidence"]

#: The projection table and id column of each kind looked up by subject.
_TABLES: dict[str, tuple[str, str]] = {
    "batch": ("batches", "batch_id"),
    "product": ("products", "product_id"),
    "facility": ("facilities", "facility_id"),
}


class MirrorEvidence:
    """The evidence a ledger's mirror holds, read through the ledger (which caches what the
    contract says about roots and admins for the run)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._mirror = ledger.mirror
        # The trees of the roots read, kept for the run: verify reads its proofs a chunk at
        # a time, and a batch anchored under more roots than the mirror keeps rebuilt each
        # tree once a chunk (10,000 facilities under 20 roots: 7.6 s reading proofs).
        self._trees: Trees = {}

    @functools.cached_property
    def chain(self) -> ChainFacts:
        """The workspace's configured chain and contract."""
        cfg = self._ledger.config.chain
        return ChainFacts(
            chain_id=cfg.chain_id,
            contract=cfg.contract,
            deploy_block=cfg.deploy_block,
            confirmations=cfg.confirmations,
            label=redact_url(cfg.url),
            embedded=cfg.is_embedded,
        )

    @property
    def domain(self) -> Domain:
        """The workspace's EIP-712 domain."""
        return self._ledger.domain

    def batch_id(self, ref: str) -> str:
        """A batch id from its 0x id or its lot."""
        return self._ledger.batch_id(ref)

    def walk_upstream(self, batch_id: str, *, on: str) -> list[dict[str, Any]]:
        """The mirror's walk; it cuts only edges whose revocation the authority rules
        accept, whatever rows the revocations table holds."""
        return self._mirror.walk_upstream(batch_id, on=on, counted=self._ledger.revoked)

    def lookup(self, kind: Registered, subjects: Iterable[str]) -> dict[str, dict[str, Any]]:
        """First registrations, from the projections (verify reads bodies from entries)."""
        table, column = _TABLES[kind]
        return self._mirror.lookup(table, column, subjects)

    def timelines(self, subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
        """The mirror's timelines."""
        return self._mirror.timelines(subjects, kind)

    def supplies(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Supply links by supplier."""
        return self._mirror.supplies(facility_ids)

    def entries(self, entry_ids: Sequence[str]) -> dict[str, SignedEntry]:
        """Stored entries."""
        return self._ledger.entries(entry_ids)

    def carried(self) -> list[str]:
        """None: a mirror holds far more than any batch relies on."""
        return []

    def holds(self, entry_ids: Iterable[str]) -> set[str]:
        """Which entries the mirror holds."""
        return self._mirror.held(entry_ids)

    def proofs(self, entry_ids: Iterable[str]) -> dict[str, StoredProof]:
        """Stored proofs of entries whose anchor was sent."""
        roots: dict[str, bytes] = {}  # one bytes object per root, not one per entry
        proofs = {}
        for entry_id, found in self._mirror.proofs_for(
            entry_ids, as_bytes=True, trees=self._trees
        ).items():
            if proof_status(found) == "pending":
                continue
            root = found["anchor"]["root"]
            proof = InclusionProof(
                root=roots.get(root) or roots.setdefault(root, bytes.fromhex(root[2:])),
                leaf_index=found["leaf_index"],
                tree_size=found["tree_size"],
                path=found["path"],
                tree=found["tree"],
            )
            proofs[entry_id] = StoredProof(proof, found["anchor"]["tx_hash"])
        return proofs

    def revocations(self, entry_ids: Iterable[str]) -> Revocations:
        """Stored revocations, judged."""
        return self._ledger.revocations(entry_ids)

    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """The contract's record of `root`."""
        return self._ledger.anchored_root(root)

    @functools.cache  # noqa: B019 - one source serves one verification
    def has_role(self, role: str, account: str, block: int) -> bool:
        """Whether `account` held `role` at `block`."""
        return self._ledger.chain.has_role(role, account, block)

    def role_history(self) -> list[RoleEvent]:
        """Role events since deployment."""
        return self._ledger.role_history()

    def index_events(self, subjects: Iterable[bytes]) -> list[IndexEvent]:
        """`Indexed` events from the deploy block on."""
        return self._ledger.chain.index_events(subjects, self.chain.deploy_block)

    def runtime_code_matches(self) -> bool:
        """Whether the configured contract runs the shipped code."""
        return self._ledger.chain.runtime_code_matches()

    def chain_checks(self) -> list[CheckResult]:
        """None: the workspace's configuration is the verifier's own."""
        return []
