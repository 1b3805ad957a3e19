"""A batch's evidence as a bundle: written from a workspace's mirror, verified from its file,
and opened again as an in-memory ledger holding just its entries (for what reads a ledger
rather than a source, such as a grievance receipt check)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger import recording
from labourledger.bundle import Bundle, BundleEntry
from labourledger.errors import NextStep, WrongChain
from labourledger.mirror.evidence import MirrorEvidence
from labourledger.mirror.store import ENTRY_FIELDS, IN_MEMORY
from labourledger.verify.evidence import collect_evidence
from labourledger.workspace import ChainConfig, Config, Workspace

if TYPE_CHECKING:
    from labourledger.chain import LedgerChain
    from labourledger.ledger import Ledger
    from labourledger.progress import Progress

__all__ = ["export_bundle", "from_bundle", "verify_bundle", "write_bundle"]


def export_bundle(ledger: Ledger, batch: str) -> Bundle:
    """Everything a verifier needs besides chain access: every entry the verdict depends
    on and every revocation of them that counts, with bodies, salts, signatures, proofs
    and anchors."""
    evidence = collect_evidence(MirrorEvidence(ledger), ledger.registered_batch_id(batch))
    revocations = ledger.revoked(evidence.entry_ids)
    ids = evidence.entry_ids + [r for rs in revocations.values() for r in rs]
    cfg = ledger.config.chain
    return Bundle(
        chain_id=cfg.chain_id,
        contract=cfg.contract,
        deploy_block=cfg.deploy_block,
        batch=evidence.trace["batch"],
        entries=[
            BundleEntry.model_validate(view, from_attributes=True)
            for view in ledger.describe_many(ids)
        ],
    )


def write_bundle(ledger: Ledger, batch: str, path: Path) -> Bundle:
    """Write a batch's bundle (`export_bundle`) to `path` as JSON, whole or not at all."""
    from labourledger.exchange import write_output

    bundle = export_bundle(ledger, batch)
    write_output(path, bundle.model_dump_json(indent=2) + "\n")
    return bundle


def verify_bundle(
    bundle: Bundle,
    chain: LedgerChain,
    *,
    progress: Progress | None = None,
    all_checks: bool = False,
    say: Callable[[NextStep], str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Verify a bundle's batch against `chain`, as `Ledger.verify` does a workspace's. A
    bundle carries no policy: the default one, with any non-None `overrides` (flags of one
    run)."""
    from labourledger.verify.batch import verify_batch
    from labourledger.verify.bundled import BundleEvidence
    from labourledger.verify.policy import Policy

    source = BundleEvidence(bundle, chain)
    policy = Policy(**{k: v for k, v in overrides.items() if v is not None})
    report = verify_batch(source, bundle.batch, policy, progress=progress, all_checks=all_checks)
    return report.to_dict(say)


def from_bundle(cls: type[Ledger], bundle: Bundle, chain: LedgerChain) -> Ledger:
    """A ledger in memory (no workspace, no database file) holding just a bundle's
    entries and proofs, checked against `chain` (whose contract must be the bundle's)."""
    if chain.chain_id != bundle.chain_id:
        raise WrongChain(bundle.chain_id, chain.label, chain.chain_id)
    chain.attach(bundle.contract)
    config = Config(
        chain=ChainConfig(
            url=chain.label,
            chain_id=chain.chain_id,
            contract=bundle.contract,
            confirmations=0 if chain.is_embedded else 12,
            deploy_block=bundle.deploy_block,
        ),
        mirror_url=IN_MEMORY,
    )
    ledger = cls(Workspace(Path("bundle"), config))
    ledger.__dict__["chain"] = chain
    ledger.mirror.upgrade()
    entries = [
        {k: v for k, v in e.signed().to_json_dict().items() if k in ENTRY_FIELDS}
        | {"chain_id": chain.chain_id, "contract": bundle.contract}
        for e in bundle.entries
    ]
    carried = [
        recording.CarriedProof(e.id_hex, e.proof, e.anchor)
        for e in bundle.entries
        if e.proof and e.anchor
    ]
    with ledger.mirror.transaction() as session:
        ledger.mirror.add_entries(session, entries, source="bundle")
        recording.add_proofs(ledger, session, carried)
    return ledger
