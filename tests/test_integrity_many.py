"""Checking many entries at once, on every core, finds exactly what checking each alone does,
and what independent implementations (rfc8785, eth_hash, eth_account) say about them."""

from __future__ import annotations

from dataclasses import replace
from itertools import compress
from typing import Any

import pytest
import rfc8785
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_hash.auto import keccak
from fresh import assert_prints_ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labourledger import parallel
from labourledger.envelope import Domain, SignedEntry, sign_digest, sign_entry
from labourledger.merkle import MerkleLevels, MerkleTree
from labourledger.verify import integrity
from labourledger.verify.integrity import (
    SKEW_SECONDS,
    AnchoredRoot,
    ContentHashMatches,
    EntryIdMatches,
    IncludedInAnchor,
    InclusionProof,
    IntegrityJudge,
    SignatureMatchesIssuer,
    SignedBeforeAnchor,
    check_integrity,
    check_integrity_many,
    integrity_facts,
)
from labourledger.verify.issuers import IssuerHeldRole

DOMAIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
KEYS = [keccak(f"integrity test key {i}".encode()) for i in range(3)]
ISSUERS = [Account.from_key(k).address for k in KEYS]
MIN_CONFIRMATIONS = 2
ANCHORED_AT = 1_800_000_000

_BODY = st.dictionaries(
    st.text(max_size=8),
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.lists(st.text(max_size=5), max_size=3),
    max_size=6,
)
_TAMPER = st.sampled_from(
    [
        "none",
        "none",
        "body",
        "issuer",
        "entry_id",
        "other_key",
        "proof",
        "pending",
        "shallow",
        "size",
        "late",
        "just_in_time",
    ]
)


def _entry(i: int, body: dict[str, Any], issued_at: int | None = None) -> SignedEntry:
    return sign_entry(
        private_key=KEYS[i % len(KEYS)],
        domain=DOMAIN,
        kind="facility",
        subject=keccak(b"subject %d" % i),
        refs=[keccak(b"ref %d" % i)] * (i % 3),
        body=body,
        issued_at=1_700_000_000 + i if issued_at is None else issued_at,
    )


Items = list[tuple[SignedEntry, InclusionProof | None]]


def _case(
    bodies: list[dict[str, Any]], tampering: list[str]
) -> tuple[Items, Items, dict[bytes, AnchoredRoot]]:
    """The entries, tampered with as told, with proofs as paths, the same with proofs as the
    tree of the root (as a mirror's verifier reads them), and the roots the chain holds."""
    # Signed claiming a time just past, or just within, the skew allowed after the anchor.
    late = {"late": ANCHORED_AT + SKEW_SECONDS + 1, "just_in_time": ANCHORED_AT + SKEW_SECONDS}
    entries = [
        _entry(i, body, late.get(how))
        for i, (body, how) in enumerate(zip(bodies, tampering, strict=True))
    ]
    tree = MerkleTree([e.entry_id for e in entries])
    deep = AnchoredRoot(tree.root, tree.size, 100, ANCHORED_AT, ISSUERS[0], MIN_CONFIRMATIONS)
    shallow = keccak(b"shallow root")
    roots = {tree.root: deep, shallow: AnchoredRoot(shallow, tree.size, 99, 0, ISSUERS[0], 1)}
    levels = MerkleLevels([e.entry_id for e in entries])
    # Another tree of the same size: its root is not the anchored one.
    other = MerkleLevels([keccak(b"x")] * tree.size)
    items: Items = []
    as_trees: Items = []
    for i, (entry, how) in enumerate(zip(entries, tampering, strict=False)):
        proof: InclusionProof | None = InclusionProof(
            tree.root, i, tree.size, tree.inclusion_proof(i)
        )
        if how == "body":
            entry = entry.model_copy(update={"body": {**entry.body, "x": 1}})

        elif how == "issuer":
            entry = entry.model_copy(update={"issuer": ISSUERS[(i + 1) % len(ISSUERS)]})
        elif how == "entry_id":
            entry = entry.model_copy(update={"entry_id": keccak(entry.entry_id)})
        elif how == "other_key":
            signature = sign_digest(entry.entry_id, KEYS[(i + 1) % len(KEYS)])
            entry = entry.model_copy(update={"signature": signature})
        elif how == "proof" and proof is not None:
            proof = InclusionProof(proof.root, proof.leaf_index, proof.tree_size, [keccak(b"x")])
        elif how == "pending":
            proof = None
        elif how == "size" and proof is not None:  # same root, another claimed size
            proof = InclusionProof(proof.root, proof.leaf_index, proof.tree_size + 1, proof.path)
        elif how == "shallow" and proof is not None:
            proof = InclusionProof(shallow, proof.leaf_index, proof.tree_size, proof.path)
        items.append((entry, proof))
        kept = other if how == "proof" else levels
        as_trees.append((entry, proof and replace(proof, path=(), tree=kept)))
    return items, as_trees, roots


def _one_by_one(
    entry: SignedEntry, proof: InclusionProof | None, roots: dict[bytes, AnchoredRoot]
) -> list[Any]:
    anchored = roots.get(proof.root) if proof else None
    checks = [
        ContentHashMatches(),
        EntryIdMatches(DOMAIN),
        SignatureMatchesIssuer(DOMAIN),
        IncludedInAnchor(proof, anchored, MIN_CONFIRMATIONS),
        SignedBeforeAnchor(anchored),
    ]
    return [check(entry) for check in checks]


def _oracle(entry: SignedEntry) -> dict[str, bool]:
    """What rfc8785, eth_hash and eth_account say, sharing no code with labourledger."""
    digest = _hash_eip191_message(encode_typed_data(full_message=entry.typed_data(DOMAIN)))
    return {
        "content_hash": keccak(entry.salt + rfc8785.dumps(entry.body)) == entry.content_hash,
        "entry_id": digest == entry.entry_id,
        "signature": Account._recover_hash(digest, signature=entry.signature) == entry.issuer,
    }


@settings(
    max_examples=25,
    deadline=None,
    # The patched threshold is the same for every example.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(_BODY, _TAMPER), min_size=1, max_size=40))
def test_many_matches_one_by_one_and_independent_implementations(
    monkeypatch: pytest.MonkeyPatch, cases: list[tuple[dict[str, Any], str]]
) -> None:
    items, as_trees, roots = _case([body for body, _ in cases], [how for _, how in cases])
    monkeypatch.setattr(integrity, "POOL_MIN_ENTRIES", 8)  # the forked path for most lists
    monkeypatch.setattr(integrity, "FACTS_CHUNK", 3)
    many = list(check_integrity_many(items, DOMAIN, MIN_CONFIRMATIONS, roots.get))
    assert len(many) == len(items)
    # Verify counts an entry's passes without making them when it says all would pass.
    judge = IntegrityJudge(DOMAIN, MIN_CONFIRMATIONS, roots.get)
    facts = integrity_facts(DOMAIN, items)
    for (entry, proof), found, known in zip(items, many, facts, strict=True):
        expected = _one_by_one(entry, proof, roots)
        anchored = roots.get(proof.root) if proof else None
        assert found == expected
        assert judge.all_pass(entry, proof, known) == all(r.passed for r in expected)
        assert check_integrity(entry, proof, anchored, DOMAIN, MIN_CONFIRMATIONS) == expected
        verdicts = {r.check: r.passed for r in found}
        for name, ok in _oracle(entry).items():
            assert verdicts[name] == ok, (name, found)
    # A proof given as the root's tree rebuilt here, not as a path, is judged the same.
    # (But for a claimed size that is not the tree's: a path's walk depends on it, the
    # tree's leaf does not; the size is judged against the anchored one either way.)
    sized = [how != "size" for _, how in cases]
    tree_facts = integrity_facts(DOMAIN, as_trees)
    assert list(compress(tree_facts, sized)) == list(compress(facts, sized))
    assert list(check_integrity_many(as_trees, DOMAIN, MIN_CONFIRMATIONS, roots.get)) == many


# Run in a fresh interpreter (`fresh`).
_FORKED = """
import multiprocessing, os, threading
from labourledger import parallel
pids = lambda chunk: [os.getpid()] * len(chunk)
assert parallel.cores() >= 2, "this machine has two cores; the pool needs them"
# Each chunk waits for a second worker to hold one too: on a loaded machine one worker
# could otherwise drain the queue alone; with no second worker the wait times out.
both = multiprocessing.Barrier(2)
def paired(chunk):
    both.wait(timeout=60)
    return pids(chunk)
workers = list(parallel.map_chunks(paired, range(40), chunk=5, min_items=10))
assert len(workers) == 40 and os.getpid() not in workers and len(set(workers)) >= 2, workers
# Below the threshold, and with another thread running, everything stays in this process.
assert set(parallel.map_chunks(pids, range(9), chunk=5, min_items=10)) == {os.getpid()}
stop = threading.Event()
waiter = threading.Thread(target=stop.wait)
waiter.start()
assert set(parallel.map_chunks(pids, range(40), chunk=5, min_items=10)) == {os.getpid()}
stop.set()
print("ok")
"""


def test_large_lists_are_checked_in_forked_workers_only_when_safe() -> None:
    assert_prints_ok(_FORKED)


def test_results_keep_the_order_of_the_items() -> None:
    squares = parallel.map_chunks(lambda c: [x * x for x in c], range(1000), chunk=7, min_items=10)
    assert list(squares) == [x * x for x in range(1000)]


@pytest.mark.parametrize("block", [None, 100])
@pytest.mark.parametrize("held", [(), ("SUPPLIER",), ("BRAND",), ("AUDITOR", "SUPPLIER")])
def test_the_role_check_passes_exactly_when_its_quick_answer_says_so(
    block: int | None, held: tuple[str, ...]
) -> None:
    def holds(role: str, account: str, at: int) -> bool:
        return role in held and account == ISSUERS[0] and at == block

    check = IssuerHeldRole(("AUDITOR", "SUPPLIER"), block, holds)
    entry = _entry(0, {})
    for issuer in ISSUERS[:2]:
        expected = block is not None and issuer == ISSUERS[0] and bool(set(held) - {"BRAND"})
        assert check.holds(issuer) is expected
        assert check(entry.model_copy(update={"issuer": issuer})).passed is expected
