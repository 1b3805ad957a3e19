"""The embedded chain's EVM: py-evm's Prague, its gas measured in one run and its receipts'
blooms made once per distinct value (see `embedded` for the chain as JSON-RPC)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from eth.abc import (
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.chains.base import MiningChain
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.rlp.logs import Log
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_typing import BlockNumber

from labourledger.hashing import keccak256

__all__ = ["EMBEDDED_CHAIN_ID", "EmbeddedChain", "EmbeddedVM", "log_bloom"]

# The chain id web3's EthereumTesterProvider reports for eth_chainId; the chain
# must use the same one or locally signed transactions would be rejected.
EMBEDDED_CHAIN_ID = 131277322940537
#: An SSTORE fails with this much gas left or less (EIP-2200).
SSTORE_STIPEND = 2_300


def _measured_gas(state: StateAPI, transaction: SignedTransactionAPI) -> int:
    """The gas `transaction` needs, from a run at the block's gas limit: what it used before
    refunds. A run that made no call is given the 2,300 an SSTORE wants left besides
    (EIP-2200), as nothing else in it depends on the gas it has (but `gasleft()`, which
    LabourLedger's contract never reads); one that made calls is confirmed by a run given
    just what it used, since a call gets only 63/64 of what is left (EIP-150).

    It answers `eth_estimateGas` (LabourLedger's own transactions are not estimated here:
    see `Transactions`); py-evm's binary search, which runs a transaction a dozen times,
    stays the fallback (and names the error of a transaction that fails whatever its gas)."""
    limit = state.gas_limit
    computation = _trial(state, transaction, limit)
    if not computation.is_error:
        used = limit - computation.get_gas_remaining()
        if not computation.children:
            return min(used + SSTORE_STIPEND, limit)
        if not _trial(state, transaction, used).is_error:
            return used
    estimate: int = binary_gas_search_intrinsic_tolerance(state, transaction)
    return estimate


def _trial(state: StateAPI, transaction: SignedTransactionAPI, gas: int) -> ComputationAPI:
    """A run of `transaction` given `gas`, its effects undone."""
    snapshot = state.snapshot()
    try:
        spoofed = cast(SignedTransactionAPI, SpoofTransaction(transaction, gas=gas, gas_price=0))
        return state.apply_transaction(spoofed)
    finally:
        state.revert(snapshot)


def log_bloom(log_entries: Sequence[tuple[bytes, Sequence[int], bytes]]) -> int:
    """The logs bloom (yellow paper, 4.3.1) of (address, topics, data) log entries, each
    distinct address and topic hashed once: an anchor's `Indexed` events share their address
    and first topic, which py-evm's receipt hashes again for every log."""
    values = {address for address, _, _ in log_entries}
    values.update(topic.to_bytes(32, "big") for _, topics, _ in log_entries for topic in topics)
    bloom = 0
    for value in values:
        h = keccak256(value)
        bloom |= 1 << ((h[0] << 8 | h[1]) & 2047) | 1 << ((h[2] << 8 | h[3]) & 2047)
        bloom |= 1 << ((h[4] << 8 | h[5]) & 2047)
    return bloom


class EmbeddedVM(PragueVM):
    """Prague, its receipts' blooms made by `log_bloom` (py-evm's took a fifteenth of anchoring
    100,000 entries; its own check of every receipt against its logs stays)."""

    @classmethod
    def make_receipt(
        cls,
        base_header: BlockHeaderAPI,
        transaction: SignedTransactionAPI,
        computation: ComputationAPI,
        state: StateAPI,
    ) -> ReceiptAPI:
        """The receipt Byzantium's `make_receipt` makes, its bloom given rather than built."""
        gas_used = base_header.gas_used + cls.finalize_gas_used(transaction, computation)
        status = (
            EIP658_TRANSACTION_STATUS_CODE_FAILURE
            if computation.is_error
            else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
        )
        entries = computation.get_log_entries()
        bare = transaction.make_receipt(status, gas_used, ())  # no logs: no bloom to build
        logs = [Log(address, topics, data) for address, topics, data in entries]
        return bare.copy(logs=logs, bloom=log_bloom(entries))


class EmbeddedChain(MiningChain):
    """A post-merge (Prague) chain that keeps its gas limit, like eth-tester's own."""

    chain_id = EMBEDDED_CHAIN_ID
    vm_configuration = ((BlockNumber(0), EmbeddedVM),)
    gas_estimator = staticmethod(_measured_gas)

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        """The next header, with the parent's gas limit."""
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)

    def get_transaction_builder(self) -> Any:
        """The pending block's transaction builder (eth-tester asks the chain for it)."""
        return self.get_vm().get_transaction_builder()
