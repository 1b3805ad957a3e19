"""labourledger: signed, chain-anchored evidence of where a product's labour came from.

The public API is small, and listed in `__all__`: `Ledger` (one workspace: record,
anchor, sync, verify, query), the envelope models (`Entry`, `SignedEntry`, `Domain`,
`sign_entry`), the views its queries return (`EntryView`, `ProofCheck`, `FacilityView`,
`AuditView`, `FindingView`, `AttestationView`, …), `verify_batch` with its `Policy`, the
workspace's `WorkspaceStatus`, the vocabularies in `labourledger.vocabulary` and the
errors in `labourledger.errors`.
The subpackages `chain`, `mirror` and `cli` are internal.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labourledger.audits import (
        AnchorView,
        AttestationView,
        AuditView,
        FindingStep,
        FindingView,
    )
    from labourledger.envelope import Domain, Entry, SignedEntry, sign_entry
    from labourledger.ledger import Ledger
    from labourledger.models import (
        Anchor,
        EntryView,
        FacilityRegistration,
        FacilitySummary,
        FacilityView,
        Proof,
        ProofCheck,
        SupplyLinkView,
    )
    from labourledger.status import WorkspaceStatus, workspace_status
    from labourledger.verify.batch import verify_batch
    from labourledger.verify.policy import Policy

__all__ = [
    "Anchor",
    "AnchorView",
    "AttestationView",
    "AuditView",
    "Domain",
    "Entry",
    "EntryView",
    "FacilityRegistration",
    "FacilitySummary",
    "FacilityView",
    "FindingStep",
    "FindingView",
    "Ledger",
    "Policy",
    "Proof",
    "ProofCheck",
    "SignedEntry",
    "SupplyLinkView",
    "WorkspaceStatus",
    "sign_entry",
    "verify_batch",
    "workspace_status",
]
# The public names are loaded on first use: the CLI imports this package, and the
# ledger's chain and database libraries would otherwise slow every command's start.
_HOME = {
    **dict.fromkeys(
        ("AnchorView", "AttestationView", "AuditView", "FindingStep", "FindingView"),
        "labourledger.audits",
    ),
    "Domain": "labourledger.envelope",
    "Entry": "labourledger.envelope",
    "SignedEntry": "labourledger.envelope",
    "sign_entry": "labourledger.envelope",
    "Ledger": "labourledger.ledger",
    "Anchor": "labourledger.models",
    "EntryView": "labourledger.models",
    "FacilityRegistration": "labourledger.models",
    "FacilitySummary": "labourledger.models",
    "FacilityView": "labourledger.models",
    "Proof": "labourledger.models",
    "ProofCheck": "labourledger.models",
    "SupplyLinkView": "labourledger.models",
    "Policy": "labourledger.verify.policy",
    "WorkspaceStatus": "labourledger.status",
    "workspace_status": "labourledger.status",
    "verify_batch": "labourledger.verify.batch",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # The installed distribution's metadata is the one place the version is written.
        from importlib.metadata import version

        return version("labourledger")
    if name not in _HOME:
        raise AttributeError(f"module 'labourledger' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value
