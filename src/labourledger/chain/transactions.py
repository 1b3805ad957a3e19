"""Sending a transaction: gas estimated (plus a margin), EIP-1559 fees from the node, signed
locally, sent raw, and waited for until its receipt says it succeeded. The embedded chain
runs a transaction as it arrives and refuses one that fails, as an estimate would have: there
it is sent with what gas the block or the sender's balance allows, and run once, not twice.

The receipt is read as the node sends it, without web3's formatting: an anchor's receipt
holds a log per indexed entry, and formatting 2,000 of them into web3's attribute
dictionaries took longer than the block that mined them. Only the outcome is read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import BlockData, RPCEndpoint, TxParams, Wei

from labourledger.chain.events import node_message, rpc_message
from labourledger.chain.records import TxResult
from labourledger.chain.reverts import RevertDecoder
from labourledger.errors import ChainError, InputError

__all__ = ["GAS_MARGIN_PERCENT", "TransactionNotSent", "Transactions"]

# Gas limit = estimate * (1 + margin): state can change a little between estimate and inclusion.
GAS_MARGIN_PERCENT = 20
RECEIPT_TIMEOUT_SECONDS = 180.0
RECEIPT_POLL_SECONDS = 0.2


class TransactionNotSent(ChainError):
    """A transaction refused before it was sent (a revert at estimation, the node's refusal):
    nothing of it can be mined later."""


class Transactions:
    """Transactions to one chain, reached through `w3`; `label` names the chain in errors and
    `reverts` names the contract's custom errors. `runs_before_mining`: the chain (the
    embedded one) runs a transaction as it arrives and refuses one that fails, so none is
    estimated first, which would run it twice."""

    def __init__(
        self,
        w3: Web3,
        label: str,
        chain_id: int,
        reverts: RevertDecoder,
        *,
        runs_before_mining: bool = False,
    ) -> None:
        self.w3 = w3
        self.label = label
        self.chain_id = chain_id
        self.reverts = reverts
        self.runs_before_mining = runs_before_mining

    def send(self, sender: LocalAccount, to: str | None, data: str, action: str) -> TxResult:
        """Estimate (unless the chain runs it first), sign locally, send raw and wait for a
        successful receipt."""
        tx: TxParams = {
            "from": sender.address,
            "data": HexStr(data),
            "value": Wei(0),
            "chainId": self.chain_id,
        }
        if to is not None:
            tx["to"] = to
        # An empty account is caught before the estimate, which some nodes refuse for it.
        balance = int(self.w3.eth.get_balance(sender.address))
        if balance == 0:
            raise self._short_of_funds(action, sender.address, balance, "")
        latest = self.w3.eth.get_block("latest")
        tx.update(self.fees(latest))
        # Refused for want of gas: what the balance could buy, if that set the limit.
        unaffordable = None
        if self.runs_before_mining:
            # As much gas as the block or the balance allows: only what is used is paid for.
            block_limit = int(latest["gasLimit"])
            tx["gas"] = min(block_limit, balance // max(int(tx["maxFeePerGas"]), 1))
            if tx["gas"] < block_limit:
                unaffordable = self._short_of_funds(action, sender.address, balance, "")
        else:
            with self._refusals(action):
                estimate = self.w3.eth.estimate_gas(tx)
            tx["gas"] = estimate * (100 + GAS_MARGIN_PERCENT) // 100
        tx["nonce"] = self.w3.eth.get_transaction_count(sender.address, "pending")
        tx["type"] = 2
        cost = tx["gas"] * int(tx["maxFeePerGas"])
        if balance < cost:
            raise self._short_of_funds(action, sender.address, balance, f" of up to {cost} wei")
        signed = sender.sign_transaction(cast(dict[str, Any], tx))
        with self._refusals(action, unaffordable):
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.wait(bytes(tx_hash), action, tx)

    @contextmanager
    def _refusals(self, action: str, unaffordable: InputError | None = None) -> Iterator[None]:
        """A transaction refused before it was mined (a revert in an estimate or a run, a node's
        refusal) becomes TransactionNotSent naming why; any refusal but a revert becomes
        `unaffordable`, if given."""
        try:
            yield
        except (ContractLogicError, Web3RPCError) as exc:
            reverted = exc if isinstance(exc, ContractLogicError) else _reverted(exc)
            if reverted is not None:
                error = self.reverts.error(action, reverted)
                raise TransactionNotSent(str(error), error_name=error.error_name) from None
            if unaffordable is not None:
                raise unaffordable from None
            assert isinstance(exc, Web3RPCError)
            raise TransactionNotSent(
                f"{action}: {self.label} rejected the transaction: {rpc_message(exc)}"
            ) from exc

    def fees(self, latest: BlockData | None = None) -> TxParams:
        """EIP-1559 fees the node suggests: its priority fee, and room for the base fee (of
        block `latest`, read if not given) to double before the transaction is mined."""
        priority = self.w3.eth.max_priority_fee
        if latest is None:
            latest = self.w3.eth.get_block("latest")
        base = latest.get("baseFeePerGas", Wei(0))
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": Wei(2 * base + priority)}

    def wait(self, tx_hash: bytes, action: str, tx: TxParams) -> TxResult:
        """The outcome of sent transaction `tx_hash` once mined; a revert becomes a ChainError
        naming why (`tx` is replayed to find out)."""
        deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
        while (receipt := self._receipt(tx_hash, action)) is None:
            if time.monotonic() >= deadline:
                raise ChainError(
                    f"{action}: transaction 0x{tx_hash.hex()} was not mined on {self.label} "
                    f"within {RECEIPT_TIMEOUT_SECONDS:.0f} s; it may still be, check it later"
                )
            time.sleep(RECEIPT_POLL_SECONDS)
        try:
            created = receipt.get("contractAddress")
            mined = TxResult(
                tx_hash=tx_hash,
                block_number=int(receipt["blockNumber"], 16),
                block_hash=bytes.fromhex(receipt["blockHash"].removeprefix("0x")),
                gas_used=int(receipt["gasUsed"], 16),
                contract_address=Web3.to_checksum_address(created) if created else None,
            )
            succeeded = int(receipt["status"], 16) == 1
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ChainError(
                f"{action}: {self.label} sent a malformed receipt for 0x{tx_hash.hex()} ({exc})"
            ) from None
        if not succeeded:
            raise self._mined_revert_error(action, mined, tx)
        return mined

    def _receipt(self, tx_hash: bytes, action: str) -> Mapping[str, Any] | None:
        """The node's `eth_getTransactionReceipt` answer, or None while it is not mined."""
        method = RPCEndpoint("eth_getTransactionReceipt")
        response = self.w3.provider.make_request(method, ["0x" + tx_hash.hex()])
        error = response.get("error")
        if error is not None:
            raise ChainError(f"{action}: {self.label} answered: {node_message(error) or error}")
        return response.get("result")

    def _short_of_funds(self, action: str, address: str, balance: int, cost: str) -> InputError:
        return InputError(
            f"{action}: {address} has {balance} wei on {self.label}, not enough for the "
            f"transaction's gas{cost}; fund it first"
        )

    def _mined_revert_error(self, action: str, mined: TxResult, tx: TxParams) -> ChainError:
        """Why a mined transaction reverted, found by replaying it on the state it left behind.

        This happens when the state changed between the gas estimate and the
        block (another process anchored the same root first, say).
        """
        where = f"in block {mined.block_number} (tx 0x{mined.tx_hash.hex()})"
        replay = cast(
            TxParams, {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        )
        try:
            self.w3.eth.call(replay, block_identifier=mined.block_number)
        except ContractLogicError as exc:
            error = self.reverts.error(action, exc)
            return ChainError(f"{error} {where}", error_name=error.error_name)
        return ChainError(f"{action}: the transaction reverted {where}")


def _reverted(exc: Web3RPCError) -> ContractLogicError | None:
    """The revert a node's error answer reports (JSON-RPC code 3, with its data), if it does."""
    error = (exc.rpc_response or {}).get("error")
    if isinstance(error, dict) and error.get("code") == 3 and isinstance(error.get("data"), str):
        return ContractLogicError(str(error.get("message") or "execution reverted"), error["data"])
    return None
