"""Verification gathers facilities' evidence, and reads and checks relied-on entries, a few
at a time, in forked workers when there are many: the report must not depend on where the
parts fall, nor on where they are read."""

from __future__ import annotations

import os

import pytest

from labourledger import parallel
from labourledger.ledger import Ledger
from labourledger.verify import evidence, relied


def assert_same_in_chunks(ledger: Ledger, batch: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking one entry at a time, and gathering facilities and reading entries in forked
    workers a few at a time, give the report that checking all at once in this process
    gives, by default and with every check listed."""
    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    monkeypatch.setattr(parallel, "cores", lambda: 2)  # forks on a one-core machine too
    for all_checks in (False, True):
        with monkeypatch.context() as patched:
            patched.setattr(relied, "POOL_MIN_ENTRIES", 10**9)  # never forked
            patched.setattr(relied, "FACTS_CHUNK", 10**9)
            whole = ledger.verify(batch, all_checks=all_checks)
        with monkeypatch.context() as patched:
            patched.setattr(relied, "FACTS_CHUNK", 1)
            chunked = ledger.verify(batch, all_checks=all_checks)
        with monkeypatch.context() as patched:
            patched.setattr(relied, "POOL_MIN_ENTRIES", 1)
            patched.setattr(relied, "FACTS_CHUNK", 2)
            patched.setattr(evidence, "POOL_MIN_FACILITIES", 1)
            patched.setattr(evidence, "FACILITY_CHUNK", 1)
            before = len(forks)
            forked = ledger.verify(batch, all_checks=all_checks)
        assert len(forks) - before >= 4  # two workers each for evidence and for entries
        assert sum(whole["entry_counts"].values()) > 1  # more than one part
        assert {**chunked, "generated_at": ""} == {**whole, "generated_at": ""}
        assert {**forked, "generated_at": ""} == {**whole, "generated_at": ""}
