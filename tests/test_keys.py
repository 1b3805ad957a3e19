"""Encrypted keystores: round trips, wrong passphrases, nothing secret on disk."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from labourledger import keys
from labourledger.errors import InputError
from labourledger.keys import KeyStore

PASS = "correct horse battery"


def test_new_unlock_and_list(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    info = store.new("brand", PASS)
    account = store.unlock("brand", PASS)
    assert account.address == info.address == store.address("brand")
    assert [k.name for k in store.list()] == ["brand"]
    path = tmp_path / "keys" / "brand.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert account.key.hex()[2:] not in text and PASS not in text
    assert json.loads(text)["crypto"]["kdf"] == "scrypt"


def test_wrong_passphrase_and_bad_names(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.new("auditor", PASS)
    with pytest.raises(InputError, match="wrong passphrase"):
        store.unlock("auditor", PASS + "x")
    with pytest.raises(InputError, match="already exists"):
        store.new("auditor", PASS)
    with pytest.raises(InputError, match="key name"):
        store.new("../evil", PASS)
    with pytest.raises(InputError, match="no key named"):
        store.unlock("nobody", PASS)
    with pytest.raises(InputError, match="at least 8"):
        store.new("short", "1234")


def test_export_then_import_elsewhere(tmp_path: Path) -> None:
    a = KeyStore(tmp_path / "a")
    info = a.new("supplier", PASS)
    exported = tmp_path / "supplier.json"
    exported.write_text(json.dumps(a.export_keystore("supplier")))
    b = KeyStore(tmp_path / "b")
    with pytest.raises(InputError, match="wrong passphrase"):
        b.import_keystore("s", exported, "not the passphrase")
    assert not b.exists("s")
    assert b.import_keystore("s", exported, PASS).address == info.address
    assert b.unlock("s", PASS).address == info.address


def test_no_environment_variable_weakens_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keystores are written at eth-account's full scrypt cost whatever the environment says."""
    monkeypatch.setattr(keys, "SCRYPT_N", 2**18)  # undo the suite's fast-key patch
    for value in ("1024", "abc"):
        monkeypatch.setenv("LABOURLEDGER_SCRYPT_N", value)
        store = KeyStore(tmp_path / value)
        store.new("k", PASS)
        assert store.export_keystore("k")["crypto"]["kdfparams"]["n"] == 2**18
