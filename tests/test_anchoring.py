"""Anchoring that fails cleanly: an unreachable chain or a refused transaction writes nothing,
a root another workspace already anchored is adopted, and concurrent runs serialise."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE, brand_workspace
from conftest import running_anvil

from labourledger.anchoring import AnchorResult
from labourledger.chain.ledger_contract import TransactionNotSent
from labourledger.errors import ChainUnavailable, UnreachableError
from labourledger.ledger import Ledger
from labourledger.merkle import MerkleTree

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("passphrase_env")]


def _written(ledger: Ledger) -> tuple[int, int, int]:
    counts = ledger.mirror.counts()
    return counts["pending"], counts["anchored"], len(ledger.mirror.unfinished_anchors())


def test_an_unreachable_chain_writes_nothing(tmp_path: Path) -> None:
    with running_anvil() as url:
        ledger = brand_workspace(tmp_path / "ws", 3, chain=url)
        brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    reopened = Ledger.open(tmp_path / "ws")  # the node is gone now
    with pytest.raises(ChainUnavailable) as gone:
        reopened.anchor(brand)
    assert isinstance(gone.value, UnreachableError) and gone.value.exit_code == 3
    assert _written(reopened) == (3, 0, 0)


def test_a_transaction_refused_before_sending_takes_its_batch_back(tmp_path: Path) -> None:
    ledger = brand_workspace(tmp_path / "ws", 4)
    outsider = ledger.workspace.keys.new("outsider", PASSPHRASE)
    ledger.chain.fund(outsider.address, 10**18)
    with pytest.raises(TransactionNotSent) as refused:
        ledger.anchor(ledger.workspace.keys.unlock("outsider", PASSPHRASE))
    assert refused.value.error_name == "NotAMember"
    assert _written(ledger) == (4, 0, 0)
    [result] = ledger.anchor(ledger.workspace.keys.unlock("brand", PASSPHRASE))
    assert (result.size, result.resumed) == (4, False)
    assert _written(ledger) == (0, 4, 0)


@pytest.mark.parametrize("synced", [True, False])
def test_a_root_anchored_elsewhere_is_adopted(tmp_path: Path, synced: bool) -> None:
    """Another workspace anchored the one pending entry alone (the same root)."""
    ledger = brand_workspace(tmp_path / "ws", 1)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    [pending] = ledger.mirror.pending_entries()
    root = MerkleTree([bytes.fromhex(pending.entry_id[2:])]).root
    elsewhere = ledger.chain.anchor(brand, root, 1)
    if synced:
        assert ledger.sync().anchors == 1
    [result] = ledger.anchor(brand)
    assert result.resumed and result.root == "0x" + root.hex()
    assert (result.tx_hash, result.block_number) == (
        "0x" + elsewhere.tx_hash.hex(),
        elsewhere.block_number,
    )
    assert _written(ledger) == (0, 1, 0)
    assert ledger.proof(pending.entry_id).verified
    assert ledger.anchor(brand) == []
    ledger.sync()
    assert _written(ledger) == (0, 1, 0)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_concurrent_anchors_serialise(
    tmp_path: Path, anvil_url: str, db: str, request: pytest.FixtureRequest
) -> None:
    url = None if db == "sqlite" else request.getfixturevalue("pg_url")
    ledger = brand_workspace(tmp_path / "ws", 6, chain=anvil_url, db=url)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    head = ledger.chain.latest_block()
    results: list[list[AnchorResult]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        mine = Ledger.open(tmp_path / "ws")
        start.wait()
        try:
            results.append(mine.anchor(brand))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    events = ledger.chain.anchored_events(head, ledger.chain.latest_block())
    assert len(events) == 1 and events[0].size == 6
    assert _written(ledger) == (0, 6, 0)


@pytest.mark.parametrize("pooled", [False, True])
def test_a_batch_that_would_index_too_much_for_one_block_is_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    from labourledger import anchoring, merkle
    from labourledger.index import revocation_subject

    if pooled:  # each next batch's root hashed by workers while a batch is sent
        monkeypatch.setattr(merkle, "POOL_MIN_LEAVES", 0)
        monkeypatch.setattr(merkle, "SUBTREE_LEAVES", 2)
        monkeypatch.setattr(merkle, "spare_core", lambda: True)

    ledger = brand_workspace(tmp_path / "ws", 5)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    facilities = [e.entry_id for e in ledger.mirror.pending_entries()]
    ledger.record_many(
        "revocation", [{"target": f, "reason": "registered twice"} for f in facilities], brand
    )
    monkeypatch.setattr(anchoring, "MAX_INDEXED_PER_BATCH", 2)
    results = ledger.anchor(brand)
    # Five facilities ride with the first two revocations; the other three need two more.
    assert [r.size for r in results] == [7, 2, 1]
    assert _written(ledger) == (0, 10, 0)
    for r in results:  # each batch under the root of its own leaves
        leaves = [bytes.fromhex(m[0][2:]) for m in ledger.mirror.anchor_members(r.root)]
        assert len(leaves) == r.size and "0x" + MerkleTree(leaves).root.hex() == r.root
    indexed = ledger.chain.index_events(
        revocation_subject(bytes.fromhex(f[2:])) for f in facilities
    )
    assert len(indexed) == 5 and len({e.root for e in indexed}) == 3


@pytest.mark.parametrize(
    ("kinds", "sizes"),
    [
        ([], []),
        (["facility"] * 3, [3]),
        (["audit", "facility", "audit", "facility"], [4]),  # two indexed: one batch
        (["facility", "audit", "audit", "facility", "audit", "facility"], [4, 2]),
        (["audit"] * 5, [2, 2, 1]),
    ],
)
def test_batches_are_cut_before_the_indexed_entry_one_too_many(
    kinds: list[str], sizes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from labourledger import anchoring

    monkeypatch.setattr(anchoring, "MAX_INDEXED_PER_BATCH", 2)
    cuts = anchoring.split_for_gas(kinds)
    assert [len(kinds[cut]) for cut in cuts] == sizes
    assert [k for cut in cuts for k in kinds[cut]] == kinds  # in order, none lost


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_an_anchors_derived_proofs_verify_through_every_reader(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    """The mirror stores no path for an anchor made here: each reader derives the same
    paths the whole tree gives, and they verify locally, on chain and in a bundle."""
    import json

    from labourledger.bundling import verify_bundle
    from labourledger.merkle import verify_inclusion
    from labourledger.provenance import record_batch, record_product

    url = None if db == "sqlite" else request.getfixturevalue("pg_url")
    ledger = brand_workspace(tmp_path / "ws", 6, db=url)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    mill = ledger.mirror.pending_entries()[0].subject
    record_product(ledger, brand, name="Tee", brand="Acme", sku="TEE-D")
    record_batch(ledger, brand, product="TEE-D", lot="D-1", quantity=5,
                 produced_at=dt.date(2026, 4, 1), facility=mill)  # fmt: skip
    ids = [e.entry_id for e in ledger.mirror.pending_entries()]
    tree = MerkleTree([bytes.fromhex(i[2:]) for i in ids])
    expected = {i: ["0x" + h.hex() for h in tree.inclusion_proof(n)] for n, i in enumerate(ids)}
    [result] = ledger.anchor(brand)
    assert result.root == "0x" + tree.root.hex()

    views = Ledger.open(tmp_path / "ws").describe_many(ids)
    assert {v.id_hex: v.proof.path for v in views if v.proof} == expected
    assert all(ledger.proof(i).verified for i in ids[::3])  # locally and by the contract
    path = ledger.write_entries(tmp_path / "anchored.json", list(ledger.entries(ids).values()),
                                with_proofs=True)  # fmt: skip
    carried = {e["entry_id"]: e["proof"]["path"] for e in json.loads(path.read_text())["entries"]}
    assert carried == expected

    bundle = ledger.export_bundle("D-1")
    assert {e.id_hex: e.proof.path for e in bundle.entries if e.proof} == {
        e.id_hex: expected[e.id_hex] for e in bundle.entries
    }
    for entry in bundle.entries:
        assert entry.proof is not None and entry.anchor is not None
        proof = entry.proof.inclusion(entry.anchor.root)
        assert verify_inclusion(
            entry.entry_id, proof.leaf_index, proof.tree_size, proof.path, proof.root
        )
    anchored = _anchored_checks(verify_bundle(bundle, ledger.chain, all_checks=True))
    assert anchored == {e.id_hex: "pass" for e in bundle.entries}
    first = bundle.entries[0]
    assert first.proof is not None and first.proof.path
    bent = first.proof.model_copy(update={"path": [first.proof.path[0][:-1] + "0"] * 3})
    broken = bundle.model_copy(
        update={"entries": [first.model_copy(update={"proof": bent}), *bundle.entries[1:]]}
    )
    anchored = _anchored_checks(verify_bundle(broken, ledger.chain, all_checks=True))
    assert anchored[first.id_hex] == "fail"


def _anchored_checks(report: dict[str, Any]) -> dict[str, str]:
    """Each entry's outcome of the check that its proof leads to an anchored root."""
    return {c["entry_id"]: c["outcome"] for c in report["checks"] if c["check"] == "anchored"}
