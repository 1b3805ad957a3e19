"""The collector pause around bulk work: off inside, back on after, whatever happens."""

from __future__ import annotations

import gc

import pytest

from labourledger.gcpause import gc_paused


def test_the_collector_is_off_inside_and_on_after_even_on_error() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner block must not turn it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_verify_runs_with_the_collector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from labourledger.verify import batch

    seen: list[bool] = []
    monkeypatch.setattr(batch, "collect_evidence", lambda *a: seen.append(gc.isenabled()) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        batch.verify_batch(None, "0x00", None, object())  # type: ignore[arg-type]
    assert seen == [False] and gc.isenabled()
