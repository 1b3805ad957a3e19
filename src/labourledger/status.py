"""A workspace's state at a glance: its chain, contract and mirror, entries pending and
anchored, and the roles its local keys hold (what `labourledger status` shows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from labourledger.redaction import redact_url

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["KeyRoles", "WorkspaceStatus", "workspace_status"]


class KeyRoles(BaseModel):
    """A key held in the workspace and the roles its address holds on the contract now."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    address: str
    roles: list[str]


class WorkspaceStatus(BaseModel):
    """Where a workspace anchors and mirrors its entries, and how far it has got."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    #: "embedded", or the JSON-RPC URL with any credentials hidden.
    chain: str
    chain_id: int
    contract: str | None
    confirmations: int
    #: The mirror's URL with any password hidden.
    mirror: str
    pending: int
    anchored: int
    last_synced_block: int | None
    #: Anchors whose block the chain has replaced since the last sync (not final until sync).
    reorged_anchors: int = 0
    #: Set when the chain could not be reached: the mirror's word holds as of this block.
    as_of_block: int | None = None
    #: None when roles were not asked for (they cost a contract call per key).
    keys: list[KeyRoles] | None = None

    @property
    def embedded(self) -> bool:
        """Whether the workspace anchors on its own development chain."""
        return self.chain == "embedded"

    def to_json(self) -> dict[str, object]:
        """The `status --json` object (`keys` only when roles were read)."""
        return self.model_dump(exclude={"keys"} if self.keys is None else set())


def workspace_status(ledger: Ledger, *, with_roles: bool = True) -> WorkspaceStatus:
    """The workspace's status; with `with_roles`, each local key's roles read from the
    contract (none before a contract is deployed), and the anchors' blocks checked against
    the chain (one request for the head and one for the newest anchor block, unless a reorg
    replaced it)."""
    cfg = ledger.config.chain
    counts = ledger.mirror.counts()
    last = ledger.mirror.get_sync_state("last_synced_block")
    keys = None
    reorged, as_of = 0, None
    if with_roles and cfg.contract:
        from labourledger.mirror.store import ON_CHAIN
        from labourledger.mirror.sync import check_anchor_blocks

        anchors = ledger.mirror.anchors_since(0)
        checked = check_anchor_blocks(
            ledger,
            [
                (a["block_number"], a["block_hash"])
                for a in anchors
                if a["status"] in ON_CHAIN and a["block_hash"]
            ],
        )
        reorged = len(checked.reorged)
        as_of = None if checked.reachable else (checked.as_of or 0)
    if with_roles and as_of is None:
        held = ledger.workspace.keys.list()
        roles = ledger.roles_of([k.address for k in held]) if cfg.contract else {}
        keys = [
            KeyRoles(name=k.name, address=k.address, roles=roles.get(k.address, [])) for k in held
        ]
    return WorkspaceStatus(
        workspace=str(ledger.workspace.root),
        chain=redact_url(cfg.url),
        chain_id=cfg.chain_id,
        contract=cfg.contract or None,
        confirmations=cfg.confirmations,
        mirror=ledger.mirror.display_url,
        pending=counts["pending"],
        anchored=counts["anchored"],
        last_synced_block=int(last) if last is not None else None,
        reorged_anchors=reorged,
        as_of_block=as_of,
        keys=keys,
    )
