"""LabourLedger.sol itself: gas bounds, role gating and verifyInclusion against the Python tree."""

from __future__ import annotations

import random

import pytest
from conftest import DeployedLedger
from eth_utils import keccak

from labourledger.errors import ChainError
from labourledger.merkle import MerkleTree, verify_inclusion

pytestmark = pytest.mark.integration

ANCHOR_GAS_LIMIT = 50_000


@pytest.mark.parametrize("role", ["ADMIN", "BRAND", "AUDITOR", "SUPPLIER"])
def test_anchor_gas_is_bounded_for_every_role_and_batch_size(
    chain: DeployedLedger, role: str
) -> None:
    c = chain.chain
    member = chain.admin
    if role != "ADMIN":
        member = chain.new_account()
        granter = chain.admin
        if role == "SUPPLIER":  # only a brand admins the supplier role
            granter = chain.new_account()
            c.grant_role(chain.admin, "BRAND", granter.address)
        c.grant_role(granter, role, member.address)
    for size in (1, 1024, 4096, 2**32 - 1):
        receipt = c.anchor(member, keccak(text=f"{role} {size}"), size)
        assert receipt.gas_used <= ANCHOR_GAS_LIMIT, (role, size, receipt.gas_used)


def test_batch_beyond_uint32_is_refused(chain: DeployedLedger) -> None:
    with pytest.raises(ChainError) as too_large:
        chain.chain.anchor(chain.admin, keccak(text="huge"), 2**32)
    assert too_large.value.error_name == "BatchTooLarge"


def test_revoked_member_can_no_longer_anchor(chain: DeployedLedger) -> None:
    c = chain.chain
    auditor = chain.new_account()
    c.grant_role(chain.admin, "AUDITOR", auditor.address)
    c.grant_role(chain.admin, "BRAND", auditor.address)
    c.revoke_role(chain.admin, "AUDITOR", auditor.address)
    c.anchor(auditor, keccak(text="still a brand"), 1)  # one role left: may anchor
    c.revoke_role(chain.admin, "BRAND", auditor.address)
    with pytest.raises(ChainError) as refused:
        c.anchor(auditor, keccak(text="no role left"), 1)
    assert refused.value.error_name == "NotAMember"


def test_verify_inclusion_agrees_with_python_on_random_trees(chain: DeployedLedger) -> None:
    c = chain.chain
    rng = random.Random(6962)
    for size in [1, 2, 3, 7, 8, 9, *rng.sample(range(10, 300), 6)]:
        leaves = [rng.randbytes(32) for _ in range(size)]
        tree = MerkleTree(leaves)
        index = rng.randrange(size)
        proof = tree.inclusion_proof(index)
        assert c.verify_inclusion(leaves[index], index, size, proof, tree.root)
        assert verify_inclusion(leaves[index], index, size, proof, tree.root)
        tampered = [
            (rng.randbytes(32), index, size, proof, tree.root),
            (leaves[index], index, size, proof, rng.randbytes(32)),
            (leaves[index], (index + 1) % (size + 1), size, proof, tree.root),
            (leaves[index], index, size + 1, proof, tree.root),
        ]
        if proof:
            bad = list(proof)
            bad[rng.randrange(len(bad))] = rng.randbytes(32)
            tampered += [
                (leaves[index], index, size, bad, tree.root),
                (leaves[index], index, size, proof[:-1], tree.root),
            ]
        for leaf, i, n, path, root in tampered:
            python = verify_inclusion(leaf, i, n, path, root)
            assert c.verify_inclusion(leaf, i, n, path, root) == python
            if (leaf, i, n, path, root) != (leaves[index], index, size, proof, tree.root):
                assert python is False or (i, n) != (index, size)
