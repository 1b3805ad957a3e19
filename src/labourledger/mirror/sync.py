"""Sync: the contract's events into the mirror, reorgs rolled back, and what the chain
holds now (anchored roots, admin roles, whether an anchor's block is still the chain's).

Sync reads logs in block-range chunks (`labourledger.chain.events`) and writes each
chunk in one transaction, so an interrupted sync resumes after the last chunk stored.
Blocks come from the logs themselves (hash, and timestamp where the node includes it).
A sync with nothing new costs one request for the head, plus one for the last synced
block's hash when the head moved: a block whose hash is unchanged vouches for every
block before it, so a reorg is noticed there and located by bisection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, tuple_, update

from labourledger.envelope import to_hex
from labourledger.errors import UnreachableError
from labourledger.index import revocation_subject
from labourledger.mirror import schema
from labourledger.mirror.store import ON_CHAIN
from labourledger.progress import Progress
from labourledger.verify.integrity import AnchoredRoot
from labourledger.verify.source import anchored_root_on

if TYPE_CHECKING:
    from labourledger.chain import LedgerChain
    from labourledger.chain.events import EventChunk
    from labourledger.ledger import Ledger
    from labourledger.models import EntryView

__all__ = [
    "REORG_WINDOW",
    "AnchorBlocks",
    "ChainReads",
    "SyncResult",
    "chain_status",
    "check_anchor_blocks",
    "status_at",
    "sync",
]

log = logging.getLogger(__name__)

#: How far behind the head `doctor` lets the last sync be before it says to sync.
REORG_WINDOW = 64
#: Keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 500
#: What to do about indexed entries the mirror lacks (no CLI flags: the library's words).
MISSING_HINT = (
    "import the signed entry files their issuers exported (an auditor's audits, say), "
    "or verify will fail the facilities they concern"
)


#: An anchor whose block the chain replaced (no CLI flags: the library's words).
REORGED = "reorged: the block of its anchor is no longer the chain's; sync the mirror"


@dataclass(frozen=True)
class SyncResult:
    """What one `sync` read from the chain, and what the chain holds that the mirror lacks."""

    from_block: int
    to_block: int
    anchors: int
    role_events: int
    finalised: int
    orphaned: int
    #: `Indexed` events read (one per audit, finding update, revocation, grievance, …).
    indexed: int = 0
    #: Ids of entries indexed on chain about a facility or entry in this mirror, but not in it.
    missing: list[str] = field(default_factory=list)

    @property
    def missing_hint(self) -> str | None:
        """What to do about `missing`, or None when nothing is."""
        if not self.missing:
            return None
        return (
            f"{len(self.missing)} indexed entries on chain are not in this mirror: {MISSING_HINT}"
        )


@dataclass(frozen=True)
class AnchorBlocks:
    """Whether the blocks of the mirror's anchors are still the chain's.

    `reorged` holds the anchor blocks the chain replaced (their anchors are not final
    until sync rolls them back); when the chain cannot be reached, `reachable` is False
    and what the mirror says holds `as_of` the last synced block.
    """

    reachable: bool
    head: int | None
    as_of: int | None
    reorged: frozenset[int] = frozenset()


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


def sync(ledger: Ledger, progress: Progress | None = None) -> SyncResult:
    """Read anchors, index entries and role changes into the mirror, one transaction per
    chunk of blocks; roll back what a reorg replaced; finalise anchors deep enough."""
    chain, mirror, cfg = ledger.chain, ledger.mirror, ledger.config.chain
    head, head_hash = chain.head()
    orphaned = _rewind_reorg(ledger, head, head_hash)
    last = mirror.get_sync_state("last_synced_block")
    start = int(last) + 1 if last is not None else cfg.deploy_block
    anchors = indexed = roles = 0
    if progress and start <= head:
        progress(0, head - start + 1)
    for chunk in chain.event_chunks(start, head):
        end_hash = chunk.block_hashes.get(chunk.last)
        if end_hash is None:
            end_hash = head_hash if chunk.last == head else chain.block_hash(chunk.last)
        # Nodes that leave the block timestamp out of logs: one request per anchor block.
        stamps = {
            a.block_number: chain.block_timestamp(a.block_number)
            for a in chunk.anchors
            if a.timestamp is None
        }
        with mirror.transaction() as conn:
            _store_chunk(conn, ledger, chunk, stamps)
            _put_blocks(conn, {**chunk.block_hashes, chunk.last: end_hash})
            mirror.set_sync_state(conn, "last_synced_block", str(chunk.last))
        anchors, indexed = anchors + len(chunk.anchors), indexed + len(chunk.indexed)
        roles += len(chunk.roles)
        log.info("synced blocks %d to %d: %d anchors, %d indexed, %d role events",
                 chunk.first, chunk.last, len(chunk.anchors), len(chunk.indexed),
                 len(chunk.roles))  # fmt: skip
        if progress:
            progress(chunk.last - start + 1, head - start + 1)
    with mirror.transaction() as conn:
        finalised = mirror.finalise_anchors(conn, head - cfg.confirmations)
        missing = missing_entries(conn)
    return SyncResult(start, head, anchors, roles, finalised, orphaned, indexed, missing)


def _store_chunk(
    conn: Connection, ledger: Ledger, chunk: EventChunk, stamps: dict[int, int]
) -> None:
    """One chunk's events, in a few bulk statements."""
    cfg = ledger.config.chain
    a = schema.anchors
    rows = {
        to_hex(e.root): {
            "root": to_hex(e.root),
            "size": e.size,
            # finalise_anchors promotes it, so the result counts it as finalised
            "status": "submitted",
            "chain_id": cfg.chain_id,
            "contract": cfg.contract,
            "tx_hash": to_hex(e.tx_hash),
            "block_number": e.block_number,
            "block_hash": to_hex(e.block_hash),
            "timestamp": e.timestamp if e.timestamp is not None else stamps[e.block_number],
            "submitter": e.submitter,
        }
        for e in chunk.anchors
    }
    known = _existing(conn, a.c.root, a.c.status, list(rows))
    for root, status in known.items():
        # Our own anchor (prepared or submitted) or one a reorg orphaned: now seen mined.
        if status != "final":
            conn.execute(update(a).where(a.c.root == root).values(rows[root]))
    _insert(conn, a, [row for root, row in rows.items() if root not in known])
    _insert_new(conn, schema.chain_index, [_index_row(e) for e in chunk.indexed])
    _insert_new(conn, schema.role_events, [_role_row(e) for e in chunk.roles])


def _index_row(e: Any) -> dict[str, Any]:
    return {
        "tx_hash": to_hex(e.tx_hash),
        "log_index": e.log_index,
        "subject": to_hex(e.subject),
        "entry_id": to_hex(e.entry_id),
        "root": to_hex(e.root) if e.root else None,
        "submitter": e.submitter or None,
        "block_number": e.block_number,
        "block_hash": to_hex(e.block_hash),
    }


def _role_row(e: Any) -> dict[str, Any]:
    return {
        "role": e.role,
        "account": e.account,
        "sender": e.sender,
        "granted": e.granted,
        "block_number": e.block_number,
        "block_hash": to_hex(e.block_hash),
        "tx_hash": to_hex(e.tx_hash),
        "log_index": e.log_index,
    }


def _existing(conn: Connection, key: Any, value: Any, keys: Sequence[Any]) -> dict[Any, Any]:
    """`value` of the rows whose `key` is among `keys`."""
    found: dict[Any, Any] = {}
    for i in range(0, len(keys), _IN_CHUNK):
        query = select(key, value).where(key.in_(keys[i : i + _IN_CHUNK]))
        found.update((k, v) for k, v in conn.execute(query))
    return found


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def _insert_new(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the log rows not stored yet (a concurrent sync may have stored some)."""
    c = table.c
    pairs = [(r["tx_hash"], r["log_index"]) for r in rows]
    seen: set[tuple[str, int]] = set()
    for k in range(0, len(pairs), _IN_CHUNK // 2):
        position = tuple_(c.tx_hash, c.log_index)
        query = select(c.tx_hash, c.log_index).where(position.in_(pairs[k : k + _IN_CHUNK // 2]))
        seen.update((tx, n) for tx, n in conn.execute(query))
    _insert(conn, table, [r for r, pair in zip(rows, pairs, strict=True) if pair not in seen])


def _put_blocks(conn: Connection, hashes: dict[int, bytes]) -> None:
    """Remember block hashes, to notice a reorg later."""
    b = schema.blocks
    known = _existing(conn, b.c.number, b.c.hash, list(hashes))
    for number, value in hashes.items():
        if number in known and known[number] != to_hex(value):
            conn.execute(update(b).where(b.c.number == number).values(hash=to_hex(value)))
    new = [{"number": n, "hash": to_hex(h)} for n, h in hashes.items() if n not in known]
    _insert(conn, b, new)


# -- reorgs ---------------------------------------------------------------------------


def _first_changed(chain: LedgerChain, blocks: Sequence[tuple[int, str]], head: int) -> int:
    """The position in `blocks` (ascending) of the first block the chain replaced, or
    len(blocks): once a block changed, every later one did, so bisect."""
    low, high = 0, len(blocks)
    while low < high:
        middle = (low + high) // 2
        number, stored = blocks[middle]
        if number > head or to_hex(chain.block_hash(number)) != stored:
            high = middle
        else:
            low = middle + 1
    return low


def _rewind_reorg(ledger: Ledger, head: int, head_hash: bytes) -> int:
    """Roll the mirror back to the last remembered block the chain still has, when the
    last synced block changed; returns how many anchors that orphaned."""
    chain, mirror, cfg = ledger.chain, ledger.mirror, ledger.config.chain
    last = mirror.get_sync_state("last_synced_block")
    if last is None:
        return 0
    # The newest block remembered: the last synced one, or one of our anchors mined since.
    blocks = mirror.blocks_since(int(last)) or mirror.blocks_since(0)
    if not blocks:
        return 0
    number, stored = blocks[-1]
    if number <= head:
        now = head_hash if number == head else chain.block_hash(number)
        if to_hex(now) == stored:
            return 0
    blocks = mirror.blocks_since(0)
    changed = _first_changed(chain, blocks, head)
    fork = blocks[changed - 1][0] + 1 if changed else cfg.deploy_block
    log.warning("reorg: blocks from %d were replaced; rolling the mirror back", fork)
    still_anchored = {
        a["root"]
        for a in mirror.anchors_since(fork)
        if chain.anchor_of(bytes.fromhex(a["root"][2:])) is not None
    }
    with mirror.transaction() as conn:
        orphaned = mirror.rewind(conn, fork, keep_roots=still_anchored)
        index = schema.chain_index
        conn.execute(delete(index).where(index.c.block_number >= fork))
        mirror.set_sync_state(conn, "last_synced_block", str(fork - 1))
    return orphaned


def check_anchor_blocks(ledger: Ledger, blocks: Iterable[tuple[int, str]]) -> AnchorBlocks:
    """Whether the anchor blocks `(number, hash)` are still the chain's: one request for
    the head and one for the newest block, then a bisection only if that one changed."""
    synced = ledger.mirror.get_sync_state("last_synced_block")
    as_of = int(synced) if synced is not None else None
    wanted = sorted(set(blocks))
    try:
        chain = ledger.chain
        head = chain.latest_block()
        changed = _first_changed(chain, wanted, head) if wanted else 0
    except UnreachableError:
        return AnchorBlocks(reachable=False, head=None, as_of=as_of)
    return AnchorBlocks(True, head, as_of, frozenset(n for n, _ in wanted[changed:]))


def chain_status(ledger: Ledger, view: EntryView) -> EntryView:
    """An entry's `view` (as `describe` gives it) whose anchor's block the chain replaced
    says "reorged" until sync; when the chain cannot be reached, its status holds as of the
    last synced block (`as_of_block`). One request for the head, one for the block."""
    if view.status not in ON_CHAIN or view.anchor is None:
        return view
    row = ledger.mirror.get_anchor(view.anchor.root)
    if row is None or row["block_hash"] is None:
        return view
    checked = check_anchor_blocks(ledger, [(row["block_number"], row["block_hash"])])
    if not checked.reachable:
        note = f"{view.status} as of block {checked.as_of}: the chain could not be reached"
        return view.model_copy(update={"as_of_block": checked.as_of, "status_note": note})
    if checked.reorged:
        return view.model_copy(update={"status": "reorged", "status_note": REORGED})
    return view


# -- completeness ---------------------------------------------------------------------


def missing_entries(conn: Connection) -> list[str]:
    """Ids of entries indexed on chain under a facility or entry this mirror holds (or a
    revocation of one) that the mirror itself lacks, oldest first."""
    i, e, f = schema.chain_index, schema.entries, schema.facilities
    lacking = conn.execute(
        select(i.c.entry_id, i.c.subject)
        .where(~select(e.c.entry_id).where(e.c.entry_id == i.c.entry_id).exists())
        .order_by(i.c.block_number, i.c.log_index)
    ).all()
    if not lacking:
        return []
    subjects = sorted({s for _, s in lacking})
    known = set(_existing(conn, f.c.facility_id, f.c.facility_id, subjects))
    known |= set(_existing(conn, e.c.entry_id, e.c.entry_id, subjects))
    if not known.issuperset(subjects):
        revocations = {to_hex(revocation_subject(bytes.fromhex(x[2:]))) for x in _all_ids(conn)}
        known |= revocations & set(subjects)
    return list(dict.fromkeys(entry for entry, subject in lacking if subject in known))


def _all_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(schema.entries.c.entry_id)).scalars())
