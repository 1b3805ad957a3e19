"""Integrity checks of single entries: hash, signature, id, inclusion in an anchored root.

Each check is a small object with a name; it returns a CheckResult and never
raises for bad evidence, so a report lists every problem at once. `check_integrity`
runs the cryptographic ones together, computing each digest once; `check_integrity_many`
does so for many entries, on every core when there are enough of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from labourledger.envelope import Domain, SignedEntry, recover_address, to_hex
from labourledger.errors import InvalidSignature, NextStep
from labourledger.hashing import checksum_address
from labourledger.merkle import MerkleLevels, verify_inclusion
from labourledger.parallel import map_chunks
from labourledger.verify.results import CheckResult, Outcome, pass_or_fail

__all__ = [
    "AnchoredRoot",
    "ContentHashMatches",
    "EntryCheck",
    "EntryIdMatches",
    "Facts",
    "IncludedInAnchor",
    "InclusionProof",
    "IntegrityJudge",
    "SignatureMatchesIssuer",
    "Signed",
    "SignedBeforeAnchor",
    "check_integrity",
    "check_integrity_many",
    "integrity_facts",
]


@dataclass(frozen=True)
class InclusionProof:
    """An RFC 6962 audit path of one entry in one anchored root; or, instead of the path,
    the `tree` of that root, rebuilt in this process from the leaves a mirror holds."""

    root: bytes
    leaf_index: int
    tree_size: int
    path: Sequence[bytes]
    tree: MerkleLevels | None = None


@dataclass(frozen=True)
class AnchoredRoot:
    """What the chain says about a root: who anchored it, when, how many entries."""

    root: bytes
    size: int
    block_number: int
    timestamp: int
    submitter: str
    confirmations: int


class Signed(Protocol):
    """What judging an entry's integrity reads of it besides its facts: a `SignedEntry`
    has it, and so does the little a worker sends back of one."""

    @property
    def entry_id(self) -> bytes:
        """The stored entry id."""

    @property
    def issuer(self) -> str:
        """The claimed issuer, checksummed."""

    @property
    def issued_at(self) -> int:
        """The claimed signing time, in seconds."""

    @property
    def issued_at_iso(self) -> str:
        """`issued_at` for people."""


class EntryCheck(Protocol):
    """A named check of one entry."""

    @property
    def name(self) -> str:
        """The check's short name, as reports show it."""

    def __call__(self, entry: SignedEntry) -> CheckResult: ...


# Read once: a member read off an Enum class goes through its metaclass, slowly.
_PASS, _FAIL = Outcome.PASS, Outcome.FAIL


@dataclass(frozen=True)
class ContentHashMatches:
    """keccak256(salt ‖ JCS(body)) equals the signed content hash."""

    name: str = "content_hash"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return self.judge(to_hex(entry.entry_id), entry.content_hash_matches())

    def judge(self, entry_id: str, matches: bool) -> CheckResult:
        """The result for the entry `entry_id` (hex), given whether its body and salt hash
        to its content hash."""
        return pass_or_fail(
            self.name,
            entry_id,
            matches,
            "body and salt hash to the signed content hash"
            if matches
            else "body or salt was altered: they no longer hash to the signed content hash",
        )


@dataclass(frozen=True)
class EntryIdMatches:
    """The stored entry id is the EIP-712 digest of the signed fields."""

    domain: Domain
    name: str = "entry_id"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return self.judge(to_hex(entry.entry_id), entry.id_matches(self.domain))

    def judge(self, entry_id: str, matches: bool) -> CheckResult:
        """The result for the entry `entry_id` (hex), given whether it is the id computed
        from the entry's fields."""
        return pass_or_fail(
            self.name,
            entry_id,
            matches,
            "entry id is the EIP-712 digest of its fields"
            if matches
            else f"entry id does not match its fields for chain {self.domain.chain_id} / "
            f"contract {self.domain.verifying_contract}",
        )


@dataclass(frozen=True)
class SignatureMatchesIssuer:
    """The signature recovers to the claimed issuer (low-s, v in {27, 28})."""

    domain: Domain
    name: str = "signature"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        signer = _signer(entry, entry.compute_id(self.domain))
        return self.judge(to_hex(entry.entry_id), entry.issuer, signer)

    def judge(self, entry_id: str, issuer: str, signer: bytes | str) -> CheckResult:
        """The result for the entry `entry_id` (hex) claiming `issuer`, given the 20-byte
        address recovered from the signature over the computed id, or why none recovers."""
        if isinstance(signer, str):
            return pass_or_fail(self.name, entry_id, False, signer)
        address = checksum_address(signer)
        ok = self.matches(issuer, signer)
        return pass_or_fail(
            self.name,
            entry_id,
            ok,
            f"signed by the issuer {issuer}"
            if ok
            else f"signature recovers to {address}, not to the claimed issuer {issuer}",
        )

    @staticmethod
    def matches(issuer: str, signer: bytes | str) -> bool:
        """Whether `signer` (an address recovered, or why none was) is `issuer`."""
        return not isinstance(signer, str) and checksum_address(signer) == issuer


def _signer(entry: SignedEntry, digest: bytes) -> bytes | str:
    try:
        return recover_address(digest, entry.signature)
    except InvalidSignature as exc:
        return str(exc)


@dataclass(frozen=True)
class IncludedInAnchor:
    """The entry's audit path leads to a root the contract holds, with the same size,
    at least `min_confirmations` blocks deep. No proof means pending, never verified."""

    proof: InclusionProof | None
    anchored: AnchoredRoot | None
    min_confirmations: int
    name: str = "anchored"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return self.judge(to_hex(entry.entry_id), _included(entry, self.proof))

    def judge(self, entry_id: str, included: bool) -> CheckResult:
        """The result for the entry `entry_id` (hex), given whether the proof leads from
        it to its root."""

        def fail(reason: str, next_step: NextStep | None = None) -> CheckResult:
            return pass_or_fail(self.name, entry_id, False, reason, next_step)

        if self.proof is None:
            return fail("pending: not yet anchored, so not verified", NextStep.ANCHOR)
        root_hex = to_hex(self.proof.root)
        if self.anchored is None:
            return fail(f"root {root_hex} is not anchored on this chain's contract")
        if self.anchored.size != self.proof.tree_size:
            return fail(
                f"proof claims a tree of {self.proof.tree_size} entries, "
                f"the chain anchored {self.anchored.size}"
            )
        if not included:
            return fail(f"inclusion proof does not lead to root {root_hex}")
        if self.anchored.confirmations < self.min_confirmations:
            # Pending is not failure: the evidence is in, the chain has not settled yet.
            wait = self.min_confirmations - self.anchored.confirmations
            return CheckResult(
                check=self.name,
                outcome=Outcome.ATTENTION,
                reason=f"pending: anchored in block {self.anchored.block_number}, "
                f"{self.anchored.confirmations} of {self.min_confirmations} confirmations; "
                f"wait {wait} more block{'s' if wait != 1 else ''}",
                entry_id=entry_id,
                next_step=NextStep.SYNC,
            )
        return pass_or_fail(
            self.name,
            entry_id,
            True,
            f"included in root {root_hex}, anchored in block {self.anchored.block_number}",
        )


def _included(entry: SignedEntry, proof: InclusionProof | None) -> bool:
    if proof is None:
        return False
    if (tree := proof.tree) is not None:
        # The claimed size is judged against the anchored one, as with a path.
        return tree.root == proof.root and tree.includes(entry.entry_id, proof.leaf_index)
    return verify_inclusion(
        entry.entry_id, proof.leaf_index, proof.tree_size, proof.path, proof.root
    )


#: Clock skew allowed between a signer's clock and the anchoring block's timestamp.
SKEW_SECONDS = 900


@dataclass(frozen=True)
class SignedBeforeAnchor:
    """The entry claims to be signed no later than the block that anchored it.

    The anchor is the one timestamp nobody can move: an `issuedAt` after it
    was made up, whoever signed it.
    """

    anchored: AnchoredRoot | None
    name: str = "issued_before_anchor"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        return self.judge(to_hex(entry.entry_id), entry)

    def judge(self, entry_id: str, entry: Signed) -> CheckResult:
        """The result for `entry`, whose id is `entry_id` (hex)."""
        if self.anchored is None:
            return pass_or_fail(self.name, entry_id, False, "pending: no anchor time to judge by")
        late = entry.issued_at - self.anchored.timestamp
        ok = self.in_time(entry.issued_at)
        return pass_or_fail(
            self.name,
            entry_id,
            ok,
            f"signed {entry.issued_at_iso}, anchored {late * -1} s later"
            if ok
            else f"claims to be signed {entry.issued_at_iso}, {late} s after the block "
            f"{self.anchored.block_number} that anchored it",
        )

    def in_time(self, issued_at: int) -> bool:
        """Whether an entry claiming `issued_at` was signed before its anchor (with skew)."""
        return self.anchored is not None and issued_at - self.anchored.timestamp <= SKEW_SECONDS


#: From this many entries on, `check_integrity_many` spreads the cryptography over a worker
#: per core; below it, forking and collecting costs more than the second core gives.
POOL_MIN_ENTRIES = 2000
#: Entries handled together, phase by phase (see `integrity_facts`), and sent to a worker
#: at a time.
FACTS_CHUNK = 256

#: What the cryptography says about one entry: whether body and salt hash to the content
#: hash, whether the stored id is the computed one, who signed the computed id (or why
#: nobody recovers), whether the proof leads to its root. Small: workers send it back pickled.
Facts = tuple[bool, bool, bytes | str, bool]


def integrity_facts(
    domain: Domain, items: Sequence[tuple[SignedEntry, InclusionProof | None]]
) -> list[Facts]:
    """The cryptographic `Facts` of each (entry, proof), in order: the costly part of
    `check_integrity_many`, which `IntegrityJudge` turns into results."""
    # One kind of work at a time over the chunk: interleaving JSON, keccak and curve
    # arithmetic per entry keeps evicting each other's tables from the CPU's caches.
    entries = [entry for entry, _ in items]
    content_ok = [entry.content_hash_matches() for entry in entries]
    computed = [entry.compute_id(domain) for entry in entries]
    signers = list(map(_signer, entries, computed))
    included = [_included(entry, proof) for entry, proof in items]
    id_ok = [digest == entry.entry_id for entry, digest in zip(entries, computed, strict=True)]
    return list(zip(content_ok, id_ok, signers, included, strict=True))


_DomainChecks = tuple[ContentHashMatches, EntryIdMatches, SignatureMatchesIssuer]


class _Anchor(NamedTuple):
    inclusion: IncludedInAnchor
    timing: SignedBeforeAnchor
    #: Whether an entry whose path leads to the root passes the inclusion check.
    settled: bool


def _anchor_checks(
    proof: InclusionProof | None, anchored: AnchoredRoot | None, min_confirmations: int
) -> _Anchor:
    inclusion = IncludedInAnchor(proof, anchored, min_confirmations)
    settled = inclusion.judge("", True).outcome is _PASS
    return _Anchor(inclusion, SignedBeforeAnchor(anchored), settled)


class IntegrityJudge:
    """Turns an entry's `Facts` into the results of the five checks of `check_integrity`,
    asking `anchored_root` (what the chain holds for a root) once per root and claimed
    tree size."""

    def __init__(
        self,
        domain: Domain,
        min_confirmations: int,
        anchored_root: Callable[[bytes], AnchoredRoot | None],
    ) -> None:
        self.checks: _DomainChecks = (
            ContentHashMatches(),
            EntryIdMatches(domain),
            SignatureMatchesIssuer(domain),
        )
        #: The checks' names, in the order `results` gives them.
        self.names = (
            *(c.name for c in self.checks),
            IncludedInAnchor.name,
            SignedBeforeAnchor.name,
        )
        self._min_confirmations = min_confirmations
        self._anchored_root = anchored_root
        # Judging an entry's anchoring reads only its proof's root and claimed size (whether
        # the path leads there is in its facts): the checks are made once for each pair.
        self._anchors: dict[tuple[bytes, int] | None, _Anchor] = {}

    def _anchor(self, proof: InclusionProof | None) -> _Anchor:
        key = (proof.root, proof.tree_size) if proof else None
        anchor = self._anchors.get(key)
        if anchor is None:
            anchored = self._anchored_root(proof.root) if proof else None
            anchor = self._anchors[key] = _anchor_checks(proof, anchored, self._min_confirmations)
        return anchor

    def all_pass(self, entry: Signed, proof: InclusionProof | None, facts: Facts) -> bool:
        """Whether every result `results` would give is a pass, without making them (a
        large batch's entries nearly all pass, and their passes are only counted)."""
        content_ok, id_ok, signer, included = facts
        if not (content_ok and id_ok and included):
            return False
        anchor = self._anchor(proof)
        return (
            anchor.settled
            and SignatureMatchesIssuer.matches(entry.issuer, signer)
            and anchor.timing.in_time(entry.issued_at)
        )

    def results(
        self, entry: Signed, proof: InclusionProof | None, facts: Facts
    ) -> list[CheckResult]:
        """The five results for `entry`, whose proof is `proof`, given its `facts`."""
        content_ok, id_ok, signer, included = facts
        content, ident, signature = self.checks
        inclusion, timing, _ = self._anchor(proof)
        entry_id = to_hex(entry.entry_id)
        return [
            content.judge(entry_id, content_ok),
            ident.judge(entry_id, id_ok),
            signature.judge(entry_id, entry.issuer, signer),
            inclusion.judge(entry_id, included),
            timing.judge(entry_id, entry),
        ]


def check_integrity(
    entry: SignedEntry,
    proof: InclusionProof | None,
    anchored: AnchoredRoot | None,
    domain: Domain,
    min_confirmations: int,
) -> list[CheckResult]:
    """Content hash, entry id, signature, inclusion and anchor time of one entry: the
    results of those five checks, with each digest computed once."""
    [facts] = integrity_facts(domain, [(entry, proof)])
    return IntegrityJudge(domain, min_confirmations, lambda _root: anchored).results(
        entry, proof, facts
    )


def check_integrity_many(
    items: Sequence[tuple[SignedEntry, InclusionProof | None]],
    domain: Domain,
    min_confirmations: int,
    anchored_root: Callable[[bytes], AnchoredRoot | None],
) -> Iterator[list[CheckResult]]:
    """`check_integrity` of each (entry, proof), in order, as each is done.

    From POOL_MIN_ENTRIES entries on, the hashing and signature recovery run in a forked
    worker per core; `anchored_root` (what the chain holds for a root) is asked only here,
    once per root and claimed tree size.
    """
    facts = map_chunks(
        functools.partial(integrity_facts, domain),
        items,
        chunk=FACTS_CHUNK,
        min_items=POOL_MIN_ENTRIES,
    )
    judge = IntegrityJudge(domain, min_confirmations, anchored_root)
    return (
        judge.results(entry, proof, found)
        for (entry, proof), found in zip(items, facts, strict=True)
    )
