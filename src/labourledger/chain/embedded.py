"""The embedded chain: py-evm through eth-tester, its whole state in one SQLite file.

Separate processes share one chain by opening the same file. Every JSON-RPC
request runs under an exclusive `fcntl` lock on a sidecar file
(`<state>.lock`) and starts from the chain's canonical head as it is on disk,
so a process sees the blocks other processes mined since its last request and
mines on top of them, never on a stale head. eth-tester mines each
transaction into its own block as soon as it arrives, so nothing is ever left
pending in memory between requests.

It is a local development chain: the dev accounts' keys are eth-tester's
well-known defaults.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, cast

from eth.abc import (
    AtomicDatabaseAPI,
    BlockAPI,
    SignedTransactionAPI,
)
from eth.exceptions import CanonicalHeadNotFound, Revert
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import serialize_transaction
from eth_tester.exceptions import BlockNotFound, TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_tester.utils.address import generate_contract_address
from eth_typing import BlockNumber, Hash32
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EVMValidationError
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from labourledger.chain.evm import EMBEDDED_CHAIN_ID, EmbeddedChain
from labourledger.chain.kvstore import SQLiteAtomicDB
from labourledger.chain.ledger_contract import LedgerChain
from labourledger.chain.receipt_logs import RawReceipt, receipt_logs, receipt_outcome
from labourledger.errors import ChainUnavailable

__all__ = ["EMBEDDED_CHAIN_ID", "dev_account", "open_embedded"]

DEV_ACCOUNT_COUNT = 10
LOCK_WAIT_SECONDS = 60.0
#: Requests that change nothing: served by the loaded chain while its head is current.
_READS = frozenset({
    "eth_call", "eth_getLogs", "eth_blockNumber", "eth_chainId", "eth_getCode", "eth_getBalance",
    "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getTransactionReceipt",
    "eth_getTransactionByHash",
})  # fmt: skip


class _Reverted(Exception):
    """A call or transaction reverted; carries the raw revert data."""

    def __init__(self, data: bytes) -> None:
        super().__init__("execution reverted")
        self.data = data


class _PersistentBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend over a durable database, resuming its canonical head.

    `PyEVMBackend.__init__` always builds a fresh in-memory genesis chain, so it
    is not called; this sets the two attributes the backend's methods use
    (`account_keys`, `chain`) itself.
    """

    def __init__(self, db: AtomicDatabaseAPI) -> None:
        self.account_keys = get_default_account_keys(quantity=DEV_ACCOUNT_COUNT)
        self._db = db
        try:
            self.chain = EmbeddedChain(db)
        except CanonicalHeadNotFound:
            genesis = EmbeddedChain.from_genesis(  # a new file: create the chain
                db,
                get_default_genesis_params(),
                generate_genesis_state_for_keys(self.account_keys),
            )
            self.chain = cast(EmbeddedChain, genesis)
        self._head = self.chain.chaindb.get_canonical_head().hash

    def reload(self, *, reading: bool = False) -> None:
        """Start again from the canonical head on disk, with a fresh pending block.

        The fresh pending block also gets a current timestamp (py-evm uses
        max(now, parent + 1)), instead of the time of the previous request. A `reading`
        request keeps the chain it has while no other process moved the head: its state
        (the VM, the pending block) then serves a run of calls without being rebuilt.
        """
        if reading and self.chain.chaindb.get_canonical_head().hash == self._head:
            return
        self.chain = EmbeddedChain(self._db)
        self._head = self.chain.chaindb.get_canonical_head().hash

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        """A mined transaction, found through py-evm's index (see `mined`)."""
        mined = self.mined(transaction_hash)
        if mined is None:
            return super().get_transaction_by_hash(transaction_hash)
        block, index = mined
        return serialize_transaction(block, block.transactions[index], index, False)

    def mined(self, transaction_hash: bytes) -> tuple[BlockAPI, int] | None:
        """The canonical block and position of a mined transaction, or None if not indexed.

        eth-tester finds a transaction by scanning every block down from the
        head, which makes reading the logs of a long chain quadratic; py-evm
        already keeps a hash -> (block, index) lookup of canonical transactions.
        """
        try:
            number, index = self.chain.chaindb.get_transaction_index(Hash32(transaction_hash))
        except EVMTransactionNotFound:
            return None
        return self.chain.get_canonical_block_by_number(number), index

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        """Mine a signed transaction, or refuse it, nothing mined, if its run fails: a revert
        comes back with its data, as from an estimate. Run once here, a transaction needs no
        estimate first (see `Transactions`), which ran the whole of it once more."""
        builder = self.chain.get_transaction_builder()
        transaction: SignedTransactionAPI = builder.decode(raw_transaction)
        _, _, computation = self.chain.apply_transaction(transaction)
        if computation.is_error:
            self.reload()  # drops the pending block holding it
            if isinstance(computation.error, Revert):
                raise _Reverted(computation.output)
            raise TransactionFailed(f"the transaction would fail: {computation.error!r}")
        return transaction.hash

    def estimate_gas(self, transaction: Any, block_number: Any = "latest") -> Any:
        """eth-tester's estimate, but a revert keeps its raw data (custom errors)."""
        try:
            return super().estimate_gas(transaction, block_number)
        except TransactionFailed as exc:
            cause = exc.args[0] if exc.args else None
            data = cause.args[0] if isinstance(cause, Exception) and cause.args else b""
            raise _Reverted(data if isinstance(data, bytes) else b"") from exc


class _ProcessLock:
    """An exclusive lock on a sidecar file, taken for one chain request at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, self._fd)
        # flock is per open file description, so threads of this process need their own lock.
        self._threads = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock, waiting up to LOCK_WAIT_SECONDS for another process to finish."""
        with self._threads:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ChainUnavailable(
                            f"embedded chain: another process has held {self.path} for "
                            f"{LOCK_WAIT_SECONDS:.0f} s; let it finish or stop it, then retry"
                        ) from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class _EmbeddedProvider(EthereumTesterProvider):
    """web3's eth-tester provider, one locked request at a time, answering errors as a node does.

    Reverts come back as JSON-RPC errors with their data, and rejected
    transactions or missing blocks as JSON-RPC errors with a message, so the
    contract client handles both chains the same way.
    """

    def __init__(self, backend: _PersistentBackend, lock: _ProcessLock, path: Path) -> None:
        super().__init__(EthereumTester(backend))
        self._backend = backend
        self._lock = lock
        self._path = path
        #: Logs by block hash, decoded once: a block's content never changes under its hash.
        self._decoded: dict[bytes, list[_Log]] = {}

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Serve one request against the chain as it is on disk now."""
        with self._lock.held():
            self._backend.reload(reading=method in _READS)
            try:
                if method == "eth_getLogs":
                    return self._reply(self._logs(params[0]))
                if method == "eth_getTransactionReceipt":
                    return self._reply(self._receipt(params[0]))
                return super().make_request(method, params)
            except _Reverted as exc:
                return self._error(3, "execution reverted", "0x" + exc.data.hex())
            except (
                BlockNotFound,
                TransactionFailed,
                TesterValidationError,
                EVMValidationError,
            ) as exc:
                return self._error(-32000, str(exc), None)
            except sqlite3.Error as exc:
                raise _unusable(self._path, exc) from exc

    def _error(self, code: int, message: str, data: str | None) -> RPCResponse:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        return self._reply(error, key="error")

    def _reply(self, value: Any, *, key: str = "result") -> RPCResponse:
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": repr(self._current_request_id)}
        response[key] = value
        self._current_request_id += 1
        return response  # type: ignore[return-value]

    def _logs(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`eth_getLogs` answered as a node does, from py-evm's receipts (decoded once per
        block): eth-tester normalises every log of the range before it filters, so reading
        a large chain's logs took most of a large verify."""
        chain = self._backend.chain
        head = chain.get_canonical_head().block_number
        # The range as a node names it, or as web3's eth-tester middleware renames it.
        first, last = (
            _block(query.get(k, query.get(renamed, "latest")), head)
            for k, renamed in (("fromBlock", "from_block"), ("toBlock", "to_block"))
        )
        match = _LogFilter(query)
        return [
            log.rendered()
            for number in range(first, min(last, head) + 1)
            for log in self._block_logs(chain, number)
            if match(log.address, log.topics)
        ]

    def _receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """`eth_getTransactionReceipt` answered as a node does, its logs as `eth_getLogs`
        gives them (None if not mined: a sent transaction is mined at once here). eth-tester,
        then its middleware, reformatted every log of an anchor's receipt, which took longer
        than mining the block."""
        chain = self._backend.chain
        mined = self._backend.mined(_raw(tx_hash))
        if mined is None:
            return None
        block, index = mined
        tx = block.transactions[index]
        stored = cast(tuple[bytes, ...], chain.chaindb.get_receipts(block.header, RawReceipt))
        status, gas, bloom = receipt_outcome(stored[index])
        before = receipt_outcome(stored[index - 1])[1] if index else 0
        base_fee = block.header.base_fee_per_gas or 0  # always set after London
        tip = min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)
        created = generate_contract_address(tx.sender, tx.nonce) if not tx.to else None
        tx_hex = "0x" + tx.hash.hex()
        return {
            "transactionHash": tx_hex,
            "transactionIndex": hex(index),
            "blockHash": "0x" + block.hash.hex(),
            "blockNumber": hex(block.number),
            "from": _checksummed(tx.sender),
            "to": _checksummed(tx.to) if tx.to else None,
            "cumulativeGasUsed": hex(gas),
            "gasUsed": hex(gas - before),
            "effectiveGasPrice": hex(base_fee + tip),
            "contractAddress": _checksummed(created) if created else None,
            "logs": [
                log.rendered()
                for log in self._block_logs(chain, block.number)
                if log.where[2] == tx_hex
            ],
            "logsBloom": "0x" + bloom.hex(),
            "status": hex(status),
            "type": hex(tx.type_id or 0),
        }

    def _block_logs(self, chain: EmbeddedChain, number: int) -> list[_Log]:
        block = chain.get_canonical_block_by_number(BlockNumber(number))
        if not block.transactions:
            return []
        if block.hash in self._decoded:
            return self._decoded[block.hash]
        logs: list[_Log] = []
        # Each as stored: `receipt_logs` reads the logs from it.
        receipts = cast(tuple[bytes, ...], chain.chaindb.get_receipts(block.header, RawReceipt))
        # Held for the provider's life, so compact: a log's JSON-RPC form is written when
        # it is asked for, and what many logs share (block, transaction, an event's topic)
        # is one object (a large verify holds 14,000 logs; rendered, they were 24 MB).
        topics: dict[bytes, bytes] = {}
        where = (hex(number), "0x" + block.hash.hex())
        for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
            tx_where = (*where, "0x" + tx.hash.hex(), hex(tx_index))
            for address, raw, data in receipt_logs(receipt):
                shared = tuple(topics.setdefault(t, t) for t in raw)
                logs.append(_Log(address, shared, data, tx_where, len(logs)))
        self._decoded[block.hash] = logs
        return logs


class _Log(NamedTuple):
    """A log as matched (address, topics) and where it sits (block number and hash,
    transaction hash and index, all 0x hex) and its index in the block."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    where: tuple[str, str, str, str]
    log_index: int

    def rendered(self) -> dict[str, Any]:
        """The log as a node answers `eth_getLogs`."""
        number, block_hash, tx_hash, tx_index = self.where
        return {
            "address": _checksummed(self.address),
            "topics": ["0x" + t.hex() for t in self.topics],
            "data": "0x" + self.data.hex(),
            "blockNumber": number,
            "blockHash": block_hash,
            "transactionHash": tx_hash,
            "transactionIndex": tx_index,
            "logIndex": hex(self.log_index),
            "removed": False,
        }


class _LogFilter:
    """An `eth_getLogs` filter's address and topics (per position: any, one, or any of)."""

    def __init__(self, query: Mapping[str, Any]) -> None:
        address = query.get("address")
        listed = [address] if isinstance(address, str) else address or []
        self.addresses = {_raw(a) for a in listed}
        self.topics = [
            None if t is None else {_raw(x) for x in ([t] if isinstance(t, str) else t)}
            for t in query.get("topics") or []
        ]

    def __call__(self, address: bytes, topics: Sequence[bytes]) -> bool:
        if self.addresses and address not in self.addresses:
            return False
        if len(topics) < len(self.topics):
            return False
        return all(w is None or t in w for w, t in zip(self.topics, topics, strict=False))


def _block(tag: str | int, head: int) -> int:
    if isinstance(tag, int):
        return tag
    if tag == "earliest":
        return 0
    return int(tag, 16) if tag.startswith("0x") else head  # latest, safe, finalized, pending


@functools.lru_cache(maxsize=64)
def _checksummed(address: bytes) -> str:
    # Every log comes from the one contract: checksum it once, not once per log.
    return to_checksum_address(address)


def _raw(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string.removeprefix("0x").lower())


def dev_account(index: int = 0) -> LocalAccount:
    """One of the embedded chain's funded dev accounts (well-known keys: development only)."""
    key = get_default_account_keys(quantity=DEV_ACCOUNT_COUNT)[index]
    account: LocalAccount = Account.from_key(key.to_bytes())
    return account


def open_embedded(path: Path) -> LedgerChain:
    """Open the embedded chain kept in `path`, creating it (from genesis) if the file is new."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = _ProcessLock(path.with_name(path.name + ".lock"))
        with lock.held():
            backend = _PersistentBackend(SQLiteAtomicDB(path))
    except (sqlite3.Error, OSError) as exc:
        raise _unusable(path, exc) from exc
    w3 = Web3(_EmbeddedProvider(backend, lock, path))
    # Calls name a sender, so eth-tester's middleware need not list every account to guess one
    # (a third of a `status`); transactions are signed here and name their own.
    w3.eth.default_account = dev_account().address
    return LedgerChain(w3, label="embedded", is_embedded=True)


def _unusable(path: Path, exc: Exception) -> ChainUnavailable:
    return ChainUnavailable(
        f"embedded chain: cannot use its state file {path} ({exc}); "
        "check it is a labourledger chain, readable and writable, on a disk with space left"
    )
