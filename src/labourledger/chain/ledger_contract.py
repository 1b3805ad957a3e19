"""The LabourLedger contract client: one class over any chain web3 can reach.

Transactions are signed locally with the sender's key and sent raw, with the
gas estimated (plus a margin) and EIP-1559 fees taken from the node, so the
embedded chain and a JSON-RPC node go through exactly the same path. A revert
becomes a `ChainError` carrying the contract's custom error name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_typing import ChecksumAddress, HexStr
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TimeExhausted,
    Web3RPCError,
)
from web3.types import BlockIdentifier, EventData, TxParams, TxReceipt, Wei

from labourledger.chain.artifacts import load_artifact
from labourledger.errors import ChainError, InputError

__all__ = [
    "ROLES",
    "AnchorReceipt",
    "AnchorRecord",
    "AnchoredEvent",
    "IndexEvent",
    "LedgerChain",
    "RoleEvent",
    "TransactionNotSent",
    "TxResult",
    "role_name",
]

ROLES: dict[str, bytes] = {
    "ADMIN": b"\x00" * 32,
    "BRAND": keccak(b"BRAND_ROLE"),
    "AUDITOR": keccak(b"AUDITOR_ROLE"),
    "SUPPLIER": keccak(b"SUPPLIER_ROLE"),
    "GRIEVANCE_CHANNEL": keccak(b"GRIEVANCE_CHANNEL_ROLE"),
}
_ROLE_NAMES = {value: name for name, value in ROLES.items()}

# Gas limit = estimate * (1 + margin): state can change a little between estimate and inclusion.
GAS_MARGIN_PERCENT = 20
RECEIPT_TIMEOUT_SECONDS = 180.0
UINT64_MAX = 2**64 - 1
# Subjects OR-ed into one eth_getLogs topic filter: nodes bound a filter's size.
SUBJECTS_PER_REQUEST = 200
_ERROR_STRING_SELECTOR = keccak(b"Error(string)")[:4]

# What a person should do about each custom error the contract (or AccessControl) reverts with.
_ERROR_HINTS = {
    "EmptyBatch": "a batch must hold at least one entry",
    "ZeroRoot": "the zero root anchors nothing; this is a bug in the caller",
    "IndexMismatch": "every indexed entry needs one subject, and no more than the batch holds",
    "NotOnboardingBrand": "only the brand that onboarded this supplier, or the admin, may revoke",
    "BatchTooLarge": "split the batch into smaller ones",
    "RootAlreadyAnchored": "this Merkle root is already on chain; nothing to do",
    "NotAMember": "the sender holds no role in the contract; ask its admin to grant one",
    "AccessControlUnauthorizedAccount": "the sender lacks the role needed for this",
    "AccessControlBadConfirmation": "an account can only renounce its own roles",
}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def role_name(role: bytes) -> str:
    """The short name (ADMIN, BRAND, AUDITOR, SUPPLIER) of a role id, or its hex if unknown."""
    return _ROLE_NAMES.get(bytes(role), "0x" + bytes(role).hex())


class TransactionNotSent(ChainError):
    """A transaction refused before it was sent (a revert at estimation, the node's refusal):
    nothing of it can be mined later."""


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int


@dataclass(frozen=True)
class AnchorReceipt:
    """A Merkle root anchored by a transaction this process sent and saw mined."""

    root: bytes
    size: int
    submitter: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    timestamp: int
    gas_used: int


@dataclass(frozen=True)
class AnchorRecord:
    """What the contract stores for an anchored root (`anchorOf`)."""

    root: bytes
    submitter: str
    block_number: int
    timestamp: int
    size: int


@dataclass(frozen=True)
class AnchoredEvent:
    """One `Anchored` log."""

    root: bytes
    submitter: str
    size: int
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True)
class IndexEvent:
    """One `Indexed` log, with the root and submitter of the anchor it came with."""

    subject: bytes
    entry_id: bytes
    root: bytes
    submitter: str
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True)
class RoleEvent:
    """One `RoleGranted` (granted=True) or `RoleRevoked` (granted=False) log."""

    role: str
    account: str
    sender: str
    granted: bool
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int


def _node_errors(
    method: Callable[Concatenate[LedgerChain, _P], _R],
) -> Callable[Concatenate[LedgerChain, _P], _R]:
    """Turn an error answer from the node (a block beyond the head, say) into a ChainError."""

    @functools.wraps(method)
    def wrapper(self: LedgerChain, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Web3RPCError as exc:
            raise ChainError(
                f"{method.__name__}: {self.label} answered: {_rpc_message(exc)}"
            ) from exc

    return wrapper


@dataclass(frozen=True)
class _CustomError:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


class LedgerChain:
    """A chain reached through web3, and the LabourLedger contract on it once deployed or attached.

    `label` is "embedded" or the node's URL and names the chain in every error.
    """

    def __init__(self, w3: Web3, *, label: str, is_embedded: bool) -> None:
        """Wrap a connected `w3`; reads the chain id, so an unreachable node fails here."""
        self.w3 = w3
        self.label = label
        self.is_embedded = is_embedded
        self.chain_id: int = w3.eth.chain_id
        self.contract_address: ChecksumAddress | None = None
        self._contract: Contract | None = None
        artifact = load_artifact()
        self._factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        self._runtime: str = artifact["deployedBytecode"]
        self._errors = {
            _selector(e["name"], [i["type"] for i in e["inputs"]]): (
                _CustomError(
                    e["name"],
                    tuple(i["name"] for i in e["inputs"]),
                    tuple(i["type"] for i in e["inputs"]),
                )
            )
            for e in artifact["abi"]
            if e["type"] == "error"
        }

    # Contract lifecycle

    def deploy(self, admin: LocalAccount) -> TxResult:
        """Deploy a new LabourLedger with `admin` holding DEFAULT_ADMIN_ROLE, and use it."""
        data = self._factory.constructor(admin.address).data_in_transaction
        receipt = self._transact(admin, None, data, "deploy LabourLedger")
        address = receipt["contractAddress"]
        if address is None:
            raise ChainError(f"deploy LabourLedger: {self.label} returned no contract address")
        self.contract_address = Web3.to_checksum_address(address)
        return _tx_result(receipt)

    @_node_errors
    def attach(self, address: str) -> None:
        """Use the contract already deployed at `address`."""
        checksummed = _address(address, "contract")
        if not self.w3.eth.get_code(checksummed):
            raise InputError(f"contract: no contract code at {checksummed} on {self.label}")
        self.contract_address = checksummed

    # Roles

    def grant_role(self, sender: LocalAccount, role: str, account: str) -> TxResult:
        """Grant `role` (ADMIN, BRAND, AUDITOR, SUPPLIER) to `account`; `sender` must admin it."""
        return self._role_change("grantRole", sender, role, account)

    def revoke_role(self, sender: LocalAccount, role: str, account: str) -> TxResult:
        """Revoke `role` from `account`; `sender` must be the role's admin."""
        return self._role_change("revokeRole", sender, role, account)

    def _role_change(self, fn: str, sender: LocalAccount, role: str, account: str) -> TxResult:
        args = [_role_id(role), _address(account, "account")]
        data = self._deployed.encode_abi(fn, args=args)
        return _tx_result(self._transact(sender, self._deployed.address, data, f"{fn} {role}"))

    @_node_errors
    def has_role(self, role: str, account: str, block: int | None = None) -> bool:
        """Whether `account` holds `role` at `block` (default: the latest block)."""
        fn = self._deployed.functions.hasRole(_role_id(role), _address(account, "account"))
        return bool(fn.call(block_identifier=_block_id(block)))

    # Anchors

    def anchor(
        self,
        sender: LocalAccount,
        root: bytes,
        size: int,
        indexed: Sequence[tuple[bytes, bytes]] = (),
    ) -> AnchorReceipt:
        """Anchor a Merkle `root` of `size` entries and wait until it is mined; `indexed`
        (subject, entry id) pairs go through `anchorIndexed`, one `Indexed` event each."""
        _bytes32(root, "root")
        if not 0 <= size <= UINT64_MAX:
            raise InputError(f"size: must fit in uint64, got {size}")
        if indexed:
            for subject, entry_id in indexed:
                _bytes32(subject, "subject")
                _bytes32(entry_id, "entry_id")
            subjects, entry_ids = [s for s, _ in indexed], [e for _, e in indexed]
            args = [root, size, subjects, entry_ids]
            data = self._deployed.encode_abi("anchorIndexed", args=args)
        else:
            data = self._deployed.encode_abi("anchor", args=[root, size])
        receipt = self._transact(sender, self._deployed.address, data, "anchor")
        block = self._block(receipt["blockNumber"])
        return AnchorReceipt(
            root=bytes(root),
            size=size,
            submitter=sender.address,
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=receipt["blockNumber"],
            block_hash=bytes(receipt["blockHash"]),
            timestamp=block["timestamp"],
            gas_used=receipt["gasUsed"],
        )

    @_node_errors
    def anchor_of(self, root: bytes, block: int | None = None) -> AnchorRecord | None:
        """What the contract recorded for `root` at `block`, or None if it is not anchored."""
        _bytes32(root, "root")
        submitter, block_number, timestamp, size = self._deployed.functions.anchorOf(root).call(
            block_identifier=_block_id(block)
        )
        if int(submitter, 16) == 0:
            return None
        return AnchorRecord(bytes(root), submitter, block_number, timestamp, size)

    @_node_errors
    def verify_inclusion(
        self, entry_id: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
    ) -> bool:
        """Ask the contract whether `entry_id` is leaf `index` of the `size`-leaf tree `root`."""
        _bytes32(entry_id, "entry_id")
        _bytes32(root, "root")
        for step in proof:
            _bytes32(step, "proof")
        fn = self._deployed.functions.verifyInclusion(entry_id, index, size, list(proof), root)
        return bool(fn.call())

    # Events

    @_node_errors
    def anchored_events(
        self, from_block: int, to_block: int, chunk: int = 2_000
    ) -> list[AnchoredEvent]:
        """Every `Anchored` log of the contract in blocks `from_block..to_block` (inclusive)."""
        event = self._deployed.events.Anchored()
        events = []
        for raw in self._logs([event.topic], from_block, to_block, chunk):
            log = event.process_log(raw)
            events.append(
                AnchoredEvent(
                    root=bytes(log["args"]["root"]),
                    submitter=log["args"]["submitter"],
                    size=log["args"]["size"],
                    **_log_position(log),
                )
            )
        return events

    @_node_errors
    def index_events(
        self,
        subjects: Iterable[bytes],
        from_block: int = 0,
        to_block: int | None = None,
        chunk: int = 50_000,
    ) -> list[IndexEvent]:
        """Every `Indexed` log under any of `subjects`, with its anchor's root and submitter
        (from the `Anchored` log of the same transaction), oldest first."""
        wanted = sorted({bytes(s) for s in subjects})
        for subject in wanted:
            _bytes32(subject, "subject")
        if not wanted:
            return []
        last = self.latest_block() if to_block is None else to_block
        indexed = self._deployed.events.Indexed()
        anchored = self._deployed.events.Anchored()
        found: list[IndexEvent] = []
        for start, end in _chunks(from_block, last, chunk):
            logs = []
            # Topic lists stay short so no node refuses the filter.
            for i in range(0, len(wanted), SUBJECTS_PER_REQUEST):
                # Hex strings, not bytes: eth-tester matches no log against a bytes topic.
                topic = ["0x" + s.hex() for s in wanted[i : i + SUBJECTS_PER_REQUEST]]
                raws = self._logs_in([indexed.topic, topic], start, end)
                logs += [indexed.process_log(raw) for raw in raws]
            if not logs:
                continue
            # The batches' Anchored logs, in one request per chunk rather than one per block.
            low = min(log["blockNumber"] for log in logs)
            high = max(log["blockNumber"] for log in logs)
            anchors: dict[bytes, EventData] = {}
            for raw in self._logs_in([anchored.topic], low, high):
                event = anchored.process_log(raw)
                anchors[bytes(event["transactionHash"])] = event
            for log in logs:
                anchor = anchors[bytes(log["transactionHash"])]
                found.append(
                    IndexEvent(
                        subject=bytes(log["args"]["subject"]),
                        entry_id=bytes(log["args"]["entryId"]),
                        root=bytes(anchor["args"]["root"]),
                        submitter=anchor["args"]["submitter"],
                        **_log_position(log),
                    )
                )
        return sorted(found, key=lambda e: (e.block_number, e.log_index))

    @_node_errors
    def runtime_code_matches(self) -> bool:
        """Whether the contract's deployed code is the LabourLedger runtime this package ships,
        so its rules (who may anchor, what an anchor records) are the ones documented."""
        code = bytes(self.w3.eth.get_code(self._deployed.address))
        return code == bytes.fromhex(self._runtime.removeprefix("0x"))

    @_node_errors
    def supplier_onboarded_by(self, account: str) -> str | None:
        """The brand that granted `account` its SUPPLIER role, or None."""
        brand = self._deployed.functions.supplierOnboardedBy(_address(account, "account")).call()
        return None if int(brand, 16) == 0 else Web3.to_checksum_address(brand)

    @_node_errors
    def role_events(self, from_block: int, to_block: int, chunk: int = 2_000) -> list[RoleEvent]:
        """Every `RoleGranted` / `RoleRevoked` log of the contract in `from_block..to_block`."""
        granted = self._deployed.events.RoleGranted()
        revoked = self._deployed.events.RoleRevoked()
        by_topic = {HexBytes(granted.topic): granted, HexBytes(revoked.topic): revoked}
        events = []
        for raw in self._logs([[granted.topic, revoked.topic]], from_block, to_block, chunk):
            event = by_topic[HexBytes(raw["topics"][0])]
            log = event.process_log(raw)
            events.append(
                RoleEvent(
                    role=role_name(log["args"]["role"]),
                    account=log["args"]["account"],
                    sender=log["args"]["sender"],
                    granted=event is granted,
                    **_log_position(log),
                )
            )
        return events

    def _logs(self, topics: list[Any], from_block: int, to_block: int, chunk: int) -> Iterator[Any]:
        """The contract's logs matching the topic filter `topics` (per position, a topic or a
        list of alternatives), `chunk` blocks per request."""
        for start, end in _chunks(from_block, to_block, chunk):
            yield from self._logs_in(topics, start, end)

    def _logs_in(self, topics: list[Any], from_block: int, to_block: int) -> Any:
        """The contract's logs matching `topics` in `from_block..to_block`, in one request."""
        return self.w3.eth.get_logs(
            {
                "address": self._deployed.address,
                "fromBlock": from_block,
                "toBlock": to_block,
                "topics": topics,
            }
        )

    # Blocks and balances

    @_node_errors
    def latest_block(self) -> int:
        """The number of the newest block."""
        return self.w3.eth.block_number

    @_node_errors
    def block_hash(self, number: int) -> bytes:
        """The hash of canonical block `number`."""
        return bytes(self._block(number)["hash"])

    @_node_errors
    def block_timestamp(self, number: int) -> int:
        """The timestamp (Unix seconds) of canonical block `number`."""
        return int(self._block(number)["timestamp"])

    @_node_errors
    def balance(self, address: str) -> int:
        """The balance of `address`, in wei."""
        return int(self.w3.eth.get_balance(_address(address, "address")))

    def fund(self, address: str, wei: int) -> TxResult:
        """Send `wei` to `address` from the node's first unlocked dev account.

        Works on the embedded chain and on development nodes (anvil, hardhat);
        any other chain has no unlocked account, and the address must be
        funded from outside.
        """
        to = _address(address, "address")
        if wei <= 0:
            raise InputError(f"amount: must be more than 0 wei, got {wei}")
        accounts: Sequence[ChecksumAddress]
        try:
            accounts = self.w3.eth.accounts
        except Web3RPCError:
            accounts = ()
        if not accounts:
            raise InputError(
                f"{self.label} has no unlocked dev account to fund from: send ETH to {to} "
                f"from a funded wallet (balance now {self.balance(to)} wei)"
            )
        tx: TxParams = {"from": accounts[0], "to": to, "value": Wei(wei), "gas": 21_000}
        tx.update(self._fees())
        try:
            tx_hash = self.w3.eth.send_transaction(tx)
        except Web3RPCError as exc:
            raise ChainError(
                f"fund: {self.label} rejected the transfer: {_rpc_message(exc)}"
            ) from exc
        return _tx_result(self._wait(bytes(tx_hash), "fund", tx))

    # Internals

    @property
    def _deployed(self) -> Contract:
        if self.contract_address is None:
            raise InputError(
                f"contract: no LabourLedger contract chosen on {self.label}; deploy one or attach"
            )
        # Building a web3 Contract parses the whole ABI: keep one per address.
        if self._contract is None or self._contract.address != self.contract_address:
            self._contract = self.w3.eth.contract(
                address=self.contract_address, abi=self._factory.abi
            )
        return self._contract

    def _block(self, number: int) -> Any:
        try:
            return self.w3.eth.get_block(number)
        except BlockNotFound:
            raise ChainError(
                f"block {number} not found on {self.label} (latest is {self.latest_block()})"
            ) from None

    def _fees(self) -> TxParams:
        priority = self.w3.eth.max_priority_fee
        base = self.w3.eth.get_block("latest").get("baseFeePerGas", Wei(0))
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": Wei(2 * base + priority)}

    def _transact(self, sender: LocalAccount, to: str | None, data: str, action: str) -> TxReceipt:
        """Estimate, sign locally, send raw and wait for a successful receipt."""
        tx: TxParams = {
            "from": sender.address,
            "data": HexStr(data),
            "value": Wei(0),
            "chainId": self.chain_id,
        }
        if to is not None:
            tx["to"] = to
        # An empty account is caught before the estimate, which some nodes refuse for it.
        balance = self.balance(sender.address)
        if balance == 0:
            raise self._short_of_funds(action, sender.address, balance, "")
        try:
            estimate = self.w3.eth.estimate_gas(tx)
        except ContractLogicError as exc:
            error = self._revert_error(action, exc)
            raise TransactionNotSent(str(error), error_name=error.error_name) from None
        except Web3RPCError as exc:
            raise TransactionNotSent(
                f"{action}: {self.label} rejected the transaction: {_rpc_message(exc)}"
            ) from exc
        tx.update(self._fees())
        tx["gas"] = estimate * (100 + GAS_MARGIN_PERCENT) // 100
        tx["nonce"] = self.w3.eth.get_transaction_count(sender.address, "pending")
        tx["type"] = 2
        cost = tx["gas"] * int(tx["maxFeePerGas"])
        if balance < cost:
            raise self._short_of_funds(action, sender.address, balance, f" of up to {cost} wei")
        signed = sender.sign_transaction(cast(dict[str, Any], tx))
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Web3RPCError as exc:
            raise TransactionNotSent(
                f"{action}: {self.label} rejected the transaction: {_rpc_message(exc)}"
            ) from exc
        return self._wait(bytes(tx_hash), action, tx)

    def _short_of_funds(self, action: str, address: str, balance: int, cost: str) -> InputError:
        return InputError(
            f"{action}: {address} has {balance} wei on {self.label}, not enough for the "
            f"transaction's gas{cost}; fund it first"
        )

    def _wait(self, tx_hash: bytes, action: str, tx: TxParams) -> TxReceipt:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=RECEIPT_TIMEOUT_SECONDS, poll_latency=0.2
            )
        except TimeExhausted:
            raise ChainError(
                f"{action}: transaction 0x{bytes(tx_hash).hex()} was not mined on {self.label} "
                f"within {RECEIPT_TIMEOUT_SECONDS:.0f} s; it may still be, check it later"
            ) from None
        if receipt["status"] != 1:
            raise self._mined_revert_error(action, receipt, tx)
        return receipt

    def _mined_revert_error(self, action: str, receipt: TxReceipt, tx: TxParams) -> ChainError:
        """Why a mined transaction reverted, found by replaying it on the state it left behind.

        This happens when the state changed between the gas estimate and the
        block (another process anchored the same root first, say).
        """
        where = (
            f"in block {receipt['blockNumber']} (tx 0x{bytes(receipt['transactionHash']).hex()})"
        )
        replay = cast(
            TxParams, {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        )
        try:
            self.w3.eth.call(replay, block_identifier=receipt["blockNumber"])
        except ContractLogicError as exc:
            error = self._revert_error(action, exc)
            return ChainError(f"{error} {where}", error_name=error.error_name)
        return ChainError(f"{action}: the transaction reverted {where}")

    def _revert_error(self, action: str, exc: ContractLogicError) -> ChainError:
        """A `ChainError` naming the custom error (and its arguments) a call reverted with."""
        data = bytes(HexBytes(exc.data)) if isinstance(exc.data, str) else b""
        custom = self._errors.get(data[:4])
        if custom is not None:
            values = abi_decode(list(custom.arg_types), data[4:])
            args = ", ".join(
                f"{n}={_show(v)}" for n, v in zip(custom.arg_names, values, strict=True)
            )
            hint = _ERROR_HINTS.get(custom.name)
            message = f"{action} reverted: {custom.name}({args})" + (f": {hint}" if hint else "")
            return ChainError(message, error_name=custom.name)
        if data[:4] == _ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], data[4:])
            return ChainError(f"{action} reverted: {reason}")
        return ChainError(f"{action} reverted: {exc.message or 'no reason given'}")


def _chunks(from_block: int, to_block: int, chunk: int) -> Iterator[tuple[int, int]]:
    """`from_block..to_block` as consecutive inclusive ranges of at most `chunk` blocks."""
    if from_block < 0:
        raise InputError(f"from_block: must be 0 or more, got {from_block}")
    if chunk < 1:
        raise InputError(f"chunk: must be 1 or more, got {chunk}")
    for start in range(from_block, to_block + 1, chunk):
        yield start, min(start + chunk - 1, to_block)


def _tx_result(receipt: TxReceipt) -> TxResult:
    return TxResult(
        tx_hash=bytes(receipt["transactionHash"]),
        block_number=receipt["blockNumber"],
        block_hash=bytes(receipt["blockHash"]),
        gas_used=receipt["gasUsed"],
    )


def _log_position(log: EventData) -> dict[str, Any]:
    return {
        "block_number": log["blockNumber"],
        "block_hash": bytes(log["blockHash"]),
        "tx_hash": bytes(log["transactionHash"]),
        "log_index": log["logIndex"],
    }


def _selector(name: str, arg_types: Sequence[str]) -> bytes:
    """The 4-byte selector of a function or custom error signature."""
    return keccak(f"{name}({','.join(arg_types)})".encode())[:4]


def _rpc_message(exc: Web3RPCError) -> str:
    """The node's own error message, without web3's wrapping."""
    error = (exc.rpc_response or {}).get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(exc.message)


def _role_id(role: str) -> bytes:
    try:
        return ROLES[role.upper()]
    except KeyError:
        raise InputError(f"role: expected one of {', '.join(ROLES)}, got {role!r}") from None


def _address(value: str, field: str) -> ChecksumAddress:
    if not Web3.is_address(value):
        raise InputError(f"{field}: not an Ethereum address: {value!r}")
    return Web3.to_checksum_address(value)


def _bytes32(value: bytes, field: str) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InputError(f"{field}: expected 32 bytes, got {value!r}")


def _block_id(block: int | None) -> BlockIdentifier:
    return "latest" if block is None else block


def _show(value: object) -> str:
    """An error argument as a person reads it: role names, checksummed addresses, 0x hex."""
    if isinstance(value, bytes):
        return role_name(value) if value in _ROLE_NAMES else "0x" + value.hex()
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return str(value)
