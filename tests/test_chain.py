"""The contract client against both chains: embedded py-evm and anvil.

Every test takes the `chain` fixture, which runs it once on each chain with a
fresh deployment.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import DeployedLedger, running_anvil
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import RPCEndpoint

from labourledger.chain import ROLES, AnchorReceipt, LedgerChain, open_rpc, role_name
from labourledger.errors import ChainError, ChainUnavailable, InputError
from labourledger.merkle import MerkleTree

pytestmark = pytest.mark.integration

ROOT_A = keccak(text="batch A")
ROOT_B = keccak(text="batch B")
ROOT_C = keccak(text="batch C")


def test_deploy_sets_contract_and_admin(chain: DeployedLedger) -> None:
    c = chain.chain
    assert c.contract_address is not None
    assert c.w3.eth.get_code(c.contract_address)
    assert c.has_role("ADMIN", chain.admin.address)
    assert not c.has_role("BRAND", chain.admin.address)
    assert c.chain_id == c.w3.eth.chain_id
    for name, role in ROLES.items():
        assert role == (b"\x00" * 32 if name == "ADMIN" else keccak(text=f"{name}_ROLE"))
        assert role_name(role) == name
    assert role_name(b"\x01" * 32) == "0x" + "01" * 32


def test_attach_checks_for_code(chain: DeployedLedger) -> None:
    c = chain.chain
    deployed = c.contract_address
    assert deployed is not None
    with pytest.raises(InputError, match="no contract code"):
        c.attach(chain.admin.address)
    assert c.contract_address == deployed
    c.attach(deployed.lower())
    assert c.contract_address == deployed
    assert c.has_role("ADMIN", chain.admin.address)


def test_grant_and_revoke_with_history(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = Account.create()
    granted = c.grant_role(chain.admin, "BRAND", brand.address)
    revoked = c.revoke_role(chain.admin, "brand", brand.address)
    assert revoked.block_number > granted.block_number
    assert granted.gas_used > 0
    assert not c.has_role("BRAND", brand.address)
    assert c.has_role("BRAND", brand.address, block=granted.block_number)
    assert not c.has_role("BRAND", brand.address, block=granted.block_number - 1)
    with pytest.raises(ChainError, match=f"has_role: {c.label} answered"):
        c.has_role("BRAND", brand.address, block=c.latest_block() + 10)
    with pytest.raises(InputError, match="role: expected one of"):
        c.grant_role(chain.admin, "OWNER", brand.address)
    with pytest.raises(InputError, match="account: not an Ethereum address"):
        c.grant_role(chain.admin, "BRAND", "0x1234")


def test_brand_onboards_suppliers_but_not_auditors(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = chain.new_account()
    supplier = Account.create()
    c.grant_role(chain.admin, "BRAND", brand.address)
    c.grant_role(brand, "SUPPLIER", supplier.address)
    assert c.has_role("SUPPLIER", supplier.address)
    with pytest.raises(ChainError) as raised:
        c.grant_role(brand, "AUDITOR", supplier.address)
    assert raised.value.error_name == "AccessControlUnauthorizedAccount"
    assert f"account={brand.address}" in str(raised.value)
    assert "neededRole=ADMIN" in str(raised.value)


def test_anchor_and_read_it_back(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = chain.new_account()
    c.grant_role(chain.admin, "BRAND", brand.address)
    receipt = c.anchor(brand, ROOT_A, 1000)
    assert (receipt.root, receipt.size, receipt.submitter) == (ROOT_A, 1000, brand.address)
    assert receipt.block_number == c.latest_block()
    assert receipt.block_hash == c.block_hash(receipt.block_number)
    assert receipt.timestamp == c.block_timestamp(receipt.block_number)
    assert receipt.gas_used == c.w3.eth.get_transaction_receipt(receipt.tx_hash)["gasUsed"]

    record = c.anchor_of(ROOT_A)
    assert record is not None
    assert (record.root, record.submitter, record.size) == (ROOT_A, brand.address, 1000)
    assert (record.block_number, record.timestamp) == (receipt.block_number, receipt.timestamp)
    assert c.anchor_of(ROOT_A, block=receipt.block_number - 1) is None
    assert c.anchor_of(ROOT_B) is None


def test_anchor_reverts_carry_the_custom_error(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = chain.new_account()
    c.grant_role(chain.admin, "BRAND", brand.address)
    c.anchor(brand, ROOT_A, 3)
    head = c.latest_block()

    with pytest.raises(ChainError) as duplicate:
        c.anchor(brand, ROOT_A, 3)
    assert duplicate.value.error_name == "RootAlreadyAnchored"
    assert "0x" + ROOT_A.hex() in str(duplicate.value)

    with pytest.raises(ChainError) as empty:
        c.anchor(brand, ROOT_B, 0)
    assert empty.value.error_name == "EmptyBatch"

    outsider = chain.new_account()
    with pytest.raises(ChainError) as outside:
        c.anchor(outsider, ROOT_B, 1)
    assert outside.value.error_name == "NotAMember"

    # Reverts are caught at gas estimation: nothing was mined for them beyond the funding.
    assert c.latest_block() == head + 1
    assert c.anchor_of(ROOT_B) is None


def test_anchor_rejects_bad_input_before_sending(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = chain.new_account()
    with pytest.raises(InputError, match="root: expected 32 bytes"):
        c.anchor(brand, b"\x01" * 31, 1)
    with pytest.raises(InputError, match="size: must fit in uint64"):
        c.anchor(brand, ROOT_A, 2**64)


def test_unfunded_sender_is_told_to_fund(chain: DeployedLedger) -> None:
    c = chain.chain
    broke = Account.create()
    c.grant_role(chain.admin, "BRAND", broke.address)
    with pytest.raises(InputError, match=f"{broke.address} has 0 wei .* fund it first"):
        c.anchor(broke, ROOT_A, 1)


def test_events_by_block_range_in_small_chunks(chain: DeployedLedger) -> None:
    c = chain.chain
    brand = chain.new_account()
    auditor = Account.create()
    brand_grant = c.grant_role(chain.admin, "BRAND", brand.address)
    auditor_grant = c.grant_role(chain.admin, "AUDITOR", auditor.address)
    a = c.anchor(brand, ROOT_A, 1)
    b = c.anchor(brand, ROOT_B, 2)
    auditor_revoke = c.revoke_role(chain.admin, "AUDITOR", auditor.address)
    cc = c.anchor(brand, ROOT_C, 3)
    latest = c.latest_block()

    anchored = c.anchored_events(chain.deploy_block, latest, chunk=2)
    assert [(e.root, e.size, e.submitter) for e in anchored] == [
        (ROOT_A, 1, brand.address),
        (ROOT_B, 2, brand.address),
        (ROOT_C, 3, brand.address),
    ]
    assert [(e.block_number, e.block_hash, e.tx_hash) for e in anchored] == [
        (r.block_number, r.block_hash, r.tx_hash) for r in (a, b, cc)
    ]
    assert anchored == c.anchored_events(chain.deploy_block, latest)
    assert [e.root for e in c.anchored_events(b.block_number, latest, chunk=1)] == [
        ROOT_B,
        ROOT_C,
    ]
    assert c.anchored_events(a.block_number + 1, b.block_number - 1, chunk=2) == []

    roles = c.role_events(chain.deploy_block, latest, chunk=2)
    assert [(e.role, e.account, e.granted) for e in roles] == [
        ("ADMIN", chain.admin.address, True),
        ("BRAND", brand.address, True),
        ("AUDITOR", auditor.address, True),
        ("AUDITOR", auditor.address, False),
    ]
    assert {e.sender for e in roles} == {chain.admin.address}
    assert [e.block_number for e in roles] == [
        chain.deploy_block,
        brand_grant.block_number,
        auditor_grant.block_number,
        auditor_revoke.block_number,
    ]
    assert roles[-1].tx_hash == auditor_revoke.tx_hash
    assert c.role_events(chain.deploy_block, latest) == roles
    with pytest.raises(InputError, match="chunk"):
        c.role_events(0, latest, chunk=0)


def test_verify_inclusion_on_chain(chain: DeployedLedger) -> None:
    c = chain.chain
    entries = [keccak(text=f"entry {i}") for i in range(5)]
    tree = MerkleTree(entries)
    assert not c.verify_inclusion(entries[0], 0, tree.size, tree.inclusion_proof(0), tree.root)
    c.anchor(chain.admin, tree.root, tree.size)  # only an anchored root proves anything
    for index, entry in enumerate(entries):
        proof = tree.inclusion_proof(index)
        assert c.verify_inclusion(entry, index, tree.size, proof, tree.root)
    proof = tree.inclusion_proof(3)
    assert not c.verify_inclusion(entries[3], 2, tree.size, proof, tree.root)
    assert not c.verify_inclusion(entries[2], 3, tree.size, proof, tree.root)
    assert not c.verify_inclusion(entries[3], 3, tree.size, proof[:-1], tree.root)


def test_index_events_across_chunks_and_many_subjects(chain: DeployedLedger) -> None:
    """One-block chunks give the same events; more subjects than one topic filter holds are
    asked for in several requests."""
    from labourledger.chain.events import SUBJECTS_PER_REQUEST

    c = chain.chain
    count = SUBJECTS_PER_REQUEST + 5
    items = [(keccak(text=f"f {i}"), keccak(text=f"a {i}")) for i in range(count)]
    first = c.anchor(chain.admin, ROOT_A, count, items[:-1])
    c.anchor(chain.admin, ROOT_B, 1)
    last = c.anchor(chain.admin, ROOT_C, 1, items[-1:])
    found = c.index_events([subject for subject, _ in items], chain.deploy_block)
    assert [(e.subject, e.entry_id) for e in found] == items
    assert {e.root for e in found[:-1]} == {ROOT_A} and found[-1].root == ROOT_C
    assert found[-1].block_number == last.block_number > first.block_number
    assert c.index_events([s for s, _ in items], chain.deploy_block, chunk=1) == found
    assert c.index_events([items[-1][0]], to_block=last.block_number - 1) == []


def test_logs_are_asked_again_in_halves_when_a_node_refuses_a_range(
    chain: DeployedLedger,
) -> None:
    """A node that refuses a range as too large is asked for halves until it answers; one
    that refuses for any other reason fails the read with its own message."""
    c = chain.chain
    for root, size in ((ROOT_A, 1), (ROOT_B, 2), (ROOT_C, 3)):
        c.anchor(chain.admin, root, size)
    latest = c.latest_block()
    expected = c.anchored_events(chain.deploy_block, latest)
    provider = c.w3.provider
    send = provider.make_request
    asked: list[int] = []
    refusal = {"code": -32005, "message": "query returned more than 10000 results"}

    def refusing(method: RPCEndpoint, params: Any) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            asked.append(span)
            if span > 2:
                return {"jsonrpc": "2.0", "id": 1, "error": refusal}
        return send(method, params)

    provider.make_request = refusing  # type: ignore[method-assign]
    try:
        assert c.anchored_events(chain.deploy_block, latest, chunk=64) == expected
        assert asked[0] == latest - chain.deploy_block + 1 > 2 and max(asked[1:]) > 0
        assert all(span <= 2 for span in asked[asked.index(2) :])
        refusal = {"code": -32000, "message": "node is syncing"}
        with pytest.raises(ChainError, match="node is syncing"):
            c.anchored_events(chain.deploy_block, latest)
    finally:
        provider.make_request = send  # type: ignore[method-assign]


def test_a_receipt_the_node_withholds_mangles_or_refuses_fails_the_wait(
    chain: DeployedLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receipt is read as the node sends it: one that never comes ends the wait with
    the transaction named (it may still be mined), and a malformed one or an error answer
    fails it in one line naming the node, never a KeyError from deep inside."""
    from labourledger.chain import transactions

    c = chain.chain
    provider = c.w3.provider
    send = provider.make_request
    answer: dict[str, Any] = {}

    def altered(method: RPCEndpoint, params: Any) -> Any:
        if method == "eth_getTransactionReceipt" and answer:
            return {"jsonrpc": "2.0", "id": 1, **answer}
        return send(method, params)

    monkeypatch.setattr(provider, "make_request", altered)
    monkeypatch.setattr(transactions, "RECEIPT_TIMEOUT_SECONDS", 0.3)
    answer["result"] = None
    with pytest.raises(ChainError, match=r"anchor: transaction 0x[0-9a-f]{64} was not mined"):
        c.anchor(chain.admin, ROOT_A, 1)
    assert c.anchor_of(ROOT_A) is not None  # mined all the same: the node withheld it
    answer["result"] = {"blockNumber": "0x1", "status": "0x1"}
    with pytest.raises(ChainError, match=r"anchor: .* sent a malformed receipt for 0x"):
        c.anchor(chain.admin, ROOT_B, 1)
    answer.clear()
    answer["error"] = {"code": -32000, "message": "receipts are pruned"}
    with pytest.raises(ChainError, match=r"anchor: .* answered: receipts are pruned"):
        c.anchor(chain.admin, ROOT_C, 1)
    answer.clear()
    assert c.anchor(chain.admin, keccak(text="batch D"), 1).gas_used > 0


def test_blocks_hashes_and_timestamps(chain: DeployedLedger) -> None:
    c = chain.chain
    latest = c.latest_block()
    assert latest >= 2
    hashes = [c.block_hash(n) for n in range(latest + 1)]
    assert len(set(hashes)) == len(hashes)
    assert all(len(h) == 32 for h in hashes)
    for n in range(1, latest + 1):
        assert c.w3.eth.get_block(n)["parentHash"] == hashes[n - 1]
    stamps = [c.block_timestamp(n) for n in range(latest + 1)]
    assert stamps == sorted(stamps)
    with pytest.raises(ChainError, match=f"block {latest + 100} not found"):
        c.block_hash(latest + 100)


def test_fund_moves_exact_amounts(chain: DeployedLedger) -> None:
    c = chain.chain
    fresh = Account.create()
    assert c.balance(fresh.address) == 0
    result = c.fund(fresh.address, 12345)
    assert c.balance(fresh.address) == 12345
    assert result.block_number == c.latest_block()
    assert result.gas_used == 21_000
    c.fund(fresh.address.lower(), 5)
    assert c.balance(fresh.address) == 12350
    with pytest.raises(InputError, match="amount"):
        c.fund(fresh.address, 0)
    with pytest.raises(InputError, match="address: not an Ethereum address"):
        c.fund("alice", 1)


# Failures only a JSON-RPC node can have: not answering, or no dev account to fund from.


def test_rpc_unreachable_node_names_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        with pytest.raises(ChainUnavailable, match=f"chain {url} did not answer eth_chainId") as e:
            open_rpc(url, timeout=2)
    # The socket's reason, not urllib3's pool and retries around it.
    assert "Connection refused" in str(e.value) and "HTTPConnectionPool" not in str(e.value)


@pytest.mark.parametrize("url", ["not a url", "", "embedded", "127.0.0.1:8545", "ftp://x/"])
def test_rpc_url_that_names_no_node_is_bad_input(url: str) -> None:
    with pytest.raises(InputError, match="chain: expected a JSON-RPC URL"):
        open_rpc(url)


def test_rpc_fund_without_dev_accounts_asks_for_external_funding() -> None:
    with running_anvil("--accounts", "0") as url:
        c = open_rpc(url)
        target = Account.create().address
        with pytest.raises(InputError, match=f"no unlocked dev account .* send ETH to {target}"):
            c.fund(target, 1)


def test_rpc_race_lost_after_estimate_names_the_error() -> None:
    """Two brands anchor one root in the same block: the loser's mined revert is decoded."""
    with running_anvil() as url:
        first = open_rpc(url)
        admin = Account.create()
        first.fund(admin.address, 10**20)
        first.deploy(admin)
        brands = [Account.create(), Account.create()]
        for brand in brands:
            first.fund(brand.address, 10**19)
            first.grant_role(admin, "BRAND", brand.address)
        second = open_rpc(url)
        assert first.contract_address is not None
        second.attach(first.contract_address)

        first.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [
                pool.submit(c.anchor, brand, ROOT_A, 1)
                for c, brand in zip((first, second), brands, strict=True)
            ]
            while len(first.w3.eth.get_block("pending")["transactions"]) < 2:
                time.sleep(0.02)
            first.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
            outcomes = [run.exception() or run.result() for run in runs]

    errors = [o for o in outcomes if isinstance(o, ChainError)]
    receipts = [o for o in outcomes if isinstance(o, AnchorReceipt)]
    assert len(errors) == len(receipts) == 1
    assert errors[0].error_name == "RootAlreadyAnchored"
    assert f"in block {receipts[0].block_number}" in str(errors[0])


def test_the_embedded_chain_answers_get_logs_as_eth_tester_does(tmp_path: Path) -> None:
    # The embedded provider reads logs from py-evm's receipts itself (eth-tester's own
    # eth_getLogs normalises every log before filtering); both must give the same logs.
    from eth_tester import EthereumTester
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    from labourledger.chain import open_embedded
    from labourledger.chain.events import ANCHORED, INDEXED, ROLE_GRANTED

    c = open_embedded(tmp_path / "embedded.sqlite")
    admin = Account.create()
    c.fund(admin.address, 10**20)
    deployed = c.deploy(admin)
    brand = Account.create()
    c.grant_role(admin, "BRAND", brand.address)
    c.fund(brand.address, 10**19)
    for root, size in ((ROOT_A, 1), (ROOT_B, 2), (ROOT_C, 3)):
        c.anchor(brand, root, size)
    fast = c.w3
    plain = Web3(EthereumTesterProvider(EthereumTester(fast.provider._backend)))  # type: ignore[attr-defined]
    latest = c.latest_block()
    hexed = ["0x" + t.hex() for t in (ANCHORED, INDEXED, ROLE_GRANTED, ROOT_B)]
    queries = [
        {"fromBlock": deployed.block_number, "toBlock": latest},
        {"fromBlock": 0, "toBlock": "latest", "address": c.contract_address},
        {"fromBlock": deployed.block_number + 2, "toBlock": latest - 1, "topics": [hexed[0]]},
        {"fromBlock": 0, "toBlock": latest, "topics": [[hexed[0], hexed[2]]]},
        {"fromBlock": 0, "toBlock": latest, "topics": [hexed[0], hexed[3]]},
        {"fromBlock": 0, "toBlock": latest, "topics": [None, [hexed[3]]]},
        {"fromBlock": latest, "toBlock": latest, "address": brand.address},
    ]
    fields = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash",
              "transactionIndex", "logIndex")  # fmt: skip

    def logs(w3: Web3, query: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(log[f] for f in fields) for log in w3.eth.get_logs(query)]  # type: ignore[arg-type]

    for query in queries:
        assert logs(fast, query) == logs(plain, query), query
    assert len(logs(fast, queries[4])) == 1 and len(logs(fast, queries[0])) > 4


def test_the_embedded_chain_answers_receipts_as_eth_tester_does(tmp_path: Path) -> None:
    # The embedded provider writes receipts itself, in a node's form (eth-tester, then its
    # middleware, reformatted every log); web3 must read the same receipt from both, for a
    # deployment, a transfer and anchors with and without Indexed logs.
    from eth_bloom import BloomFilter
    from eth_tester import EthereumTester
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    from labourledger.chain import open_embedded

    c = open_embedded(tmp_path / "embedded.sqlite")
    admin = Account.create()
    sent = [c.fund(admin.address, 10**20), c.deploy(admin)]
    brand = Account.create()
    sent += [c.grant_role(admin, "BRAND", brand.address), c.fund(brand.address, 10**19)]
    items = _index_items(40)
    anchors = [c.anchor(brand, ROOT_A, 1), c.anchor(brand, ROOT_B, 40, items)]
    plain = Web3(EthereumTesterProvider(EthereumTester(c.w3.provider._backend)))  # type: ignore[attr-defined]
    log_fields = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash",
                  "transactionIndex", "logIndex")  # fmt: skip
    for tx_hash in [s.tx_hash for s in sent] + [a.tx_hash for a in anchors]:
        ours, theirs = (dict(w3.eth.get_transaction_receipt(tx_hash)) for w3 in (c.w3, plain))
        logs = [tuple(log[f] for f in log_fields) for log in ours.pop("logs")]
        assert logs == [tuple(log[f] for f in log_fields) for log in theirs.pop("logs")]
        theirs.pop("state_root")  # eth-tester's own field: a node has no such key
        theirs["to"] = theirs["to"] or None  # a creation's: eth-tester says "", a node null
        bloom = int.from_bytes(ours.pop("logsBloom"), "big")  # a node's field, not eth-tester's
        assert ours == theirs, tx_hash.hex()
        assert (bloom != 0) == bool(logs)
        filtered = BloomFilter(bloom)
        for address, topics, *_ in logs:
            assert all(bytes(x) in filtered for x in (bytes.fromhex(address[2:]), *topics))
    assert sent[1].contract_address == c.contract_address
    assert len(c.w3.eth.get_transaction_receipt(anchors[1].tx_hash)["logs"]) == 41
    assert c.w3.eth.get_transaction_receipt(anchors[1].tx_hash)["gasUsed"] == anchors[1].gas_used
    assert c.w3.provider.make_request(  # type: ignore[attr-defined]
        RPCEndpoint("eth_getTransactionReceipt"), ["0x" + "ab" * 32]
    )["result"] is None  # fmt: skip


def test_receipt_logs_reads_what_py_evm_decodes() -> None:
    from eth.rlp.logs import Log
    from eth.rlp.receipts import Receipt
    from eth.vm.forks.prague import PragueVM

    from labourledger.chain.receipt_logs import receipt_logs

    logs = [
        Log(b"\x01" * 20, (), b""),
        Log(b"\x02" * 20, (1, 2**256 - 1), b"\x7f"),
        Log(b"\x03" * 20, (0, 5, 6, 7), bytes(range(256)) * 300),  # long lengths
    ]
    legacy = Receipt(b"\x01", 21000, logs)
    builder = PragueVM.get_receipt_builder()
    typed = builder.typed_receipt_class
    for receipt in (legacy, typed(1, legacy), typed(2, legacy), typed(4, legacy)):
        encoded = receipt.encode()
        expected = [
            (log.address, tuple(t.to_bytes(32, "big") for t in log.topics), log.data)
            for log in builder.decode(encoded).logs
        ]
        assert receipt_logs(encoded) == expected
    with pytest.raises(ValueError):
        receipt_logs(legacy.encode() + b"\x00")


def _deployed_embedded(tmp_path: Path) -> tuple[LedgerChain, LocalAccount]:
    """A fresh embedded chain with LabourLedger deployed by a funded admin key."""
    from labourledger.chain import open_embedded

    c = open_embedded(tmp_path / "embedded.sqlite")
    admin: LocalAccount = Account.create()
    c.fund(admin.address, 10**20)
    c.deploy(admin)
    return c, admin


def _index_items(count: int) -> list[tuple[bytes, bytes]]:
    """`count` distinct (subject, entry id) pairs for an anchor to index."""
    return [(keccak(text=f"f {i}"), keccak(text=f"a {i}")) for i in range(count)]


def test_the_embedded_chain_estimates_gas_from_one_measured_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """py-evm's binary search ran a transaction a dozen times per estimate; the embedded
    chain measures it once (and confirms), and keeps the search only for failures."""
    from web3.exceptions import ContractLogicError

    from labourledger.chain import evm

    c, admin = _deployed_embedded(tmp_path)
    searched: list[object] = []
    search = evm.binary_gas_search_intrinsic_tolerance
    monkeypatch.setattr(
        evm,
        "binary_gas_search_intrinsic_tolerance",
        lambda *args: searched.append(args) or search(*args),
    )
    items = _index_items(300)
    receipt = c.anchor(admin, ROOT_A, 300, items)
    assert receipt.gas_used > 300 * 2_000
    # The estimate alone, with no margin, is gas enough: sent with just that, it is mined.
    data = c._calldata("anchorIndexed", [ROOT_B, 300, [s for s, _ in items], [e for _, e in items]])
    tx: dict[str, Any] = {"from": admin.address, "to": c.contract_address, "data": data}
    tx["gas"] = c.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    assert receipt.gas_used <= tx["gas"] < receipt.gas_used * 101 // 100 and not searched
    tx |= {"nonce": c.w3.eth.get_transaction_count(admin.address), "chainId": c.chain_id}
    tx |= dict(c._tx.fees())
    sent = c.w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    assert c.w3.eth.get_transaction_receipt(sent)["status"] == 1
    assert c.anchor_of(ROOT_B) is not None
    # A transaction that fails at any gas is searched as before, and its revert kept.
    again = {"from": admin.address, "to": c.contract_address, "data": data}
    with pytest.raises(ContractLogicError) as duplicate:
        c.w3.eth.estimate_gas(again)  # type: ignore[arg-type]
    assert duplicate.value.data and searched


def test_the_embedded_chain_runs_a_transaction_once_and_refuses_a_failing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent with the gas its block or balance allows, not estimated first; a transaction whose
    run fails is refused with its custom error, and nothing of it is mined or paid for."""
    from labourledger.chain import evm
    from labourledger.chain.transactions import TransactionNotSent

    c, admin = _deployed_embedded(tmp_path)
    runs: list[int] = []
    apply = evm.EmbeddedVM.apply_transaction
    monkeypatch.setattr(
        evm.EmbeddedVM,
        "apply_transaction",
        lambda vm, header, tx: runs.append(tx.gas) or apply(vm, header, tx),
    )
    monkeypatch.setattr(evm.EmbeddedChain, "gas_estimator", staticmethod(pytest.fail))
    items = _index_items(300)
    receipt = c.anchor(admin, ROOT_A, 300, items)
    block = c.w3.eth.get_block(receipt.block_number)
    assert runs == [block["gasLimit"]] and receipt.gas_used > 300 * 2_000
    before = (c.latest_block(), c.balance(admin.address))
    nonce = c.w3.eth.get_transaction_count(admin.address)
    with pytest.raises(TransactionNotSent) as duplicate:
        c.anchor(admin, ROOT_A, 1)
    assert duplicate.value.error_name == "RootAlreadyAnchored" and len(runs) == 2
    assert (c.latest_block(), c.balance(admin.address)) == before
    assert c.w3.eth.get_transaction_count(admin.address) == nonce
    assert c.anchor(admin, ROOT_B, 1).block_number == before[0] + 1
    # A balance that buys too little gas for the run: told to fund the key, nothing mined.
    poor = Account.create()
    c.grant_role(admin, "BRAND", poor.address)
    fee = int(c._tx.fees()["maxFeePerGas"])
    c.fund(poor.address, 30_000 * fee)
    head = c.latest_block()
    with pytest.raises(InputError, match=f"{poor.address} has {30_000 * fee} wei .* fund it"):
        c.anchor(poor, ROOT_C, 300, items)
    assert c.latest_block() == head and c.anchor_of(ROOT_C) is None
