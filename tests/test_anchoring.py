"""Anchoring that fails cleanly: an unreachable chain or a refused transaction writes nothing,
a root another workspace already anchored is adopted, and concurrent runs serialise."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from clihelp import FAST_ENV, PASSPHRASE, brand_workspace
from conftest import running_anvil

from labourledger.anchoring import AnchorResult
from labourledger.chain.ledger_contract import TransactionNotSent
from labourledger.errors import ChainUnavailable, UnreachableError
from labourledger.ledger import Ledger
from labourledger.merkle import MerkleTree

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)


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
    root = MerkleTree([bytes.fromhex(pending["entry_id"][2:])]).root
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
    assert ledger.proof(pending["entry_id"]).verified
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


def test_a_batch_that_would_index_too_much_for_one_block_is_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labourledger import anchoring
    from labourledger.index import revocation_subject

    ledger = brand_workspace(tmp_path / "ws", 5)
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    facilities = [e["entry_id"] for e in ledger.mirror.pending_entries()]
    ledger.record_many(
        "revocation", [{"target": f, "reason": "registered twice"} for f in facilities], brand
    )
    monkeypatch.setattr(anchoring, "MAX_INDEXED_PER_BATCH", 2)
    results = ledger.anchor(brand)
    # Five facilities ride with the first two revocations; the other three need two more.
    assert [r.size for r in results] == [7, 2, 1]
    assert _written(ledger) == (0, 10, 0)
    indexed = ledger.chain.index_events(
        revocation_subject(bytes.fromhex(f[2:])) for f in facilities
    )
    assert len(indexed) == 5 and len({e.root for e in indexed}) == 3
