"""The entries a batch relies on, checked as they are read: integrity (hash, id, signature,
inclusion, anchor time) and the issuer's role at the anchor block.

A large batch relies on tens of thousands of entries; holding all of them with their
bodies and proof paths was most of a large verify's memory. Here they are read a few
hundred at a time where their signatures and paths are checked (in forked workers, for
many), and what comes back is judged and let go: of most entries, only what judging
reads (`EntryHead`); a body comes back only where a later check reads it. What stays is
what the later checks and the report read: each entry's kind, issuer and anchor, in full
only the entries whose bodies later checks read, and the results a reader must see. An
entry whose checks all pass is counted without making its results (`IntegrityJudge.
all_pass`), unless every check is to be listed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from labourledger.authority import roles_allowed, speaks_for_facility
from labourledger.envelope import SignedEntry, iso_utc
from labourledger.parallel import map_chunks
from labourledger.verify.integrity import (
    FACTS_CHUNK,
    POOL_MIN_ENTRIES,
    Facts,
    InclusionProof,
    IntegrityJudge,
    integrity_facts,
)
from labourledger.verify.issuers import IssuerHeldRole
from labourledger.verify.results import CheckResult, Outcome
from labourledger.verify.source import StoredProof

if TYPE_CHECKING:
    from labourledger.progress import Progress
    from labourledger.verify.source import EvidenceSource
    from labourledger.verify.verdict import CheckTally

__all__ = ["CheckedEntries", "EntryHead", "Read", "ReliedEntry", "check_relied", "read_relied"]


class EntryHead(NamedTuple):
    """What judging reads of a relied-on entry, as a worker sends it back: its id, kind,
    issuer, claimed signing time and the roles that may issue it (read off its body)."""

    entry_id: bytes
    kind: str
    issuer: str
    issued_at: int
    roles: tuple[str, ...]

    @property
    def issued_at_iso(self) -> str:
        """`issued_at` for people."""
        return iso_utc(self.issued_at)


#: A relied-on entry as read: what judging reads of it, the entry in full when a later
#: check reads its body (else None: most bodies stay in the worker), its stored proof
#: (without its path: whether the path leads to the root is among the facts) and its
#: integrity facts.
Read = tuple[EntryHead, SignedEntry | None, StoredProof | None, Facts]

# Read once: a member read off an Enum class goes through its metaclass, slowly.
_PASS, _FAIL = Outcome.PASS, Outcome.FAIL

#: Kinds later checks read in full: a grievance update's grievance names its channel.
_READ_IN_FULL = frozenset({"grievance_update"})


class ReliedEntry(NamedTuple):
    """What the report and the later checks read of a relied-on entry."""

    kind: str
    issuer: str
    #: The root its stored proof leads to, and the transaction that anchored it (if known).
    root: bytes | None
    tx_hash: str | None


@dataclass
class CheckedEntries:
    """Relied-on entries after their own checks."""

    #: Every relied-on entry, revoked ones included.
    relied: dict[str, ReliedEntry] = field(default_factory=dict)
    #: The block, and its time, of the anchor holding each entry whose root the chain holds.
    blocks: dict[str, int] = field(default_factory=dict)
    anchored_at: dict[str, int] = field(default_factory=dict)
    #: By entry, in order, its results a reader sees (those not passing, or every one when
    #: all checks are kept); the passes were counted as they were made.
    results: dict[str, list[CheckResult]] = field(default_factory=dict)
    #: Entries that failed a check here.
    failed: set[str] = field(default_factory=set)
    #: Entries held in full: those asked for, grievance updates, and those that speak for a
    #: facility (their issuer must operate it), unless they failed.
    full: dict[str, SignedEntry] = field(default_factory=dict)
    #: Of `full`, the entries that speak for a facility.
    speakers: list[str] = field(default_factory=list)


def _speaks(entry: SignedEntry, block: int, held: Callable[[str, str, int], bool]) -> bool:
    return speaks_for_facility(entry.kind, entry.body, lambda: held("BRAND", entry.issuer, block))


@dataclass
class _Checking:
    """One verification's pass over its relied-on entries."""

    source: EvidenceSource
    revoked: Collection[str]
    held: Callable[[str, str, int], bool]
    tally: CheckTally
    keep: Collection[str]
    progress: Progress | None
    total: int
    checked: CheckedEntries = field(default_factory=CheckedEntries)
    issuers: dict[str, str] = field(default_factory=dict)  # one string per issuer
    roots: dict[bytes, bytes] = field(default_factory=dict)  # one bytes object per root
    done: int = 0

    def check(self, ids: Sequence[str], read: Iterator[Read]) -> None:
        """Check `ids` as `read` brings them, keeping what `CheckedEntries` holds of them."""
        source, revoked = self.source, self.revoked
        integrity = IntegrityJudge(source.domain, source.chain.confirmations, source.anchored_root)
        relied: dict[str, ReliedEntry] = {}
        for entry_id, (head, full, stored, facts) in zip(ids, read, strict=True):
            relied[entry_id] = noted = self._relied(head, stored)
            if entry_id in revoked:
                self.done += 1  # not checked, only reported
                continue
            if self.progress:
                self.progress(self.done, self.total)  # the signature checks are the work
            self.done += 1
            proof = stored.proof if stored else None
            self.judge(integrity, entry_id, head, full, proof, noted.root, facts)
        self.checked.relied = relied

    def _relied(self, head: EntryHead, stored: StoredProof | None) -> ReliedEntry:
        root = stored.proof.root if stored else None
        return ReliedEntry(
            head.kind,
            self.issuers.setdefault(head.issuer, head.issuer),
            # One bytes object per root: each came back from a worker as a copy of its own.
            self.roots.setdefault(root, root) if root else None,
            stored.tx_hash if stored else None,
        )

    def judge(
        self,
        integrity: IntegrityJudge,
        entry_id: str,
        head: EntryHead,
        full: SignedEntry | None,
        proof: InclusionProof | None,
        root: bytes | None,
        facts: Facts,
    ) -> None:
        """Judge an entry's integrity `facts` and its issuer's role (its proof leads to
        `root`), and keep what later checks read of it."""
        checked, held, tally = self.checked, self.held, self.tally
        anchored = self.source.anchored_root(root) if root else None
        block = anchored.block_number if anchored else None
        if anchored:
            checked.blocks[entry_id] = anchored.block_number
            checked.anchored_at[entry_id] = anchored.timestamp
        role = IssuerHeldRole(head.roles, block, held)
        failed = False
        if tally.all_checks or not (
            integrity.all_pass(head, proof, facts) and role.holds(head.issuer)
        ):
            checks = integrity.results(head, proof, facts)
            checks.append(role(head))
            passes = [c for c in checks if c.outcome is _PASS]
            # A pending anchor (too few confirmations) needs attention; the entry counts.
            failed = len(passes) < len(checks) and any(c.outcome is _FAIL for c in checks)
            if failed:
                checked.failed.add(entry_id)
            if tally.all_checks:
                checked.results[entry_id] = checks
            else:
                tally.add_passes(passes)
                if len(passes) < len(checks):
                    checked.results[entry_id] = [c for c in checks if c.outcome is not _PASS]
        else:
            tally.add_passes_named((*integrity.names, role.name))
        if full is None:
            return
        speaks = not failed and block is not None and _speaks(full, block, held)
        if speaks:
            checked.speakers.append(entry_id)
        if speaks or entry_id in self.keep or head.kind in _READ_IN_FULL:
            checked.full[entry_id] = full


def _read(source: EvidenceSource, keep: Collection[str], ids: Sequence[str]) -> list[Read]:
    """The entries `ids`, their stored proofs and their integrity facts (in a worker, for
    many), each entry as its `EntryHead`, and in full only when a later check may read its
    body. A proof comes back without its path: whether it leads to its root is a fact."""
    entries, proofs = source.entries(ids), source.proofs(ids)
    items = [(entries[i], stored.proof if (stored := proofs.get(i)) else None) for i in ids]
    facts = integrity_facts(source.domain, items)
    return [
        (
            EntryHead(
                entry.entry_id,
                entry.kind,
                entry.issuer,
                entry.issued_at,
                roles_allowed(entry.kind, entry.body),
            ),
            entry if _in_full(entry_id, entry, keep) else None,
            _pathless(proofs.get(entry_id)),
            found,
        )
        for entry_id, (entry, _), found in zip(ids, items, facts, strict=True)
    ]


def _in_full(entry_id: str, entry: SignedEntry, keep: Collection[str]) -> bool:
    """Whether a later check may read the entry's body: it is kept, read in full, or may
    speak for a facility (whatever roles its issuer holds)."""
    if entry_id in keep or entry.kind in _READ_IN_FULL:
        return True
    try:
        return speaks_for_facility(entry.kind, entry.body, lambda: False)
    except (KeyError, TypeError):
        return True  # a body its kind does not describe: judged here, as any other


def _pathless(stored: StoredProof | None) -> StoredProof | None:
    if stored is None:
        return None
    # Made anew: dataclasses.replace, twice, took 2.4 times as long, once per entry.
    proof = stored.proof
    return StoredProof(
        InclusionProof(proof.root, proof.leaf_index, proof.tree_size, ()), stored.tx_hash
    )


def read_relied(
    source: EvidenceSource, entry_ids: Sequence[str], keep: Collection[str]
) -> Iterator[Read]:
    """Each of `entry_ids` as `Read`, in order (in full those in `keep`, and those later
    checks read): for many, read in forked workers that start at once, so the caller may
    do other work (the chain's index, revocations) before `check_relied` takes them. One
    pass over all of them, in one set of workers: each rebuilds a root's tree once."""
    read = functools.partial(_read, source, keep)
    return map_chunks(read, entry_ids, chunk=FACTS_CHUNK, min_items=POOL_MIN_ENTRIES)


def check_relied(
    source: EvidenceSource,
    entry_ids: Sequence[str],
    revoked: Collection[str],
    held: Callable[[str, str, int], bool],
    tally: CheckTally,
    *,
    keep: Collection[str],
    read: Iterator[Read] | None = None,
    progress: Progress | None = None,
) -> CheckedEntries:
    """Check every entry of `entry_ids` that is not `revoked`, counting passes into
    `tally` as they are made; entries in `keep` are held in full. `read` is what
    `read_relied` gives for `entry_ids`, if it was started already."""
    checking = _Checking(source, revoked, held, tally, keep, progress, len(entry_ids))
    checking.check(entry_ids, read_relied(source, entry_ids, keep) if read is None else read)
    return checking.checked
