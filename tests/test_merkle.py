"""RFC 6962 trees: the published SHA-256 vectors and property tests on keccak trees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labourledger import merkle, parallel
from labourledger.merkle import (
    KECCAK,
    SHA256,
    MerkleLevels,
    MerkleTree,
    merkle_root,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors" / "rfc6962_sha256.json"


def _vectors() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(VECTORS.read_text())
    return data


def test_sha256_instance_reproduces_every_rfc6962_root() -> None:
    data = _vectors()
    leaves = [bytes.fromhex(h) for h in data["leaf_inputs_hex"]]
    roots = data["root_by_tree_size_hex"]
    assert len(roots) == len(leaves) + 1
    for size, expected in enumerate(roots):
        assert MerkleTree(leaves[:size], SHA256).root.hex() == expected, f"tree size {size}"


def test_sha256_proofs_verify_for_every_vector_tree() -> None:
    data = _vectors()
    leaves = [bytes.fromhex(h) for h in data["leaf_inputs_hex"]]
    for size in range(1, len(leaves) + 1):
        tree = MerkleTree(leaves[:size], SHA256)
        for i in range(size):
            assert verify_inclusion(leaves[i], i, size, tree.inclusion_proof(i), tree.root, SHA256)


def test_empty_tree_and_bad_index() -> None:
    assert MerkleTree([], KECCAK).root == KECCAK.empty_root()
    with pytest.raises(IndexError):
        MerkleTree([b"a"]).inclusion_proof(1)
    assert not verify_inclusion(b"a", 0, 0, [], KECCAK.empty_root())


def _leaves(n: int) -> list[bytes]:
    return [i.to_bytes(32, "big") for i in range(n)]


@pytest.mark.parametrize("size", range(1, 301))
def test_every_leaf_of_every_size_verifies(size: int) -> None:
    leaves = _leaves(size)
    tree = MerkleTree(leaves)
    for i, leaf in enumerate(leaves):
        assert verify_inclusion(leaf, i, size, tree.inclusion_proof(i), tree.root), (size, i)


def _flip(b: bytes, bit: int) -> bytes:
    bit %= len(b) * 8
    out = bytearray(b)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 300),
    data=st.data(),
)
def test_any_alteration_fails(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index)
    leaf, root = leaves[index], tree.root
    assert verify_inclusion(leaf, index, size, proof, root)

    bit = data.draw(st.integers(0, 255))
    assert not verify_inclusion(_flip(leaf, bit), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, _flip(root, bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        altered = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not verify_inclusion(leaf, index, size, altered, root)
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)
    assert not verify_inclusion(leaf, index, size, [*proof, b"\x00" * 32], root)
    other_index = data.draw(st.integers(0, size).filter(lambda i: i != index))
    assert not verify_inclusion(leaf, other_index, size, proof, root)
    # RFC 6962 roots do not commit to the size, so a size whose path for this
    # index has the same shape can pass; the ledger binds size to the anchor's.
    other_size = data.draw(st.integers(1, 301).filter(lambda s: s != size))
    same_shape = index < other_size and len(
        MerkleTree(leaves[:1] * other_size).inclusion_proof(index)
    ) == len(proof)
    if not same_shape:
        assert not verify_inclusion(leaf, index, other_size, proof, root)


@pytest.mark.parametrize("size", [*range(71), 127, 128, 129, 1000, 4097])
def test_the_root_alone_equals_the_trees(size: int) -> None:
    leaves = _leaves(size)
    assert merkle_root(leaves) == MerkleTree(leaves).root
    assert merkle_root(leaves, SHA256) == MerkleTree(leaves, SHA256).root


@pytest.mark.parametrize("size", [5, 8, 9, 12, 13, 31, 32, 33, 100, 1000])
def test_a_root_hashed_by_subtrees_on_every_core_is_the_trees(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Subtrees of 4 leaves: whole ones handed to map_chunks (a worker per core from two
    # subtrees on), a partial last one (or none) hashed here.
    monkeypatch.setattr(merkle, "POOL_MIN_LEAVES", 0)
    monkeypatch.setattr(merkle, "SUBTREE_LEAVES", 4)
    monkeypatch.setattr(merkle, "spare_core", lambda: True)
    chunked: list[int] = []

    def counted(fn: Any, items: Any, *, chunk: int, min_items: int) -> Any:
        chunked.append(len(items))
        return parallel.map_chunks(fn, items, chunk=chunk, min_items=min_items)

    monkeypatch.setattr(merkle, "map_chunks", counted)
    leaves = _leaves(size)
    assert merkle_root(leaves) == MerkleTree(leaves).root
    assert merkle_root(leaves, SHA256) == MerkleTree(leaves, SHA256).root
    assert chunked == [size // 4] * 2  # the whole subtrees, and only they, went out


def test_many_roots_hashed_by_one_set_of_workers_are_the_trees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Anchoring sends a batch while the workers hash the next batches' subtrees.
    monkeypatch.setattr(merkle, "POOL_MIN_LEAVES", 0)
    monkeypatch.setattr(merkle, "SUBTREE_LEAVES", 4)
    monkeypatch.setattr(merkle, "spare_core", lambda: True)
    trees = [_leaves(37), [], _leaves(3), _leaves(100)[50:], _leaves(4)]
    assert list(merkle.merkle_roots(trees)) == [MerkleTree(t).root for t in trees]


@pytest.mark.parametrize("size", [*range(1, 71), 127, 128, 129, 1000])
def test_paths_read_from_the_levels_are_the_trees(size: int) -> None:
    leaves = _leaves(size)
    tree, levels = MerkleTree(leaves), MerkleLevels(leaves)
    assert levels.root == tree.root and levels.size == size
    assert [levels.inclusion_proof(i) for i in range(size)] == [
        tree.inclusion_proof(i) for i in range(size)
    ]
    with pytest.raises(IndexError):
        levels.inclusion_proof(size)
    # Each leaf is where it is, and nowhere else; nothing is outside the tree.
    assert all(levels.includes(leaf, i) for i, leaf in enumerate(leaves))
    assert not any(levels.includes(leaves[i], (i + 1) % size) for i in range(size) if size > 1)
    assert not levels.includes(leaves[0], size) and not levels.includes(leaves[0], -1)
    assert not levels.includes(b"not a leaf", 0)
