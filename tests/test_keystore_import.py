"""Imported and stored keystores are checked before they are trusted: the address field must
be the key's, the format version 3, and the key derivation no costlier than a wallet's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import eth_keyfile.keyfile
import pytest
from clihelp import PASSPHRASE, Cli
from eth_account import Account

from labourledger.errors import InputError
from labourledger.keys import KeyStore

ZERO = "0" * 40


def _exported(tmp_path: Path, **changes: Any) -> tuple[KeyStore, Path]:
    """A key made in one store, and its keystore file as exported, with `changes` applied
    to the top level, or to `crypto` or `crypto.kdfparams` for keys named after them."""
    store = KeyStore(tmp_path / "here")
    store.new("brand", PASSPHRASE)
    keystore = store.export_keystore("brand")
    for field, value in changes.items():
        target = keystore
        for part in field.split("__")[:-1]:
            target = target[part]
        target[field.split("__")[-1]] = value
    path = tmp_path / "brand-keystore.json"
    path.write_text(json.dumps(keystore))
    return store, path


def _import_refused(tmp_path: Path, path: Path) -> str:
    """Why importing the keystore file at `path` into another store was refused; the
    message names the file."""
    with pytest.raises(InputError, match=r"brand-keystore\.json: ") as caught:
        KeyStore(tmp_path / "other").import_keystore("x", path, PASSPHRASE)
    return str(caught.value)


def test_import_refuses_an_address_field_that_is_not_the_keys(tmp_path: Path) -> None:
    _, path = _exported(tmp_path, address=ZERO)
    other = KeyStore(tmp_path / "other")
    with pytest.raises(InputError, match=r"brand-keystore\.json: address field 0x0{40} is not"):
        other.import_keystore("x", path, PASSPHRASE)
    assert not other.exists("x")


def test_unlock_refuses_a_stored_keystore_edited_after_import(tmp_path: Path) -> None:
    store, _ = _exported(tmp_path)
    stored = tmp_path / "here" / "brand.json"
    stored.write_text(json.dumps(json.loads(stored.read_text()) | {"address": ZERO}))
    with pytest.raises(InputError, match=r"key 'brand': address field 0x0{40} is not"):
        store.unlock("brand", PASSPHRASE)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 1}, "not a supported keystore (version 3 only)"),
        ({"version": 4}, "not a supported keystore (version 3 only)"),
        ({"crypto": "aes"}, "crypto.kdfparams: missing"),
        ({"crypto__kdf": "argon2"}, "crypto.kdf: only scrypt or pbkdf2"),
        ({"crypto__cipher": "aes-256-gcm"}, "crypto.cipher: only aes-128-ctr"),
        ({"crypto__ciphertext": "not hex"}, "damaged keystore (unreadable crypto fields)"),
        ({"crypto__cipherparams": {}}, "damaged keystore ('iv' missing)"),
        ({"crypto__kdfparams__salt": 7}, "damaged keystore (unreadable crypto fields)"),
        ({"crypto__kdfparams__n": 1000}, "damaged keystore (unreadable crypto fields)"),
    ],
)
def test_undecryptable_keystores_are_one_line_errors_naming_the_file(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    _, path = _exported(tmp_path, **changes)
    refused = _import_refused(tmp_path, path)
    assert message in refused and "\n" not in refused


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"crypto__kdfparams__n": 2**30}, "crypto.kdfparams.n: 1073741824 is not 2 to 1048576"),
        ({"crypto__kdfparams__r": 100000}, "crypto.kdfparams.r: 100000 is not 1 to 32"),
        ({"crypto__kdfparams__p": 2**20}, "crypto.kdfparams.p: 1048576 is not 1 to 32"),
        ({"crypto__kdfparams__dklen": 10**9}, "crypto.kdfparams.dklen: 1000000000 is not 32"),
        ({"crypto__kdfparams__dklen": 1e9}, "crypto.kdfparams.dklen: 1000000000.0 is not 32"),
        (
            {"crypto__kdfparams__n": 2**20, "crypto__kdfparams__r": 32},
            "crypto.kdfparams: scrypt work n*r*p above 8388608",
        ),
        (
            {
                "crypto__kdf": "pbkdf2",
                "crypto__kdfparams": {"c": 10**12, "dklen": 32, "prf": "hmac-sha256", "salt": ""},
            },
            "crypto.kdfparams.c: 1000000000000 is not 1 to 10000000",
        ),
    ],
)
def test_costly_key_derivation_is_refused_before_decrypting(
    tmp_path: Path, changes: dict[str, Any], field: str
) -> None:
    store, path = _exported(tmp_path, **changes)
    assert field in _import_refused(tmp_path, path)
    stored = tmp_path / "here" / "brand.json"
    stored.write_text(path.read_text())
    with pytest.raises(InputError, match=r"key 'brand': ") as caught:
        store.unlock("brand", PASSPHRASE)
    assert field in str(caught.value)


def test_wallet_keystores_within_the_bounds_still_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account.create()
    pbkdf2 = Account.encrypt(account.key, PASSPHRASE, kdf="pbkdf2", iterations=1000)
    pbkdf2["Crypto"] = pbkdf2.pop("crypto")  # as geth once wrote it
    # eth-account's own docstring example has r=1, p=8.
    monkeypatch.setattr(eth_keyfile.keyfile, "SCRYPT_R", 1)
    monkeypatch.setattr(eth_keyfile.keyfile, "SCRYPT_P", 8)
    scrypt = Account.encrypt(account.key, PASSPHRASE, iterations=2**10)
    assert scrypt["crypto"]["kdfparams"]["p"] == 8
    store = KeyStore(tmp_path / "keys")
    for name, keystore in (("pbkdf2", pbkdf2), ("scrypt", scrypt)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(keystore))
        assert store.import_keystore(name, path, PASSPHRASE).address == account.address
        assert store.unlock(name, PASSPHRASE).address == account.address


def test_cli_import_of_an_edited_keystore_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    _, path = _exported(tmp_path, address=ZERO)
    code, out, err = cli.run("keys", "import", "x", str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "brand-keystore.json" in err and "address field" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert [k["name"] for k in cli.json("keys", "list")] == ["admin"]
