"""The LabourLedger contract client: one class over any chain web3 can reach.

Transactions are signed locally with the sender's key and sent raw, with the gas
estimated (plus a margin) and EIP-1559 fees taken from the node (`chain.transactions`), so
the embedded chain and a JSON-RPC node go through exactly the same path. A revert becomes a
`ChainError` carrying the contract's custom error name (`chain.reverts`); logs are read by
`chain.events`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    BlockNotFound,
    Web3RPCError,
)
from web3.types import BlockIdentifier, TxParams, Wei

from labourledger.chain.artifacts import load_artifact
from labourledger.chain.events import (
    ALL_EVENTS,
    ANCHORED,
    FIRST_CHUNK,
    ROLE_GRANTED,
    ROLE_REVOKED,
    AnchoredEvent,
    EventChunk,
    IndexEvent,
    LogReader,
    RoleEvent,
    rpc_message,
)
from labourledger.chain.records import AnchorReceipt, AnchorRecord, TxResult
from labourledger.chain.reverts import RevertDecoder
from labourledger.chain.roles import ROLES, role_name
from labourledger.chain.transactions import TransactionNotSent, Transactions
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

UINT64_MAX = 2**64 - 1
_P = ParamSpec("_P")
_R = TypeVar("_R")


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
                f"{method.__name__}: {self.label} answered: {rpc_message(exc)}"
            ) from exc

    return wrapper


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
        self._tx = Transactions(
            w3, label, self.chain_id, RevertDecoder(artifact["abi"]), runs_before_mining=is_embedded
        )
        # The contract has no overloaded function: a name is one signature.
        self._functions = {
            f["name"]: (function_abi_to_4byte_selector(f), get_abi_input_types(f))
            for f in artifact["abi"]
            if f["type"] == "function"
        }

    # Contract lifecycle

    def deploy(self, admin: LocalAccount) -> TxResult:
        """Deploy a new LabourLedger with `admin` holding DEFAULT_ADMIN_ROLE, and use it."""
        data = self._factory.constructor(admin.address).data_in_transaction
        mined = self._tx.send(admin, None, data, "deploy LabourLedger")
        if mined.contract_address is None:
            raise ChainError(f"deploy LabourLedger: {self.label} returned no contract address")
        self.contract_address = mined.contract_address  # checksummed as the receipt was read
        return mined

    @_node_errors
    def attach(self, address: str) -> None:
        """Use the contract already deployed at `address`."""
        checksummed = _address(address, "contract")
        if not self.w3.eth.get_code(checksummed):
            raise InputError(f"contract: no contract code at {checksummed} on {self.label}")
        self.contract_address = checksummed

    # Roles

    def grant_role(self, sender: LocalAccount, role: str, account: str) -> TxResult:
        """Grant `role` (a name in `chain.roles.ROLES`) to `account`; `sender` must admin it."""
        return self._role_change("grantRole", sender, role, account)

    def revoke_role(self, sender: LocalAccount, role: str, account: str) -> TxResult:
        """Revoke `role` from `account`; `sender` must be the role's admin."""
        return self._role_change("revokeRole", sender, role, account)

    def _role_change(self, fn: str, sender: LocalAccount, role: str, account: str) -> TxResult:
        args = [_role_id(role), _address(account, "account")]
        data = self._calldata(fn, args)
        return self._tx.send(sender, self._deployed.address, data, f"{fn} {role}")

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
            data = self._calldata("anchorIndexed", [root, size, subjects, entry_ids])
        else:
            data = self._calldata("anchor", [root, size])
        mined = self._tx.send(sender, self._deployed.address, data, "anchor")
        return AnchorReceipt(
            root=bytes(root),
            size=size,
            submitter=sender.address,
            tx_hash=mined.tx_hash,
            block_number=mined.block_number,
            block_hash=mined.block_hash,
            timestamp=self._block(mined.block_number)["timestamp"],
            gas_used=mined.gas_used,
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
        self, from_block: int, to_block: int, chunk: int = FIRST_CHUNK
    ) -> list[AnchoredEvent]:
        """Every `Anchored` log of the contract in blocks `from_block..to_block` (inclusive);
        `chunk` blocks in the first request, then as the node allows."""
        return [
            a for c in self._reader(chunk).logs([ANCHORED], from_block, to_block) for a in c.anchors
        ]

    def anchored_event(self, root: bytes, block_number: int) -> AnchoredEvent | None:
        """The `Anchored` log of `root` in `block_number`, the block the contract records for
        it (None only from a node that lost it)."""
        events = self.anchored_events(block_number, block_number)
        return next((e for e in events if e.root == root), None)

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
        wanted = list(subjects)
        for subject in wanted:
            _bytes32(subject, "subject")
        if not wanted:
            return []
        last = self.latest_block() if to_block is None else to_block
        return self._reader(chunk).index_events(wanted, from_block, last)

    def event_chunks(
        self, from_block: int, to_block: int, chunk: int = FIRST_CHUNK
    ) -> Iterator[EventChunk]:
        """All the contract's events (anchors, index entries, role changes) in
        `from_block..to_block`, one chunk per request, each chunk's events oldest first."""
        return self._reader(chunk).logs([list(ALL_EVENTS)], from_block, to_block)

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
    def role_events(
        self, from_block: int, to_block: int, chunk: int = FIRST_CHUNK
    ) -> list[RoleEvent]:
        """Every `RoleGranted` / `RoleRevoked` log of the contract in `from_block..to_block`."""
        topics = [[ROLE_GRANTED, ROLE_REVOKED]]
        return [r for c in self._reader(chunk).logs(topics, from_block, to_block) for r in c.roles]

    def _reader(self, chunk: int) -> LogReader:
        reader = LogReader(self.w3, self._deployed.address, self.label, chunk=chunk)
        reader.subjects_here = self.is_embedded
        return reader

    # Blocks and balances

    @_node_errors
    def latest_block(self) -> int:
        """The number of the newest block."""
        return self.w3.eth.block_number

    @_node_errors
    def head(self) -> tuple[int, bytes]:
        """The newest block's number and hash, in one request."""
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), bytes(block["hash"])

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
        tx.update(self._tx.fees())
        try:
            tx_hash = self.w3.eth.send_transaction(tx)
        except Web3RPCError as exc:
            raise ChainError(
                f"fund: {self.label} rejected the transfer: {rpc_message(exc)}"
            ) from exc
        return self._tx.wait(bytes(tx_hash), "fund", tx)

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

    def _calldata(self, name: str, args: Sequence[Any]) -> str:
        """A call of contract function `name` with `args`, ABI-encoded by eth_abi itself: web3's
        `encode_abi` takes every array item through its normalisers, 0.2 s for an anchor
        indexing 1,600 entries (8 ms here)."""
        selector, types = self._functions[name]
        return "0x" + (selector + encode(types, args)).hex()

    def _block(self, number: int) -> Any:
        try:
            return self.w3.eth.get_block(number)
        except BlockNotFound:
            raise ChainError(
                f"block {number} not found on {self.label} (latest is {self.latest_block()})"
            ) from None


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
