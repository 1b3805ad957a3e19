"""labourledger: signed, chain-anchored evidence of where a product's labour came from.

The public API is small: `Ledger` (one workspace: record, anchor, sync, query),
the envelope models (`Entry`, `SignedEntry`, `Domain`, `sign_entry`), and the
errors in `labourledger.errors`.
"""

from labourledger.envelope import Domain, Entry, SignedEntry, sign_entry
from labourledger.ledger import Ledger

__all__ = ["Domain", "Entry", "Ledger", "SignedEntry", "sign_entry"]
__version__ = "0.1.0"
