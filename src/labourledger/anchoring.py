"""Anchoring: a workspace's pending entries become Merkle batches, one transaction each (one
batch unless it indexes more entries on chain than one block's gas allows: `split_for_gas`).

A batch is stored as `prepared` before its transaction is sent, so a crash can resume it:
the chain is asked for the root before any resend, so entries are neither lost nor anchored
twice. Runs are serialised per mirror (an advisory lock on PostgreSQL, a file lock beside a
SQLite mirror), and a root some other workspace already anchored is adopted, not resent.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from labourledger.chain.ledger_contract import AnchorReceipt, TransactionNotSent
from labourledger.envelope import to_hex
from labourledger.errors import ChainError, InputError
from labourledger.gcpause import gc_paused
from labourledger.index import INDEXED_KINDS, index_subject
from labourledger.merkle import merkle_roots
from labourledger.mirror.store import ON_CHAIN
from labourledger.mirror.sync import status_at
from labourledger.progress import Progress

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from labourledger.ledger import Ledger
    from labourledger.mirror import Mirror

__all__ = ["AnchorResult", "anchor", "anchor_lock"]

log = logging.getLogger(__name__)
#: About 5 M gas of Indexed events (2,530 each): a fifth of a 30 M block, so a batch fits
#: on mainnet and the common L2s with room to spare.
MAX_INDEXED_PER_BATCH = 2_000


@dataclass(frozen=True)
class AnchorResult:
    """One batch sent to the contract (or found there already: `resumed`)."""

    root: str
    size: int
    tx_hash: str
    block_number: int
    gas_used: int
    status: str
    resumed: bool


@contextmanager
def anchor_lock(mirror: Mirror) -> Iterator[None]:
    """Hold the mirror's anchoring lock: one `anchor` run at a time per mirror.

    The lock is held while the transaction is mined, so it is not a database write lock
    (that would block recording meanwhile): a session advisory lock on PostgreSQL, which
    the server drops with the session, and an flock beside a SQLite file, which the kernel
    drops with the process, so a killed run never leaves it held.
    """
    engine = mirror.engine
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        # One lock per schema: workspaces in other schemas of the database anchor freely.
        key = text("SELECT hashtext(current_schema() || :name)")
        with engine.connect() as conn:
            lock_id = conn.execute(key, {"name": ":labourledger.anchor"}).scalar_one()
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.anchor-lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def anchor(
    ledger: Ledger, sender: LocalAccount, progress: Progress | None = None
) -> list[AnchorResult]:
    """Anchor every pending entry of `ledger` as Merkle batches (see the module doc): one,
    unless it would index more entries than one transaction can carry."""
    with anchor_lock(ledger.mirror):
        return _anchor_pending(ledger, sender, progress)


# Each pending entry becomes a few small objects; the collector's walks over them (and
# whatever else the process holds) would cost more than the anchoring. They are let go as
# this returns, before the collector is back: held then, its first run walked them all.
@gc_paused()
def _anchor_pending(
    ledger: Ledger, sender: LocalAccount, progress: Progress | None
) -> list[AnchorResult]:
    mirror = ledger.mirror
    results = [_finish(ledger, sender, a) for a in mirror.unfinished_anchors()]
    # By column, read by position: a Row's attributes would cost a fifth of the hashing.
    pending = _Pending(*zip(*mirror.pending_entries(), strict=True))
    cuts = split_for_gas(pending.kinds)
    # Units of work: each entry hashed into the root, each proof stored, each transaction.
    total = 2 * len(pending.seqs) + len(cuts)
    done = 0
    batches = [pending.part(cut) for cut in cuts]
    # Workers hash the roots (from the ids as read) while this process finds what each batch
    # indexes, and then the next batches' roots while it sends a batch.
    roots = merkle_roots([_Leaves(batch.entry_ids) for batch in batches])
    for batch in batches:
        indexed = index_of(zip(batch.entry_ids, batch.kinds, batch.subjects, strict=True))
        root = next(roots)
        results.append(
            _anchor_batch(ledger, sender, batch.seqs, root, indexed, progress, done, total)
        )
        done += 2 * len(batch.seqs) + 1
    return results


class _Pending(NamedTuple):
    """Pending entries by column, in the order they were recorded (all empty for none)."""

    seqs: Sequence[int] = ()
    entry_ids: Sequence[str] = ()
    kinds: Sequence[str] = ()
    subjects: Sequence[str] = ()

    def part(self, cut: slice) -> _Pending:
        """The entries within `cut`."""
        return _Pending(self.seqs[cut], self.entry_ids[cut], self.kinds[cut], self.subjects[cut])


class _Leaves(Sequence[bytes]):
    """The Merkle leaves of entries whose ids are read as hex: each made where it is hashed,
    most in the workers."""

    def __init__(self, entry_ids: Sequence[str]) -> None:
        self._ids = entry_ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [bytes.fromhex(i[2:]) for i in self._ids[index]]
        return bytes.fromhex(self._ids[index][2:])

    def __iter__(self) -> Iterator[bytes]:
        return (bytes.fromhex(i[2:]) for i in self._ids)


def split_for_gas(kinds: Sequence[str]) -> list[slice]:
    """Where to cut pending entries of `kinds` (in order) into batches, each indexing at most
    MAX_INDEXED_PER_BATCH entries: every Indexed event costs gas, and a block holds only
    so much. A batch ends just before the indexed entry that would be one too many."""
    if not kinds:
        return []
    indexed = [n for n, kind in enumerate(kinds) if kind in INDEXED_KINDS]
    cuts = [0, *indexed[MAX_INDEXED_PER_BATCH::MAX_INDEXED_PER_BATCH], len(kinds)]
    return [slice(start, stop) for start, stop in itertools.pairwise(cuts)]


def _anchor_batch(
    ledger: Ledger,
    sender: LocalAccount,
    seqs: Sequence[int],
    raw_root: bytes,
    indexed: list[tuple[bytes, bytes]],
    progress: Progress | None,
    done: int,
    total: int,
) -> AnchorResult:
    """Anchor the pending entries `seqs` under their Merkle root `raw_root` (the root alone:
    paths are derived from the stored leaves when read), indexing the pairs `indexed`."""
    mirror = ledger.mirror
    root, size = to_hex(raw_root), len(seqs)
    # Asked before anything is written: an unreachable chain leaves the mirror untouched.
    on_chain = ledger.chain.anchor_of(raw_root)
    if progress:
        progress(done + size, total)
    log.info("anchoring %d entries under root %s", size, root)
    known = mirror.get_anchor(root)
    cfg = ledger.config.chain
    stored = (lambda n: progress(done + size + n, total)) if progress else None
    with mirror.transaction() as session:
        if known is not None and known["status"] in ON_CHAIN:
            # Anchored by another workspace with these very leaves, and read by sync.
            mirror.add_leaves(session, root, seqs, stored)
        else:
            mirror.prepare_anchor(
                session,
                root=root,
                size=size,
                chain_id=cfg.chain_id,
                contract=cfg.contract,
                seqs=seqs,
                progress=stored,
            )
    anchor_row = mirror.get_anchor(root)
    assert anchor_row is not None
    if anchor_row["status"] in ON_CHAIN:
        result = _adopted(anchor_row)
    else:
        result = _finish(ledger, sender, anchor_row, fresh=on_chain is None, indexed=indexed)
    if progress:
        progress(done + 2 * size + 1, total)
    return result


def _adopted(row: Mapping[str, Any]) -> AnchorResult:
    return AnchorResult(
        root=row["root"],
        size=row["size"],
        tx_hash=row["tx_hash"],
        block_number=row["block_number"],
        gas_used=0,
        status=row["status"],
        resumed=True,
    )


def _finish(
    ledger: Ledger,
    sender: LocalAccount,
    anchor_row: Mapping[str, Any],
    *,
    fresh: bool = False,
    indexed: list[tuple[bytes, bytes]] | None = None,
) -> AnchorResult:
    """Send a prepared batch, or rebuild its receipt if its root is on chain already.

    `fresh`: prepared by this run, its root not on chain when asked just before (so not asked
    again), so a transaction refused before it was sent (a revert at estimation, a node's
    refusal, too little gas money) takes the prepared batch back.
    `indexed`: the (subject, entry id) pairs the batch indexes, when the caller has them;
    otherwise found from its members as the mirror holds them.
    """
    chain, mirror = ledger.chain, ledger.mirror
    root = bytes.fromhex(anchor_row["root"][2:])
    resumed = not fresh and chain.anchor_of(root) is not None
    if resumed:
        receipt = receipt_of(ledger, root)
    else:
        try:
            if indexed is None:
                indexed = index_of(mirror.anchor_members(anchor_row["root"]))
            receipt = chain.anchor(sender, root, anchor_row["size"], indexed)
        except (TransactionNotSent, InputError):
            if fresh:
                with mirror.transaction() as session:
                    mirror.drop_prepared(session, anchor_row["root"])
            raise
    status = status_at(ledger, receipt.block_number)
    with mirror.transaction() as session:
        mirror.mark_anchor(
            session,
            anchor_row["root"],
            status,
            tx_hash=to_hex(receipt.tx_hash),
            block_number=receipt.block_number,
            block_hash=to_hex(receipt.block_hash),
            timestamp=receipt.timestamp,
            submitter=receipt.submitter,
        )
        mirror.record_block(session, receipt.block_number, to_hex(receipt.block_hash))
    return AnchorResult(
        root=anchor_row["root"],
        size=anchor_row["size"],
        tx_hash=to_hex(receipt.tx_hash),
        block_number=receipt.block_number,
        gas_used=receipt.gas_used,
        status=status,
        resumed=resumed,
    )


def index_of(members: Iterable[tuple[str, str, str]]) -> list[tuple[bytes, bytes]]:
    """The (subject, entry id) pairs a batch of `members` (entry id, kind, subject) indexes on
    chain: its entries whose omission from a bundle would change a verdict."""
    pairs = []
    for entry_id, kind, subject in members:
        if kind not in INDEXED_KINDS:  # most are not: their subjects are not decoded
            continue
        indexed = index_subject(kind, bytes.fromhex(subject[2:]))
        if indexed is not None:
            pairs.append((indexed, bytes.fromhex(entry_id[2:])))
    return pairs


def receipt_of(ledger: Ledger, root: bytes) -> AnchorReceipt:
    """Rebuild the receipt of a root already on chain (a resumed anchor)."""
    chain = ledger.chain
    record = chain.anchor_of(root)
    assert record is not None
    event = chain.anchored_event(root, record.block_number)
    if event is None:
        raise ChainError(f"{chain.label}: the log of root {to_hex(root)} is missing")
    return AnchorReceipt(
        root=root,
        size=record.size,
        submitter=record.submitter,
        tx_hash=event.tx_hash,
        block_number=record.block_number,
        block_hash=event.block_hash,
        timestamp=record.timestamp,
        gas_used=0,
    )
