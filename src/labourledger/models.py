"""The typed views the library hands out: an entry with where it stands on chain
(`Ledger.describe`), a proof checked against the contract (`Ledger.proof`), and the
facilities registered here (`Ledger.facilities`, `Ledger.facility`).

Each model renders as the JSON the CLI's `--json`, the web service and bundles print
(`model_dump(mode="json")`). Entry bodies are modelled per kind in `labourledger.kinds`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_serializer,
    model_serializer,
)

from labourledger.audits import AttestationView, AuditView
from labourledger.envelope import Bytes32, SignedEntry
from labourledger.verify.integrity import InclusionProof

__all__ = [
    "Anchor",
    "EntryStatus",
    "EntryView",
    "FacilityRegistration",
    "FacilitySummary",
    "FacilityView",
    "Hex32",
    "Proof",
    "ProofCheck",
    "SupplyLinkView",
]

#: 32 bytes as 0x and 64 hex digits (either case, as other tools may write them).
Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
#: pending (in no anchor on chain yet), submitted (mined), final (deep enough), or reorged
#: (its anchor's block is no longer the chain's, until sync).
EntryStatus = Literal["pending", "submitted", "final", "reorged"]


class Proof(BaseModel):
    """Where an entry sits in its anchored Merkle tree (RFC 6962)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    path: list[Hex32]

    def inclusion(self, root: str) -> InclusionProof:
        """This path up to the anchored `root` (0x hex), as verification checks it."""
        return InclusionProof(
            root=bytes.fromhex(root[2:]),
            leaf_index=self.leaf_index,
            tree_size=self.tree_size,
            path=[bytes.fromhex(h[2:]) for h in self.path],
        )


class Anchor(BaseModel):
    """The on-chain anchor of an entry's Merkle root (a verifier asks the chain again)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    root: Hex32
    tx_hash: Hex32 | None
    block_number: int | None = Field(ge=0)
    chain_id: int
    contract: str


#: Present in an entry's JSON only when set.
_WHEN_SET = ("as_of_block", "status_note")


class EntryView(SignedEntry):
    """An entry as `describe` shows it: the signed entry, its status on chain, its proof
    and anchor once anchored, and the revocations that count against it."""

    status: EntryStatus
    revoked_by: list[str]
    proof: Proof | None
    anchor: Anchor | None
    #: Set when the chain could not be reached: `status` is the mirror's as of this block.
    as_of_block: int | None = None
    #: Why `status` is not simply the mirror's (the chain unreachable, or a reorg).
    status_note: str | None = None

    @model_serializer(mode="wrap")
    def _in_design_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An entry file's shape: the stored fields, the readable signing time, then what this
        # workspace knows of the entry.
        data: dict[str, Any] = handler(self)
        view = {name: data.pop(name) for name in SignedEntry.model_fields if name in data}
        view["issued_at_iso"] = self.issued_at_iso
        for name in _WHEN_SET:
            if data.get(name, 0) is None:
                del data[name]
        return view | data


class ProofCheck(BaseModel):
    """An entry's proof and anchor, checked locally and by the contract (`proof`)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entry_id: Bytes32
    proof: Proof
    anchor: Anchor
    verified: bool
    #: Why the proof does not check (or what the local check says when it does).
    reason: str


class FacilityRegistration(BaseModel):
    """A facility's registration in force (its latest not revoked), as the mirror's
    facilities table holds it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entry_id: Hex32
    facility_id: Hex32
    name: str
    country: str
    address: str
    os_id: str | None
    facility_type: str | None
    tier: int
    worker_count: int | None
    worker_band: str | None
    parent_company: str | None


class FacilitySummary(FacilityRegistration):
    """A facility as `facilities` lists it: its registration in force and the revocations
    of it that count (some only when every registration of the facility is revoked)."""

    revoked_by: list[str]


class SupplyLinkView(BaseModel):
    """A supply link as the mirror holds it: who supplies whom with what, and when."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entry_id: Hex32
    supplier: Hex32
    buyer: Hex32
    material: str
    valid_from: str
    valid_to: str | None


class FacilityView(BaseModel):
    """A facility as `facility` shows it: its registration, every entry about it (bodies
    and salts left out of its JSON), its supply links, audits and attestations."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    facility_id: Hex32
    facility: FacilityRegistration
    entries: list[EntryView]
    links: list[SupplyLinkView]
    audits: list[AuditView]
    attestations: list[AttestationView]

    @field_serializer("entries", mode="wrap")
    def _without_bodies(
        self, entries: list[EntryView], handler: SerializerFunctionWrapHandler
    ) -> list[dict[str, Any]]:
        # The web service shows a facility to anyone: bodies (a grievance's, say) stay out,
        # and so do their salts, without which a withheld body cannot be guessed from its
        # content hash.
        return [{**entry, "body": None, "salt": None} for entry in handler(entries)]
