"""The embedded chain's receipts: its VM builds their logs bloom itself (once per distinct
address and topic), and must build exactly the receipts py-evm's Prague VM builds."""

from __future__ import annotations

from typing import Any

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM
from eth_bloom import BloomFilter
from eth_keys import keys
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_default_genesis_params,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from labourledger.chain import evm
from labourledger.chain.evm import log_bloom

KEY = keys.PrivateKey(b"\x11" * 32)
PUSH1, PUSH32, LOG0, LOG2, REVERT, STOP = 0x60, 0x7F, 0xA0, 0xA2, 0xFD, 0x00


def _log2(first: int, second: int) -> bytes:
    # LOG2(offset 0, size 0, first, second): topics pushed last-first.
    return bytes([PUSH32, *second.to_bytes(32, "big"), PUSH32, *first.to_bytes(32, "big")]) + (
        bytes([PUSH1, 0, PUSH1, 0, LOG2])
    )


# Creation code that logs a few events (two topics shared, like an anchor's Indexed events,
# and one with no topic), and creation code that logs and then reverts.
LOGGING = b"".join(_log2(7, n) for n in (1, 2, 2, 3)) + bytes([PUSH1, 0, PUSH1, 0, LOG0, STOP])
REVERTING = _log2(7, 9) + bytes([PUSH1, 0, PUSH1, 0, REVERT])


def _receipts(vm: type[PragueVM]) -> list[Any]:
    chain_class = MiningChain.configure(vm_configuration=((0, vm),), chain_id=evm.EMBEDDED_CHAIN_ID)
    chain = chain_class.from_genesis(
        AtomicDB(), get_default_genesis_params(), generate_genesis_state_for_keys([KEY])
    )
    receipts = []
    for nonce, code in enumerate([LOGGING, REVERTING, LOGGING]):
        unsigned = chain.create_unsigned_transaction(
            nonce=nonce, gas_price=10**10, gas=200_000, to=b"", value=0, data=code
        )
        _, receipt, _ = chain.apply_transaction(unsigned.as_signed_transaction(KEY))
        receipts.append(receipt)
    return receipts


def test_the_embedded_vm_makes_py_evms_receipts() -> None:
    ours, reference = _receipts(evm.EmbeddedVM), _receipts(PragueVM)
    assert ours == reference
    assert [len(r.logs) for r in ours] == [5, 0, 5]  # a reverted call's logs are dropped
    assert ours[0].bloom != 0 and ours[1].bloom == 0
    assert ours[2].gas_used > ours[1].gas_used > ours[0].gas_used  # cumulative, in one block


values = st.tuples(
    st.binary(min_size=20, max_size=20),
    st.lists(st.integers(min_value=0, max_value=2**256 - 1), max_size=4),
    st.binary(max_size=8),
)


@settings(max_examples=200)
@given(st.lists(values, max_size=12), st.booleans())
def test_log_bloom_is_eth_blooms(entries: list[Any], repeat: bool) -> None:
    if repeat:  # the same address and topics again: each sets its bits once
        entries = entries + entries
    reference = BloomFilter.from_iterable(
        value
        for address, topics, _ in entries
        for value in (address, *(t.to_bytes(32, "big") for t in topics))
    )
    assert log_bloom(entries) == int(reference)
