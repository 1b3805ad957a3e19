"""RFC 6962 Merkle trees, inclusion proofs and their verification.

The tree is generic over the hash function: the ledger uses keccak256, and the
SHA-256 instance reproduces the RFC 6962 test vectors.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from labourledger.hashing import keccak256
from labourledger.parallel import map_chunks, spare_core

__all__ = [
    "KECCAK",
    "KECCAK_BUILD",
    "SHA256",
    "MerkleLevels",
    "MerkleTree",
    "TreeHasher",
    "merkle_root",
    "merkle_roots",
    "verify_inclusion",
]


#: RFC 6962's domain separation: what a leaf's and an interior node's hash input start with.
LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"


@dataclass(frozen=True)
class TreeHasher:
    """The RFC 6962 domain-separated hashes built on one hash function."""

    digest: Callable[[bytes], bytes]

    def empty_root(self) -> bytes:
        """Root of the empty tree: the hash of the empty string."""
        return self.digest(b"")

    def hash_leaf(self, data: bytes) -> bytes:
        """Leaf hash: H(0x00 ‖ data)."""
        return self.digest(LEAF_PREFIX + data)

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        """Interior node hash: H(0x01 ‖ left ‖ right)."""
        return self.digest(NODE_PREFIX + left + right)


# Proofs of one tree share their upper nodes: verifying thousands of them re-hashes the same
# few pairs, so the ledger's hasher remembers recent digests (a pure function of its input).
KECCAK = TreeHasher(functools.lru_cache(maxsize=1 << 16)(keccak256))
#: The same hashes uncached, for building a tree from its leaves: every node is new there,
#: so remembering them would only cost (a third of the time of a root of 100,000 leaves).
KECCAK_BUILD = TreeHasher(keccak256)
SHA256 = TreeHasher(lambda data: hashlib.sha256(data).digest())


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An RFC 6962 tree over raw leaves, with all audit paths computed in one pass.

    Building every path together costs O(n log n), which matters when one
    anchor covers thousands of entries.
    """

    def __init__(self, leaves: Sequence[bytes], hasher: TreeHasher = KECCAK) -> None:
        self.hasher = hasher
        self.size = len(leaves)
        leaf_hashes = [hasher.hash_leaf(leaf) for leaf in leaves]
        self._paths: list[list[bytes]] = [[] for _ in leaf_hashes]
        self.root = self._build(leaf_hashes, 0) if leaf_hashes else hasher.empty_root()

    def _build(self, hashes: list[bytes], offset: int) -> bytes:
        # Paths are collected bottom-up: each level appends the sibling
        # subtree's hash to every leaf below it.
        if len(hashes) == 1:
            return hashes[0]
        k = _split(len(hashes))
        left = self._build(hashes[:k], offset)
        right = self._build(hashes[k:], offset + k)
        for i in range(offset, offset + k):
            self._paths[i].append(right)
        for i in range(offset + k, offset + len(hashes)):
            self._paths[i].append(left)
        return self.hasher.hash_children(left, right)

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf `index`, leaf-side first."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} outside a tree of size {self.size}")
        return list(self._paths[index])


class MerkleLevels:
    """An RFC 6962 tree kept as its levels of hashes (2n of them), each path read on demand.

    Cheaper to build and to keep than `MerkleTree`'s every path (n log n hashes): what the
    mirror keeps to answer for a batch whose leaves it stores. Levels are hashed pairwise,
    a level's odd last node carried up unhashed: RFC 6962's tree, whose left subtrees are
    the largest powers of two.
    """

    def __init__(self, leaves: Sequence[bytes], hasher: TreeHasher = KECCAK_BUILD) -> None:
        # The digest called directly, not through hash_leaf and hash_children: at 100,000
        # leaves the two method calls per node are a third of the time.
        digest = hasher.digest
        self.levels = _levels([digest(LEAF_PREFIX + leaf) for leaf in leaves], digest)
        self.size = len(self.levels[0])
        self.root = self.levels[-1][0] if self.size else hasher.empty_root()
        self._digest = digest

    def includes(self, leaf: bytes, index: int) -> bool:
        """Whether `leaf` is the leaf at `index`: then it leads to `root`, whose every node
        was hashed here, and no path need be derived and walked (one hash, not one a level)."""
        return 0 <= index < self.size and self.levels[0][index] == self._digest(LEAF_PREFIX + leaf)

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf `index`, leaf-side first (as `MerkleTree`'s)."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} outside a tree of size {self.size}")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):  # else the node was carried up: no hash on this level
                path.append(level[sibling])
            index >>= 1
        return path


def _levels(level: list[bytes], digest: Callable[[bytes], bytes]) -> list[list[bytes]]:
    """`level` and the levels above it up to the root, hashed pairwise, a level's odd last
    node carried up unhashed."""
    levels = [level]
    while len(level) > 1:
        carried = level[-1:] if len(level) % 2 else []
        pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node has no pair
        level = [digest(NODE_PREFIX + left + right) for left, right in pairs] + carried
        levels.append(level)
    return levels


#: Leaves from which `merkle_root` hashes whole subtrees in a worker per core, when a core
#: is free. Measured on 2 cores (medians of 5): 10,000 leaves gain nothing (forking costs what
#: the second core saves), 20,000 take 62 ms against 84 serially, 50,000 128 against 200,
#: 100,000 235 against 315.
POOL_MIN_LEAVES = 20_000
#: Leaves in each subtree a worker hashes: a power of two, so every chunk but the last is a
#: whole subtree of RFC 6962's tree, whose root is a node of the level SUBTREE_LEAVES spans.
SUBTREE_LEAVES = 1 << 13


def merkle_root(leaves: Sequence[bytes], hasher: TreeHasher = KECCAK_BUILD) -> bytes:
    """The root `MerkleTree(leaves).root` has, in O(n) rather than O(n log n); from
    POOL_MIN_LEAVES on, its subtrees of SUBTREE_LEAVES hashed on every core."""
    return next(merkle_roots([leaves], hasher))


def merkle_roots(
    trees: Sequence[Sequence[bytes]], hasher: TreeHasher = KECCAK_BUILD
) -> Iterator[bytes]:
    """`merkle_root` of each of `trees` (the leaves of each), in order. From POOL_MIN_LEAVES
    leaves in all, one worker per core, started now, hashes the whole subtrees of every
    tree in turn, so a caller may use a root while the workers hash the next trees' (forking
    a large process costs milliseconds: the workers are forked once for all)."""
    if sum(len(leaves) for leaves in trees) < POOL_MIN_LEAVES or not spare_core():
        return (MerkleLevels(leaves, hasher).root for leaves in trees)
    starts = [
        (tree, start)
        for tree, leaves in enumerate(trees)
        for start in range(0, len(leaves) - SUBTREE_LEAVES + 1, SUBTREE_LEAVES)
    ]
    subtrees = map_chunks(
        lambda part: [MerkleLevels(trees[t][s : s + SUBTREE_LEAVES], hasher).root for t, s in part],
        starts,
        chunk=1,
        min_items=0,
    )
    return _joined(trees, subtrees, hasher)


def _joined(
    trees: Sequence[Sequence[bytes]], subtrees: Iterator[bytes], hasher: TreeHasher
) -> Iterator[bytes]:
    """The root of each of `trees` from the roots of its whole subtrees, read in turn from
    `subtrees`, and of its partial last one, hashed here while the workers hash. The last
    tree reads `subtrees` to its end, so the workers are waited for, not stopped."""
    for n, leaves in enumerate(trees):
        whole = len(leaves) - len(leaves) % SUBTREE_LEAVES
        rest = [MerkleLevels(leaves[whole:], hasher).root] if whole < len(leaves) else []
        last = n == len(trees) - 1
        own = subtrees if last else itertools.islice(subtrees, whole // SUBTREE_LEAVES)
        nodes = [*own, *rest]
        yield _levels(nodes, hasher.digest)[-1][0] if nodes else hasher.empty_root()


def verify_inclusion(
    leaf: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root: bytes,
    hasher: TreeHasher = KECCAK,
) -> bool:
    """Check an audit path with the RFC 9162 §2.1.3.2 algorithm.

    Returns False (never raises) for any mismatch, including an index outside
    the tree or a path of the wrong length.
    """
    if not 0 <= index < size:
        return False
    # The digest called directly, as in `MerkleLevels`: verify checks a proof per entry, and
    # the method calls were a sixth of it.
    digest = hasher.digest
    fn, sn = index, size - 1
    r = digest(LEAF_PREFIX + leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = digest(NODE_PREFIX + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = digest(NODE_PREFIX + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
