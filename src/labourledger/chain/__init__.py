"""The LabourLedger contract on a chain: embedded (py-evm in the workspace) or any JSON-RPC URL.

Internal: use it through `labourledger.Ledger`; its names may change between releases.
"""

from labourledger.chain.embedded import dev_account, open_embedded
from labourledger.chain.ledger_contract import (
    ROLES,
    AnchoredEvent,
    AnchorReceipt,
    AnchorRecord,
    LedgerChain,
    RoleEvent,
    TxResult,
    role_name,
)
from labourledger.chain.rpc import open_rpc

__all__ = [
    "ROLES",
    "AnchorReceipt",
    "AnchorRecord",
    "AnchoredEvent",
    "LedgerChain",
    "RoleEvent",
    "TxResult",
    "dev_account",
    "open_embedded",
    "open_rpc",
    "role_name",
]
