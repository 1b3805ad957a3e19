"""Verification reads and checks relied-on entries a chunk at a time: the report must not
depend on where the chunks fall."""

from __future__ import annotations

import pytest

from labourledger.ledger import Ledger
from labourledger.verify import relied


def assert_same_in_chunks(ledger: Ledger, batch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking one entry at a time gives the report that checking all at once gives, by
    default and with every check listed."""
    for all_checks in (False, True):
        whole = ledger.verify(batch, all_checks=all_checks)
        with monkeypatch.context() as patched:
            patched.setattr(relied, "CHUNK_ENTRIES", 1)
            chunked = ledger.verify(batch, all_checks=all_checks)
        assert sum(whole["entry_counts"].values()) > 1  # more than one chunk
        assert {**chunked, "generated_at": ""} == {**whole, "generated_at": ""}
