"""Sync against a real anvil node: how many JSON-RPC requests it makes (counted at the
provider), the chain's index of entries the mirror lacks, and reorgs."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE, brand_workspace
from eth_account import Account
from web3.types import RPCEndpoint

from labourledger.index import revocation_subject
from labourledger.ledger import Ledger
from labourledger.status import workspace_status
from labourledger.verify.results import Outcome

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("passphrase_env")]

#: Anchors sent for the counting test: far more than the requests a sync may make.
ANCHORS = 40


def count_requests(ledger: Ledger) -> Counter[str]:
    """A counter of every JSON-RPC request the ledger's provider sends from now on (logs
    are read from the provider directly, past web3's middlewares)."""
    calls: Counter[str] = Counter()
    provider = ledger.chain.w3.provider
    send = provider.make_request

    def counted(method: RPCEndpoint, params: Any) -> Any:
        calls[method] += 1
        return send(method, params)

    provider.make_request = counted  # type: ignore[method-assign]
    return calls


def send_anchors(ledger: Ledger, count: int) -> None:
    """`count` anchors of random roots by the brand, one block each, sent without waiting
    for each to be mined; returns once the last one is."""
    chain = ledger.chain
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    contract = chain.w3.eth.contract(address=chain.contract_address, abi=chain._factory.abi)
    nonce = chain.w3.eth.get_transaction_count(brand.address, "pending")
    for i in range(count):
        tx = contract.functions.anchor(os.urandom(32), 1).build_transaction(
            {"from": brand.address, "nonce": nonce + i, "gas": 200_000}
        )
        sent = chain.w3.eth.send_raw_transaction(brand.sign_transaction(tx).raw_transaction)
    chain.w3.eth.wait_for_transaction_receipt(sent)


def test_sync_makes_requests_per_chunk_not_per_event(tmp_path: Path, anvil_url: str) -> None:
    ledger = brand_workspace(tmp_path / "ws", 1, chain=anvil_url)
    send_anchors(ledger, ANCHORS)
    head = ledger.chain.latest_block()
    fresh = Ledger.open(tmp_path / "ws")
    calls = count_requests(fresh)

    first = fresh.sync()
    assert first.anchors == ANCHORS and first.to_block == head
    assert head - first.from_block >= ANCHORS  # one block per anchor
    # The head, one eth_getLogs for the range, and a block for the timestamps of nodes that
    # leave them out of logs (anvil includes them): no request per event or per block.
    assert calls["eth_getLogs"] == 1, calls
    assert calls["eth_getBlockByNumber"] <= 2, calls
    assert sum(calls.values()) <= 4, calls
    rows = fresh.mirror.anchors_since(0)
    assert all(r["timestamp"] and r["block_hash"] for r in rows)

    calls.clear()
    again = fresh.sync()
    assert (again.anchors, again.role_events, again.indexed) == (0, 0, 0)
    assert sum(calls.values()) <= 2, calls  # the head, and the last synced block's hash

    send_anchors(ledger, 3)
    calls.clear()
    assert fresh.sync().anchors == 3
    assert calls["eth_getLogs"] == 1 and sum(calls.values()) <= 4, calls


def test_sync_names_indexed_entries_the_mirror_lacks_and_a_reorg_takes_them_back(
    tmp_path: Path, anvil_url: str
) -> None:
    ledger = brand_workspace(tmp_path / "ws", 2, chain=anvil_url)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    [mine] = ledger.anchor(brand)
    assert ledger.sync().missing == []
    [mill, _] = ledger.facilities()
    mill_id = bytes.fromhex(mill.facility_id[2:])
    own = ledger.mirror.anchor_members(mine.root)[0][0]
    rpc = ledger.chain.w3.provider
    snapshot = rpc.make_request(RPCEndpoint("evm_snapshot"), [])["result"]

    # An auditor anchors an audit of the mill, a revocation of the brand's entry, and an
    # audit of a facility this mirror does not know; only the first two concern it.
    auditor = Account.create()
    ledger.chain.fund(auditor.address, 10**18)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    ledger.grant_role(admin, "AUDITOR", auditor.address)
    audit, revocation, elsewhere = os.urandom(32), os.urandom(32), os.urandom(32)
    indexed = [
        (mill_id, audit),
        (revocation_subject(bytes.fromhex(own[2:])), revocation),
        (os.urandom(32), elsewhere),
    ]
    ledger.chain.anchor(auditor, os.urandom(32), 3, indexed)

    result = ledger.sync()
    assert result.indexed == 3
    assert result.missing == ["0x" + audit.hex(), "0x" + revocation.hex()]
    assert result.missing_hint and "import the signed entry files" in result.missing_hint
    assert ledger.sync().missing == result.missing  # still lacking, still named

    # The auditor's block is replaced by a longer fork without it.
    rpc.make_request(RPCEndpoint("evm_revert"), [snapshot])
    rpc.make_request(RPCEndpoint("anvil_mine"), [5])
    after = ledger.sync()
    assert after.missing == [] and after.orphaned == 1  # the auditor's anchor, not ours
    assert ledger.mirror.get_anchor(mine.root)["status"] == "submitted"  # type: ignore[index]
    assert ledger.mirror.counts()["pending"] == 0


def test_entry_show_says_reorged_until_sync_and_as_of_a_block_offline(
    tmp_path: Path, anvil_url: str
) -> None:
    ledger = brand_workspace(tmp_path / "ws", 1, chain=anvil_url)
    rpc = ledger.chain.w3.provider
    snapshot = rpc.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    [mine] = ledger.anchor(brand)
    ledger.sync()
    [entry_id] = [e for e, _, _ in ledger.mirror.anchor_members(mine.root)]
    assert ledger.describe(entry_id).status == "submitted"

    rpc.make_request(RPCEndpoint("evm_revert"), [snapshot])
    rpc.make_request(RPCEndpoint("anvil_mine"), [3])
    view = ledger.describe(entry_id)
    assert view.status == "reorged" and view.status_note and "sync" in view.status_note
    assert workspace_status(ledger).reorged_anchors == 1

    assert ledger.sync().orphaned == 1
    assert workspace_status(ledger).reorged_anchors == 0
    assert ledger.describe(entry_id).status == "pending"
    ledger.anchor(brand)
    synced = ledger.sync().to_block

    # Without the chain, the mirror's word holds as of the last block synced.
    ledger.workspace.config.chain.url = "http://127.0.0.1:9"
    del ledger.__dict__["chain"]
    offline = ledger.describe(entry_id)
    assert offline.status == "submitted" and offline.as_of_block == synced
    assert f"as of block {synced}" in (offline.status_note or "")
    assert workspace_status(ledger).as_of_block == synced
    checks = {c.check: c for c in ledger.doctor()}
    assert checks["chain"].outcome is Outcome.FAIL
    assert checks["entries"].outcome is Outcome.PASS  # the mirror is still re-checked
    assert f"as of block {synced}" in checks["chain anchors"].reason
