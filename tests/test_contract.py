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
        # Before its root is anchored, no path proves anything.
        assert not c.verify_inclusion(leaves[index], index, size, proof, tree.root)
        c.anchor(chain.admin, tree.root, size)
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
            python = verify_inclusion(leaf, i, n, path, root) and n == size
            assert c.verify_inclusion(leaf, i, n, path, root) == python


def test_the_zero_root_is_refused(chain: DeployedLedger) -> None:
    for indexed in ((), ((keccak(text="facility"), keccak(text="audit")),)):
        with pytest.raises(ChainError) as zero:
            chain.chain.anchor(chain.admin, b"\x00" * 32, 1, indexed)
        assert zero.value.error_name == "ZeroRoot"


def test_indexed_entries_are_found_by_subject_with_their_anchor(chain: DeployedLedger) -> None:
    c = chain.chain
    auditor = chain.new_account()
    c.grant_role(chain.admin, "AUDITOR", auditor.address)
    mill, farm = keccak(text="mill"), keccak(text="farm")
    audits = [keccak(text=f"audit {i}") for i in range(3)]
    first = c.anchor(auditor, keccak(text="root 1"), 5, [(mill, audits[0]), (farm, audits[1])])
    second = c.anchor(chain.admin, keccak(text="root 2"), 1, [(mill, audits[2])])
    c.anchor(chain.admin, keccak(text="root 3"), 4)  # nothing indexed
    found = c.index_events([mill])
    assert [(e.entry_id, e.root, e.submitter, e.block_number) for e in found] == [
        (audits[0], keccak(text="root 1"), auditor.address, first.block_number),
        (audits[2], keccak(text="root 2"), chain.admin.address, second.block_number),
    ]
    assert {e.subject for e in c.index_events([mill, farm])} == {mill, farm}
    assert c.index_events([keccak(text="nobody")]) == []
    assert c.index_events([mill], from_block=second.block_number)[0].entry_id == audits[2]


def test_an_index_must_match_its_batch(chain: DeployedLedger) -> None:
    pair = (keccak(text="facility"), keccak(text="audit"))
    with pytest.raises(ChainError) as too_many:
        chain.chain.anchor(chain.admin, keccak(text="small"), 1, [pair, pair])
    assert too_many.value.error_name == "IndexMismatch"


def test_only_the_onboarding_brand_or_the_admin_revokes_a_supplier(chain: DeployedLedger) -> None:
    c = chain.chain
    brand, rival, supplier = (chain.new_account() for _ in range(3))
    for b in (brand, rival):
        c.grant_role(chain.admin, "BRAND", b.address)
    c.grant_role(brand, "SUPPLIER", supplier.address)
    assert c.supplier_onboarded_by(supplier.address) == brand.address
    with pytest.raises(ChainError) as refused:
        c.revoke_role(rival, "SUPPLIER", supplier.address)
    assert refused.value.error_name == "NotOnboardingBrand"
    assert c.has_role("SUPPLIER", supplier.address)
    c.revoke_role(brand, "SUPPLIER", supplier.address)
    assert not c.has_role("SUPPLIER", supplier.address)
    assert c.supplier_onboarded_by(supplier.address) is None
    c.grant_role(rival, "SUPPLIER", supplier.address)
    c.revoke_role(chain.admin, "SUPPLIER", supplier.address)  # the admin always may
    assert not c.has_role("SUPPLIER", supplier.address)


def test_the_deployed_code_is_the_shipped_runtime(chain: DeployedLedger) -> None:
    assert chain.chain.runtime_code_matches()


def test_a_grievance_channel_is_granted_by_the_admin_and_may_anchor(
    chain: DeployedLedger,
) -> None:
    c = chain.chain
    channel, brand = chain.new_account(), chain.new_account()
    c.grant_role(chain.admin, "BRAND", brand.address)
    with pytest.raises(ChainError):
        c.grant_role(brand, "GRIEVANCE_CHANNEL", channel.address)
    c.grant_role(chain.admin, "GRIEVANCE_CHANNEL", channel.address)
    c.anchor(channel, keccak(text="grievances"), 2, [(keccak(text="mill"), keccak(text="g1"))])
    assert [e.submitter for e in c.index_events([keccak(text="mill")])] == [channel.address]


INDEXED_GAS_ROOT = 50_000
INDEXED_GAS_PER_ENTRY = 3_000


def test_indexed_anchor_gas_stays_within_the_budget(chain: DeployedLedger) -> None:
    c = chain.chain
    gas = {}
    for n in (1, 64, 256):
        pairs = [(keccak(text=f"s{n} {i % 7}"), keccak(text=f"e{n} {i}")) for i in range(n)]
        gas[n] = c.anchor(chain.admin, keccak(text=f"indexed {n}"), n, pairs).gas_used
        assert gas[n] <= INDEXED_GAS_ROOT + INDEXED_GAS_PER_ENTRY * n, (n, gas)
    # Each budget on its own: the marginal cost of an entry, and what the root costs without it.
    per_entry = (gas[64] - gas[1]) / 63
    assert per_entry <= INDEXED_GAS_PER_ENTRY, gas
    assert gas[1] - per_entry <= INDEXED_GAS_ROOT, gas


def test_runtime_code_check_refuses_another_contract(chain: DeployedLedger) -> None:
    c = chain.chain
    genuine = c.contract_address
    assert genuine is not None
    # Init code returning the one-byte runtime 0xfe: some contract that is not LabourLedger.
    stranger = c._tx.send(chain.admin, None, "0x6001600c60003960016000f3fe", "deploy")
    assert stranger.contract_address is not None
    c.attach(stranger.contract_address)
    assert not c.runtime_code_matches()
    c.attach(genuine)
    assert c.runtime_code_matches()


def test_a_former_brand_no_longer_revokes_its_suppliers(chain: DeployedLedger) -> None:
    c = chain.chain
    brand, supplier = chain.new_account(), chain.new_account()
    c.grant_role(chain.admin, "BRAND", brand.address)
    c.grant_role(brand, "SUPPLIER", supplier.address)
    c.grant_role(brand, "SUPPLIER", supplier.address)  # granted again: still brand's supplier
    c.revoke_role(chain.admin, "BRAND", brand.address)
    with pytest.raises(ChainError) as refused:
        c.revoke_role(brand, "SUPPLIER", supplier.address)
    assert refused.value.error_name == "AccessControlUnauthorizedAccount"
    assert c.supplier_onboarded_by(supplier.address) == brand.address
