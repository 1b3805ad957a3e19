"""The facade: record, anchor, sync and query one workspace's ledger.

The CLI is a thin layer over this class; so is any script a brand writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from labourledger import (
    anchoring,
    bundling,
    importing,
    opening,
    provenance,
    recording,
    roles,
    suppliers,
    views,
)
from labourledger.anchoring import AnchorResult
from labourledger.chain import LedgerChain
from labourledger.damage import as_model
from labourledger.envelope import Domain, SignedEntry, to_hex
from labourledger.errors import InputError, NextStep, invalid_input
from labourledger.identifiers import is_hex_id
from labourledger.importing import EntriesRefused, FacilityImport, ImportResult, RowsInvalid
from labourledger.kinds import EvidenceRef
from labourledger.mirror import Mirror
from labourledger.mirror import sync as mirror_sync
from labourledger.mirror.evidence import MirrorEvidence
from labourledger.mirror.sync import ChainReads, SyncResult
from labourledger.progress import Progress
from labourledger.recording import EvidenceStore
from labourledger.revocations import held_revocations
from labourledger.verify.batch import verify_batch
from labourledger.verify.integrity import (
    AnchoredRoot,
    InclusionProof,
    check_integrity,
    check_integrity_many,
)
from labourledger.verify.policy import Policy
from labourledger.verify.results import CheckResult
from labourledger.workspace import Config, Workspace

__all__ = [
    "AnchorResult",
    "EntriesRefused",
    "FacilityImport",
    "ImportResult",
    "Ledger",
    "RowsInvalid",
    "SyncResult",
]

log = logging.getLogger(__name__)


class Ledger:
    """One workspace: its keys, mirror and chain, and everything done with them."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.mirror = Mirror(workspace.mirror_url)
        self.evidence = EvidenceStore(workspace.evidence_dir)
        #: What this ledger read from the contract (anchored roots, admin roles).
        self.reads = ChainReads(lambda: self.chain)

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Ledger:
        """Open an initialised workspace."""
        return cls(Workspace.open(root))

    #: Create a workspace, migrate its mirror and connect its chain (see `opening.create`).
    init = classmethod(opening.create)

    @cached_property
    def chain(self) -> LedgerChain:
        """The chain, connected on first use (signing alone never needs it)."""
        return opening.connect(self.workspace)

    @property
    def config(self) -> Config:
        """The workspace's config."""
        return self.workspace.config

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain every entry of this workspace is signed for."""
        cfg = self.config.chain
        if not cfg.contract:
            raise InputError("no contract configured", next_step=NextStep.DEPLOY_CONTRACT)
        try:
            return Domain(chain_id=cfg.chain_id, verifying_contract=cfg.contract)
        except ValidationError as exc:  # a config.toml edited by hand
            raise invalid_input(exc, f"{self.workspace.config_path} [chain]") from None

    def deploy(self, admin: LocalAccount) -> str:
        """Deploy the LabourLedger contract with `admin` as DEFAULT_ADMIN and remember it."""
        result = self.chain.deploy(admin)
        cfg = self.config.chain
        assert self.chain.contract_address is not None
        cfg.contract = self.chain.contract_address
        cfg.deploy_block = result.block_number
        self.workspace.save()
        return cfg.contract

    # -- the concerns it composes --------------------------------------------
    # Each is a module of functions that take the ledger first; bound here, they are its
    # methods, so scripts and the CLI keep one object to call.

    sign = recording.sign
    record = recording.record
    record_many = recording.record_many
    store = recording.store
    write_entries = recording.write_entries
    import_file = importing.import_file
    import_files = importing.import_files
    import_facilities = importing.import_facilities
    facility_id = suppliers.facility_id
    facilities = suppliers.facilities
    facility = suppliers.facility
    operators = suppliers.operators
    change_operators = suppliers.change_operators
    register_facility = suppliers.register_facility
    product_id = provenance.product_id
    batch_id = provenance.batch_id
    registered_batch_id = provenance.registered_batch_id
    trace = provenance.trace
    trace_with_audits = provenance.trace_with_audits
    describe = views.describe
    describe_many = views.describe_many
    proof = views.proof
    stored_proof = views.stored_proof
    stored_proofs = views.stored_proofs
    audit = views.audit
    audits_of = views.audits_of
    audits = views.audits
    attestations = views.attestations
    attestations_of = views.attestations_of
    grant_role = roles.grant_role
    revoke_role = roles.revoke_role
    role_members = roles.role_members
    role_history = roles.role_history
    roles_of = roles.roles_of

    def store_evidence(self, path: Path) -> EvidenceRef:
        """Keep a copy of an evidence file in the workspace (see `EvidenceStore`)."""
        return self.evidence.store(path)

    def evidence_staged(self) -> AbstractContextManager[None]:
        """Evidence stored within the block is deleted again if the block fails."""
        return self.evidence.staged()

    # -- revocations -------------------------------------------------------

    def revoked(self, entry_ids: Iterable[str]) -> dict[str, list[str]]:
        """Which of `entry_ids` were revoked, and by which revocation entries (only those
        that count: see `revocations`)."""
        return self.revocations(entry_ids).counted

    #: The revocations of some entries held here, judged (see `revocations`).
    revocations = held_revocations

    # -- verification and bundles -----------------------------------------

    def policy(self, **overrides: Any) -> Policy:
        """The workspace's policy, with any non-None `overrides` (flags of one run)."""
        return Policy.from_config(self.config.policy, self.workspace.root, **overrides)

    def verify(
        self,
        batch: str,
        policy: Policy | None = None,
        *,
        progress: Progress | None = None,
        all_checks: bool = False,
        say: Callable[[NextStep], str] | None = None,
    ) -> dict[str, Any]:
        """Verify a batch end to end (`verify_batch` over this mirror); the report's `verdict`
        is PASS, ATTENTION or FAIL, and its reasons end with their next steps as `say`
        words them."""
        report = verify_batch(
            MirrorEvidence(self),
            batch,
            policy or self.policy(),
            progress=progress,
            all_checks=all_checks,
        )
        return report.to_dict(say)

    export_bundle = bundling.export_bundle
    #: An in-memory ledger holding just a bundle's entries (see `bundling.from_bundle`).
    from_bundle = classmethod(bundling.from_bundle)

    # -- health ------------------------------------------------------------

    def doctor(self, *, quick: bool = False, progress: Progress | None = None) -> list[CheckResult]:
        """What state the workspace is in, re-verified from scratch (see `health`)."""
        from labourledger.health import doctor

        return doctor(self, quick=quick, progress=progress)

    # -- anchoring ---------------------------------------------------------

    def anchor(
        self, sender: LocalAccount, *, progress: Progress | None = None
    ) -> list[AnchorResult]:
        """Anchor every pending entry, in as few Merkle batches as gas allows (usually one); see
        `labourledger.anchoring`."""
        return anchoring.anchor(self, sender, progress)

    # -- queries -----------------------------------------------------------

    def entry(self, entry_id: str) -> SignedEntry:
        """A stored entry (InputError naming the id when it is unknown)."""
        return self.entries([entry_id])[entry_id.lower()]

    def _unknown_entry(self, entry_id: str) -> InputError:
        """Why `entry_id` names no entry here: not an id at all, the id of something else
        (a batch, a facility, a product), or an entry this mirror does not hold yet."""
        if not is_hex_id(entry_id):
            return InputError(f"entry {entry_id}: not an entry id (0x and 64 hex digits)")
        if other := suppliers.held_as(self, entry_id.lower()):
            return InputError(f"entry {entry_id}: the id of {other} here, not of an entry")
        return InputError(
            f"entry {entry_id}: not in this workspace's mirror", next_step=NextStep.IMPORT_ENTRY
        )

    def entries(self, entry_ids: Sequence[str]) -> dict[str, SignedEntry]:
        """Stored entries keyed by lower-case id; InputError naming the first unknown one."""
        rows = self.mirror.get_entries(entry_ids)
        for entry_id in entry_ids:
            if entry_id.lower() not in rows:
                raise self._unknown_entry(entry_id)
        try:
            return {i: SignedEntry.model_validate(row) for i, row in rows.items()}
        except ValidationError:
            # Only a row changed outside labourledger fails here: name the first.
            for entry_id, row in rows.items():
                as_model(SignedEntry, row, table="entries", key=entry_id)
            raise

    # -- integrity ---------------------------------------------------------

    def forget_chain_reads(self) -> None:
        """Drop what was read from the contract, for a ledger that outlives a chain head."""
        self.reads.forget()

    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """What the contract holds for `root`, with its current depth; cached per ledger."""
        return self.reads.anchored_root(root)

    def check_integrity(
        self, entry: SignedEntry, proof: InclusionProof | None
    ) -> list[CheckResult]:
        """Hash, id, signature and anchoring checks of one entry, re-done from scratch."""
        anchored = self.anchored_root(proof.root) if proof else None
        return check_integrity(entry, proof, anchored, self.domain, self.config.chain.confirmations)

    def check_integrity_many(
        self, items: Sequence[tuple[SignedEntry, InclusionProof | None]]
    ) -> Iterator[list[CheckResult]]:
        """`check_integrity` of each (entry, proof), in order; on every core for many."""
        return check_integrity_many(
            items, self.domain, self.config.chain.confirmations, self.anchored_root
        )

    def check_entry(self, entry_id: str) -> list[CheckResult]:
        """Integrity checks of a stored entry, against the chain."""
        entry = self.entry(entry_id)
        return self.check_integrity(entry, self.stored_proof(to_hex(entry.entry_id)))

    # -- sync --------------------------------------------------------------

    def sync(self, *, progress: Progress | None = None) -> SyncResult:
        """Read the chain's events into the mirror; see `labourledger.mirror.sync`."""
        return mirror_sync.sync(self, progress)
