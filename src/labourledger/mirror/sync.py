"""Sync: the contract's events into the mirror, reorgs rolled back, and what the chain
holds now (anchored roots, admin roles, an anchor's depth) as read by this process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labourledger.progress import Progress
from labourledger.verify.integrity import AnchoredRoot
from labourledger.verify.source import anchored_root_on

if TYPE_CHECKING:
    from labourledger.chain import LedgerChain
    from labourledger.ledger import Ledger

__all__ = ["REORG_WINDOW", "ChainReads", "SyncResult", "status_at", "sync"]

log = logging.getLogger(__name__)

#: Blocks re-checked on every sync for a changed hash (a reorg).
REORG_WINDOW = 64


@dataclass(frozen=True)
class SyncResult:
    """What one `sync` read from the chain."""

    from_block: int
    to_block: int
    anchors: int
    role_events: int
    finalised: int
    orphaned: int


class ChainReads:
    """What this process read from the contract, kept until `forget` (a ledger that
    outlives a chain head, such as the web service, forgets on every new head)."""

    def __init__(self, chain: Callable[[], LedgerChain]) -> None:
        self._chain = chain
        self._roots: dict[bytes, AnchoredRoot | None] = {}
        self._admins: dict[tuple[str, int], bool] = {}

    def forget(self) -> None:
        """Drop everything read so far."""
        self._roots.clear()
        self._admins.clear()

    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """What the contract holds for `root`, with its current depth."""
        if root not in self._roots:
            self._roots[root] = anchored_root_on(self._chain(), root)
        return self._roots[root]

    def held_admin(self, account: str, block: int | None) -> bool:
        """Whether `account` held the admin role at `block` (None: now, never cached)."""
        if block is None:
            return self._chain().has_role("ADMIN", account)
        key = (account, block)
        if key not in self._admins:
            self._admins[key] = self._chain().has_role("ADMIN", account, block)
        return self._admins[key]


def status_at(ledger: Ledger, block_number: int) -> str:
    """ "final" for an anchor mined in `block_number` once it is deep enough, else "submitted"."""
    deep_enough = ledger.chain.latest_block() - block_number >= ledger.config.chain.confirmations
    return "final" if deep_enough else "submitted"


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def sync(ledger: Ledger, progress: Progress | None = None) -> SyncResult:
    """Read `Anchored` and role events into the mirror, roll back reorged anchors,
    and finalise anchors that reached the configured depth."""
    chain, mirror, cfg = ledger.chain, ledger.mirror, ledger.config.chain
    latest = chain.latest_block()
    orphaned = _rewind_reorg(ledger, latest)
    last = mirror.get_sync_state("last_synced_block")
    start = int(last) + 1 if last is not None else cfg.deploy_block
    anchors = chain.anchored_events(start, latest) if start <= latest else []
    roles = chain.role_events(start, latest) if start <= latest else []
    log.info("syncing blocks %d to %d: %d anchors, %d role events", start, latest,
             len(anchors), len(roles))  # fmt: skip
    # Units of work: each anchor read (a block lookup each), then the role events.
    total = len(anchors) + 1
    with mirror.transaction() as session:
        for done, event in enumerate(anchors):
            if progress:
                progress(done, total)
            mirror.record_chain_anchor(
                session,
                root=_hex(event.root),
                size=event.size,
                # finalise_anchors below promotes it, so the result counts it as finalised
                status="submitted",
                chain_id=cfg.chain_id,
                contract=cfg.contract,
                tx_hash=_hex(event.tx_hash),
                block_number=event.block_number,
                block_hash=_hex(event.block_hash),
                timestamp=chain.block_timestamp(event.block_number),
                submitter=event.submitter,
            )
            mirror.record_block(session, event.block_number, _hex(event.block_hash))
        for role_event in roles:
            mirror.record_role_event(session, role_event)
            mirror.record_block(session, role_event.block_number, _hex(role_event.block_hash))
        finalised = mirror.finalise_anchors(session, latest - cfg.confirmations)
        mirror.record_block(session, latest, _hex(chain.block_hash(latest)))
        mirror.set_sync_state(session, "last_synced_block", str(latest))
    if progress:
        progress(total, total)
    return SyncResult(start, latest, len(anchors), len(roles), finalised, orphaned)


def _rewind_reorg(ledger: Ledger, latest: int) -> int:
    """Find the first recent block whose hash changed and roll the mirror back to it."""
    chain, mirror = ledger.chain, ledger.mirror
    fork = None
    for number, stored_hash in mirror.blocks_since(latest - REORG_WINDOW):
        if number > latest or _hex(chain.block_hash(number)) != stored_hash:
            fork = number
            break
    if fork is None:
        return 0
    still_anchored = {
        a["root"]
        for a in mirror.anchors_since(fork)
        if chain.anchor_of(bytes.fromhex(a["root"][2:])) is not None
    }
    with mirror.transaction() as session:
        orphaned = mirror.rewind(session, fork, keep_roots=still_anchored)
        mirror.set_sync_state(session, "last_synced_block", str(fork - 1))
    return orphaned
