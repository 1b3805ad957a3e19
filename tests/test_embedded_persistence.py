"""The embedded chain lives in one SQLite file that separate processes share.

Covers the key-value store on its own (py-evm's database test suites, a batch
that fails part-way, a process killed in the middle of a commit) and the chain
on top of it (a second process sees the first one's contract, anchors and
balances and keeps mining; concurrent writers never fork the chain).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from eth.tools.db.atomic import AtomicDatabaseBatchAPITestSuite
from eth.tools.db.base import DatabaseAPITestSuite
from eth_account import Account
from eth_utils import keccak

from labourledger.chain import dev_account, open_embedded
from labourledger.chain import embedded as embedded_module
from labourledger.chain.kvstore import SQLiteAtomicDB
from labourledger.errors import ChainUnavailable

pytestmark = pytest.mark.integration


def _run(script: str, *args: str) -> dict[str, object]:
    """Run `script` in a fresh Python process; it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


# The key-value store


@pytest.fixture
def db(tmp_path: Path) -> SQLiteAtomicDB:
    """A fresh store (the fixture name py-evm's suites ask for)."""
    return SQLiteAtomicDB(tmp_path / "kv.sqlite")


@pytest.fixture
def atomic_db(db: SQLiteAtomicDB) -> SQLiteAtomicDB:
    """The same store, under the other name py-evm's suites use."""
    return db


class TestPyEVMDatabaseContract(AtomicDatabaseBatchAPITestSuite, DatabaseAPITestSuite):
    """py-evm's own test suites for database backends, run on the SQLite store."""


class _FailingStore(SQLiteAtomicDB):
    """A store whose disk "fills up" after `writes_left` more writes."""

    writes_left = -1

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if self.writes_left == 0:
            raise OSError("disk full")
        self.writes_left -= 1
        super().__setitem__(key, value)


def test_batch_failing_midway_leaves_store_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite"
    store = _FailingStore(path)
    store[b"kept"] = b"before"

    with pytest.raises(RuntimeError), store.atomic_batch() as batch:
        batch[b"kept"] = b"after"
        batch[b"new"] = b"value"
        raise RuntimeError("the caller fails inside the batch")

    # The flush itself fails after 3 of its 10 writes reached SQLite.
    store.writes_left = 3
    with pytest.raises(OSError, match="disk full"), store.atomic_batch() as batch:
        for i in range(10):
            batch[b"key-%d" % i] = b"value"

    for view in (store, SQLiteAtomicDB(path)):
        assert view[b"kept"] == b"before"
        assert not any(b"key-%d" % i in view for i in range(10))
        assert b"new" not in view
    # No transaction was left open: the store keeps working.
    store.writes_left = -1
    store[b"later"] = b"ok"
    assert SQLiteAtomicDB(path)[b"later"] == b"ok"


def test_process_killed_mid_commit_leaves_no_partial_batch(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite"
    store = SQLiteAtomicDB(path)
    store[b"kept"] = b"before"
    crash = """
        import os, sys
        from pathlib import Path
        from labourledger.chain.kvstore import SQLiteAtomicDB

        class Crashing(SQLiteAtomicDB):
            writes = 0
            def __setitem__(self, key, value):
                super().__setitem__(key, value)
                self.writes += 1
                if self.writes == 5:
                    os._exit(7)  # killed: no rollback, no cleanup

        store = Crashing(Path(sys.argv[1]))
        with store.atomic_batch() as batch:
            batch[b"kept"] = b"after"
            for i in range(10):
                batch[b"key-%d" % i] = b"value"
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(crash), str(path)], timeout=60, check=False
    )
    assert done.returncode == 7

    reopened = SQLiteAtomicDB(path)
    assert reopened[b"kept"] == b"before"
    assert not any(b"key-%d" % i in reopened for i in range(10))


def test_store_uses_wal_and_full_sync(db: SQLiteAtomicDB) -> None:
    conn = db._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


# The chain


SECOND_PROCESS = """
    import json, sys
    from pathlib import Path
    from eth_account import Account
    from labourledger.chain import dev_account, open_embedded

    path, contract, root, brand = sys.argv[1:5]
    chain = open_embedded(Path(path))
    seen_head = chain.latest_block()
    chain.attach(contract)
    record = chain.anchor_of(bytes.fromhex(root))
    # Keep mining on top: a transfer, then an anchor by a member key.
    newcomer = Account.create().address
    chain.fund(newcomer, 777)
    second = chain.anchor(dev_account(1), bytes.fromhex(root)[::-1], 2)
    print(json.dumps({
        "seen_head": seen_head,
        "seen_head_hash": chain.block_hash(seen_head).hex(),
        "record": [record.submitter, record.block_number, record.timestamp, record.size],
        "brand_balance": chain.balance(brand),
        "is_brand": chain.has_role("BRAND", brand),
        "events": [e.root.hex() for e in chain.anchored_events(0, chain.latest_block())],
        "newcomer": newcomer,
        "second_block": second.block_number,
        "head_timestamps": [chain.block_timestamp(n) for n in range(seen_head, seen_head + 3)],
    }))
"""


def test_second_process_sees_and_extends_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "chain" / "embedded.sqlite"
    chain = open_embedded(path)
    admin = Account.create()
    chain.fund(admin.address, 10**20)
    chain.deploy(admin)
    brand = Account.create()
    chain.fund(brand.address, 10**19)
    chain.grant_role(admin, "BRAND", brand.address)
    chain.grant_role(admin, "BRAND", dev_account(1).address)
    root = keccak(text="first batch")
    first = chain.anchor(brand, root, 5)
    head = chain.latest_block()
    assert chain.contract_address is not None

    seen = _run(SECOND_PROCESS, str(path), chain.contract_address, root.hex(), brand.address)
    assert seen["seen_head"] == head
    assert seen["seen_head_hash"] == chain.block_hash(head).hex()
    assert seen["record"] == [brand.address, first.block_number, first.timestamp, 5]
    assert seen["brand_balance"] == chain.balance(brand.address)
    assert seen["is_brand"] is True
    assert seen["events"] == [root.hex(), root[::-1].hex()]
    assert seen["second_block"] == head + 2
    stamps = seen["head_timestamps"]
    assert isinstance(stamps, list) and stamps[0] < stamps[1] < stamps[2]

    # The first process, still open, sees the second one's blocks and mines on top of them.
    assert chain.latest_block() == head + 2
    assert chain.balance(str(seen["newcomer"])) == 777
    third = chain.anchor(brand, keccak(text="third batch"), 1)
    assert third.block_number == head + 3
    assert chain.w3.eth.get_block(third.block_number)["parentHash"] == chain.block_hash(head + 2)
    assert [e.size for e in chain.anchored_events(0, third.block_number, chunk=3)] == [5, 2, 1]

    # A fresh open of the file (state survives the processes that wrote it).
    reopened = open_embedded(path)
    reopened.attach(chain.contract_address)
    assert reopened.latest_block() == head + 3
    assert reopened.block_hash(head + 3) == third.block_hash
    assert reopened.has_role("ADMIN", admin.address)


WRITER = """
    import json, sys
    from pathlib import Path
    from labourledger.chain import open_embedded

    chain = open_embedded(Path(sys.argv[1]))
    blocks = [chain.fund(sys.argv[2], 1).block_number for _ in range(int(sys.argv[3]))]
    print(json.dumps(blocks))
"""


def test_concurrent_writers_share_one_linear_chain(tmp_path: Path) -> None:
    path = tmp_path / "embedded.sqlite"
    chain = open_embedded(path)
    start = chain.latest_block()
    target = Account.create().address
    per_writer = 12
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(path), target, str(per_writer)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in outputs]
    blocks = sorted(b for out, _ in outputs for b in json.loads(out))

    assert blocks == list(range(start + 1, start + 1 + 2 * per_writer))
    assert chain.latest_block() == start + 2 * per_writer
    assert chain.balance(target) == 2 * per_writer
    for n in range(1, chain.latest_block() + 1):
        assert chain.w3.eth.get_block(n)["parentHash"] == chain.block_hash(n - 1)


def test_busy_chain_reports_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "embedded.sqlite"
    chain = open_embedded(path)
    monkeypatch.setattr(embedded_module, "LOCK_WAIT_SECONDS", 0.2)
    holder = os.open(f"{path}.lock", os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(
            ChainUnavailable, match=r"another process has held .*embedded\.sqlite\.lock"
        ):
            chain.latest_block()
    finally:
        os.close(holder)
    assert chain.latest_block() == 0


def test_unusable_state_file_is_chain_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "embedded.sqlite"
    path.write_bytes(b"not a database, just some text that is long enough" * 100)
    with pytest.raises(ChainUnavailable, match="cannot use its state file"):
        open_embedded(path)
