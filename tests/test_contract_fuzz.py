"""verifyInclusion fuzzed against the Python reference: the contract accepts a leaf, index,
size and path exactly when RFC 9162's algorithm does and the size is the anchored one."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labourledger.chain import LedgerChain, open_embedded
from labourledger.merkle import MerkleTree, verify_inclusion

pytestmark = pytest.mark.integration

SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100)


class Anchored:
    """A contract with one anchored tree of each size in SIZES."""

    def __init__(self, chain: LedgerChain, admin: LocalAccount) -> None:
        rng = random.Random(9162)
        self.chain = chain
        self.trees: list[tuple[list[bytes], MerkleTree]] = []
        for size in SIZES:
            leaves = [rng.randbytes(32) for _ in range(size)]
            tree = MerkleTree(leaves)
            chain.anchor(admin, tree.root, size)
            self.trees.append((leaves, tree))
        self.sizes = {tree.root: tree.size for _, tree in self.trees}


@pytest.fixture(scope="module")
def anchored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anchored]:
    chain = open_embedded(Path(tmp_path_factory.mktemp("fuzz")) / "chain.sqlite")
    admin: LocalAccount = Account.create()
    chain.fund(admin.address, 10**19)
    chain.deploy(admin)
    yield Anchored(chain, admin)


@st.composite
def claims(draw: st.DrawFn, anchored: Anchored) -> tuple[bytes, int, int, list[bytes], bytes]:
    leaves, tree = draw(st.sampled_from(anchored.trees))
    index = draw(st.integers(0, tree.size - 1))
    leaf, path, root, size = leaves[index], list(tree.inclusion_proof(index)), tree.root, tree.size
    mutation = draw(st.sampled_from(["none", "index", "size", "leaf", "path", "root", "cut"]))
    if mutation == "index":
        index = draw(st.integers(0, 2 * tree.size))
    elif mutation == "size":
        size = draw(st.integers(0, 2 * tree.size + 2))
    elif mutation == "leaf":
        leaf = draw(st.sampled_from(leaves))
    elif mutation == "path" and path:
        path[draw(st.integers(0, len(path) - 1))] = draw(st.binary(min_size=32, max_size=32))
    elif mutation == "root":
        root = draw(st.sampled_from([t.root for _, t in anchored.trees]))
    elif mutation == "cut":
        path = path[: draw(st.integers(0, len(path)))] + draw(
            st.lists(st.binary(min_size=32, max_size=32), max_size=2)
        )
    return leaf, index, size, path, root


def test_verify_inclusion_agrees_with_the_reference(anchored: Anchored) -> None:
    accepted = 0

    @settings(
        max_examples=1000,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(claims(anchored))
    def check(claim: tuple[bytes, int, int, list[bytes], bytes]) -> None:
        nonlocal accepted
        leaf, index, size, path, root = claim
        expected = verify_inclusion(leaf, index, size, path, root) and size == anchored.sizes[root]
        assert anchored.chain.verify_inclusion(leaf, index, size, path, root) is expected
        accepted += expected

    check()
    assert accepted > 100  # the fuzz also reaches the accepting side, not only refusals


def test_a_true_path_reread_under_another_position_is_refused(anchored: Anchored) -> None:
    """Every (index, size) under which the reference accepts a true leaf and path (it cannot
    know the anchored size) is refused by the contract, which checks it."""
    reread = 0
    for leaves, tree in anchored.trees:
        if tree.size > 9:
            continue
        for index, leaf in enumerate(leaves):
            path = tree.inclusion_proof(index)
            for size in range(1, 2 * tree.size + 1):
                for i in range(size):
                    if (i, size) == (index, tree.size):
                        continue
                    if verify_inclusion(leaf, i, size, path, tree.root):
                        reread += 1
                        assert not anchored.chain.verify_inclusion(leaf, i, size, path, tree.root)
    assert reread > 0
