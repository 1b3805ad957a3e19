"""Recording: bodies validated and signed as entries, stored in the mirror as pending, with
their evidence files kept in the workspace and written to entry files for other parties."""

from __future__ import annotations

import functools
import itertools
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from eth_account.signers.local import LocalAccount

from labourledger import kinds
from labourledger.authority import RevocationRefused, roles_allowed
from labourledger.envelope import (
    Domain,
    ExternalSigner,
    HashSigner,
    Kind,
    SignatureRequested,
    SignedEntry,
    SigningKey,
    sign_entry,
    to_hex,
)
from labourledger.errors import InputError, NextStep
from labourledger.exchange import write_entry_file
from labourledger.gcpause import gc_paused
from labourledger.kinds import EvidenceRef, evidence_ref
from labourledger.mirror.rows import EntryRows, entry_rows
from labourledger.models import Anchor, Proof
from labourledger.parallel import map_chunks, spare_core
from labourledger.progress import Progress
from labourledger.revoking import refusal_now

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "CarriedProof",
    "EvidenceStore",
    "Signer",
    "add_proofs",
    "checked",
    "record",
    "record_checked",
    "record_many",
    "sign",
    "sign_with_evidence",
    "signer_for",
    "store",
    "write_entries",
]

#: Bodies from which `record_many` validates and signs (and makes the mirror rows) in a
#: worker per core while this process stores, when a core is free (`parallel.spare_core`).
#: Measured on 2 cores with 3,000 facilities into SQLite: serially ~100 µs of CPU a body;
#: pooled, ~35 µs here and ~100 µs in the workers, plus ~5 ms to start and stop them. With
#: both cores free those costs pay from about 500 bodies (3,000: 214-242 ms against 310-330
#: serially); with both busy pooling loses (load 3.5: 1,000 bodies in 227 ms against 187 ms,
#: 3,000 in 747 ms against 441 ms). 1,000 keeps small batches serial.
POOL_MIN_BODIES = 1000
#: Bodies a worker validates and signs at a time.
SIGN_CHUNK = 250
#: Entries stored per round of statements (and per progress-bar step) within one transaction.
STORE_CHUNK = 250
#: New entries in one store after which the mirror's planner statistics are refreshed.
ANALYZE_AFTER = 5_000

T = TypeVar("T")

#: What signs an entry: a signer, or a callable that returns one for the role the entry needs
#: (`authority.roles_allowed`), called only once the input is checked, so a typo costs no
#: passphrase prompt.
Signer = HashSigner | Callable[[str], HashSigner]


def signer_for(signer: Signer, kind: Kind, body: Mapping[str, Any]) -> HashSigner:
    """The signer of a checked `body` of `kind`: `signer` itself, or what it returns for the
    first role that may issue the entry."""
    if callable(signer):
        return signer(roles_allowed(kind, body)[0])
    return signer


def checked(kind: Kind, given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` less its None values (options not given), validated as a body of `kind`;
    InputError naming the first bad field."""
    body = {k: v for k, v in given.items() if v is not None}
    kinds.parse_body(kind, body)
    return body


def record_checked(
    ledger: Ledger, kind: Kind, given: Mapping[str, Any], signer: Signer
) -> SignedEntry:
    """Store (pending) the `checked` body of `given`, signed by `signer`, asked for only once
    the body is known good."""
    body = checked(kind, given)
    return record(ledger, kind, body, signer_for(signer, kind, body))


def sign_with_evidence(
    ledger: Ledger,
    kind: Kind,
    body: Mapping[str, Any],
    signer: Signer,
    *,
    evidence: Sequence[Path] = (),
    issued_at: int | None = None,
) -> SignedEntry:
    """Sign a `checked` body with its `evidence` files stored (call inside
    `ledger.evidence_staged()`, so a failure leaves none behind) and referenced; nothing
    else is stored."""
    full = {**body, "evidence": [ledger.store_evidence(path).model_dump() for path in evidence]}
    return sign(ledger, kind, full, signer_for(signer, kind, full), issued_at=issued_at)


def sign(
    ledger: Ledger,
    kind: Kind,
    body: Mapping[str, Any],
    signer: HashSigner,
    *,
    issued_at: int | None = None,
) -> SignedEntry:
    """Validate a body against its kind and sign it; nothing is stored."""
    return _sign(ledger.domain, kind, body, signer, _local_key(signer), issued_at)


def _local_key(signer: HashSigner) -> SigningKey | None:
    # A key held here signs through libsecp256k1 directly, much faster than eth_keys.
    return SigningKey.load(signer.key) if isinstance(signer, LocalAccount) else None


def _sign(
    domain: Domain,
    kind: Kind,
    body: Mapping[str, Any],
    signer: HashSigner,
    key: SigningKey | None,
    issued_at: int | None,
) -> SignedEntry:
    model = kinds.parse_body(kind, body)
    canonical = model.model_dump(mode="json", exclude_none=True)
    return sign_entry(
        private_key=key,
        signer=None if key else signer,
        domain=domain,
        kind=kind,
        subject=kinds.subject_for(kind, model, issuer=signer.address),
        refs=kinds.refs_for(kind, model),
        body=canonical,
        issued_at=int(time.time()) if issued_at is None else issued_at,
        schema_version=kinds.SCHEMA_VERSION,
    )


def record(
    ledger: Ledger,
    kind: Kind,
    body: Mapping[str, Any],
    signer: HashSigner,
    *,
    issued_at: int | None = None,
) -> SignedEntry:
    """Validate, sign and store one entry as pending, in one transaction."""
    return record_many(ledger, kind, [body], signer, issued_at=issued_at)[0]


@gc_paused()
def record_many(
    ledger: Ledger,
    kind: Kind,
    bodies: Sequence[Mapping[str, Any]],
    signer: HashSigner,
    *,
    issued_at: int | None = None,
    progress: Progress | None = None,
) -> list[SignedEntry]:
    """Sign and store many bodies of one kind, all or nothing: a bad body (InputError
    naming its row) leaves nothing stored.

    With a key held here, entries are stored as they are signed, in the one transaction.
    """
    if isinstance(signer, ExternalSigner) and len(bodies) > 1:
        raise InputError(
            f"an external signer signs one entry at a time; these are {len(bodies)}",
            next_step=NextStep.SIGN_WITH_KEY,
        )
    signed = _sign_all(ledger, kind, bodies, signer, issued_at)
    if kind == "revocation":
        signed = list(signed)
        _check_revocations(ledger, [entry for entry, _ in signed], signer.address)
    entries: list[SignedEntry] = []
    batches = _collected(_batches(signed), entries)
    _store(ledger, batches, len(bodies), progress=progress, fresh=True)
    return entries


def _sign_all(
    ledger: Ledger,
    kind: Kind,
    bodies: Sequence[Mapping[str, Any]],
    signer: HashSigner,
    issued_at: int | None,
) -> Iterable[tuple[SignedEntry, EntryRows]]:
    """`bodies` validated and signed, with the mirror rows of each, in order, as each chunk
    is done; with a key held here, in a forked worker per core from POOL_MIN_BODIES on (the
    workers inherit the key; only entries and rows come back). A bad body among several
    raises InputError naming its row (1 for the first)."""
    key = _local_key(signer)
    chain = ledger.config.chain
    job = functools.partial(
        _sign_rows,
        ledger.domain,
        (chain.chain_id, chain.contract),
        kind,
        signer,
        key,
        issued_at,
        len(bodies) > 1,
    )
    rows = list(enumerate(bodies, 1))
    if key is None:
        # A signer holding its own key is asked here, one entry at a time, all before the
        # mirror's transaction opens: it may take its time.
        return job(rows)
    pooled = POOL_MIN_BODIES if spare_core() else sys.maxsize
    return map_chunks(job, rows, chunk=SIGN_CHUNK, min_items=pooled)


def _sign_rows(
    domain: Domain,
    chain: tuple[int, str],
    kind: Kind,
    signer: HashSigner,
    key: SigningKey | None,
    issued_at: int | None,
    numbered: bool,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
) -> list[tuple[SignedEntry, EntryRows]]:
    signed = []
    for row, body in rows:
        try:
            entry = _sign(domain, kind, body, signer, key, issued_at)
        except InputError as exc:
            if not numbered:
                raise
            raise InputError(f"row {row}: {exc}", next_step=exc.next_step) from None
        signed.append((entry, _rows(entry, *chain)))
    return signed


def _check_revocations(ledger: Ledger, entries: Sequence[SignedEntry], signer: str) -> None:
    """Refuse, before anything is stored, a revocation its signer may not issue."""
    targets = [str(e.body["target"]) for e in entries]
    held = ledger.mirror.get_entries(targets)
    for target in targets:
        issuer = held[target]["issuer"] if target in held else None
        refusal = refusal_now(ledger, signer, target, issuer)
        if refusal:
            raise RevocationRefused(f"revocation: {refusal}; nothing recorded")


def store(
    ledger: Ledger,
    entries: Sequence[SignedEntry],
    *,
    source: str = "local",
    progress: Progress | None = None,
    proofs: Sequence[CarriedProof] = (),
) -> int:
    """Store signed entries as pending in one transaction, with the `proofs` (already
    checked) of those anchored elsewhere; returns how many entries were new."""
    chain = ledger.config.chain
    rows = (_rows(e, chain.chain_id, chain.contract) for e in entries)
    return _store(
        ledger, _batches(rows), len(entries), source=source, progress=progress, proofs=proofs
    )


def _batches(items: Iterable[T]) -> Iterator[list[T]]:
    """`items` in lists of STORE_CHUNK, the last shorter."""
    it = iter(items)
    while batch := list(itertools.islice(it, STORE_CHUNK)):
        yield batch


def _collected(
    batches: Iterable[list[tuple[SignedEntry, EntryRows]]], into: list[SignedEntry]
) -> Iterator[list[EntryRows]]:
    """The rows of `batches`, their entries added to `into` as they pass."""
    for batch in batches:
        into += [entry for entry, _ in batch]
        yield [rows for _, rows in batch]


def _store(
    ledger: Ledger,
    batches: Iterator[list[EntryRows]],
    total: int,
    *,
    source: str = "local",
    progress: Progress | None = None,
    proofs: Sequence[CarriedProof] = (),
    fresh: bool = False,
) -> int:
    """`store` of entries' rows arriving in `batches`, `total` of them, stored as each
    arrives; `fresh` when they were just signed here (see `add_rows`)."""
    new = done = 0
    # Taken before the transaction opens: the mirror is not held while the first batch is
    # signed (workers signing the batches forked before, from a process without one open).
    batch = next(batches, None)
    with ledger.mirror.transaction() as session:
        while batch is not None:
            new += ledger.mirror.add_rows(session, batch, source=source, fresh=fresh)
            done += len(batch)
            if progress:
                progress(done, total)
            batch = next(batches, None)
        add_proofs(ledger, session, proofs)
    if new >= ANALYZE_AFTER:
        ledger.mirror.analyze()
    return new


class CarriedProof(NamedTuple):
    """The proof and anchor that came with an entry anchored elsewhere (a bundle, an
    entry file)."""

    entry_id: str
    proof: Proof
    anchor: Anchor


def add_proofs(ledger: Ledger, session: Any, carried: Sequence[CarriedProof]) -> None:
    """Store the proofs that come with entries anchored elsewhere, recording their anchor
    when the mirror does not know it yet."""
    cfg = ledger.config.chain
    known = ledger.mirror.proven(c.entry_id for c in carried)
    for entry_id, proof, anchor in carried:
        if entry_id in known:
            continue
        if ledger.mirror.get_anchor(anchor.root) is None:
            # Block and time come from the contract, not the carrier: the policy dates
            # closures by them. A root the chain lacks keeps the claim and fails verify.
            on_chain = ledger.chain.anchor_of(bytes.fromhex(anchor.root[2:]))
            # So is the transaction: the carrier's is only its claim.
            logged = (
                ledger.chain.anchored_event(on_chain.root, on_chain.block_number)
                if on_chain
                else None
            )
            ledger.mirror.record_chain_anchor(
                session,
                root=anchor.root,
                size=proof.tree_size,
                status="submitted",
                chain_id=cfg.chain_id,
                contract=cfg.contract,
                tx_hash=to_hex(logged.tx_hash) if logged else anchor.tx_hash,
                block_number=on_chain.block_number if on_chain else anchor.block_number,
                timestamp=on_chain.timestamp if on_chain else None,
            )
        ledger.mirror.add_proof(session, entry_id, anchor.root, proof.leaf_index, proof.path)


def _rows(entry: SignedEntry, chain_id: int, contract: str) -> EntryRows:
    return entry_rows(
        entry.to_json_dict(with_iso=False) | {"chain_id": chain_id, "contract": contract}
    )


def write_entries(
    ledger: Ledger, path: Path, entries: Sequence[SignedEntry], *, with_proofs: bool = False
) -> Path:
    """Write signed entries to a file another party can `import`; `with_proofs` adds the
    proof and anchor of each one anchored here, so the importer stores it as anchored."""
    proofs: dict[str, tuple[Proof, Anchor]] = {}
    if with_proofs:
        loaded = {e.id_hex: e for e in entries}
        for view in ledger.describe_many(list(loaded), loaded=loaded):
            if view.proof and view.anchor:
                proofs[view.id_hex] = (view.proof, view.anchor)
    return write_entry_file(path, ledger.domain, entries, proofs)


class EvidenceStore:
    """Copies of evidence files in the workspace, named by their salted hash."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._staged: list[Path] | None = None

    def store(self, path: Path) -> EvidenceRef:
        """Keep a copy of an evidence file in the workspace, named by its salted hash,
        and return the reference that goes into a body."""
        ref = evidence_ref(path)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stored = self.directory / ref.hash[2:]
        stored.write_bytes(path.read_bytes())
        if self._staged is not None:
            self._staged.append(stored)
        return ref

    @contextmanager
    def staged(self) -> Iterator[None]:
        """Evidence stored within the block is deleted again if the block fails, so a
        command that fails after storing its evidence leaves nothing behind."""
        self._staged = []
        try:
            yield
        except SignatureRequested:
            raise  # the entry is only waiting for a wallet: its evidence stays
        except BaseException:
            for stored in self._staged:
                stored.unlink(missing_ok=True)
            raise
        finally:
            self._staged = None
