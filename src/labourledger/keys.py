"""Encrypted keystores (Web3 Secret Storage) kept in the workspace.

Private keys exist in memory only while unlocked; on disk they are always
encrypted, and this module never prints or logs a key or a passphrase.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from labourledger.errors import InputError, NoSuchKey
from labourledger.exchange import read_json

__all__ = ["SCRYPT_N", "KeyInfo", "KeyStore"]

#: The scrypt cost of every keystore written: eth-account's default. Nothing in the
#: product lowers it; only the test suite patches it, for speed.
SCRYPT_N = 2**18
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: A keystore's address: 40 hex digits, "0x" optional (eth-account writes it without).
_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")
#: Bounds on a keystore's key-derivation settings, checked before decrypting so a crafted
#: file cannot hold a command for minutes or take gigabytes. geth, ethers and eth-account
#: write scrypt n of at most 2**18 with r*p of 8, pbkdf2 c of at most 262144, dklen 32.
_SCRYPT_BOUNDS = {"n": (2, 2**20), "r": (1, 32), "p": (1, 32), "dklen": (32, 32)}
_PBKDF2_BOUNDS = {"c": (1, 10**7), "dklen": (32, 32)}
#: Bounds scrypt's time (proportional to n*r*p) and memory (128*n*r bytes: 1 GiB at most).
_MAX_SCRYPT_WORK = 2**23


@dataclass(frozen=True)
class KeyInfo:
    """A key's name and public address (nothing secret)."""

    name: str
    address: str


class KeyStore:
    """A folder of encrypted keystore files, one per named key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InputError(
                f"key name {name!r}: use letters, digits, '.', '_' or '-' (at most 64 characters)"
            )
        return self.directory / f"{name}.json"

    def _write(self, name: str, keystore: dict[str, Any]) -> None:
        path = self._path(name)
        if path.exists():
            raise InputError(f"key {name!r} already exists; pick another name")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keystore, handle)

    def _read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        if not path.exists():
            raise NoSuchKey(name)
        return self._keystore(read_json(path), path)

    def exists(self, name: str) -> bool:
        """Whether a key of that name is stored."""
        return self._path(name).exists()

    def new(self, name: str, passphrase: str) -> KeyInfo:
        """Create a fresh key, store it encrypted under `passphrase`, return its address."""
        self.check_passphrase(passphrase)
        account = Account.create()
        self._write(name, Account.encrypt(account.key, passphrase, iterations=SCRYPT_N))
        return KeyInfo(name, account.address)

    def import_keystore(self, name: str, keystore_file: Path, passphrase: str) -> KeyInfo:
        """Store an existing Web3 Secret Storage file, after checking `passphrase` opens it
        to the key its address field names."""
        keystore = self._keystore(read_json(keystore_file), keystore_file)
        account = self._decrypt(keystore, passphrase, str(keystore_file))
        self._write(name, keystore)
        return KeyInfo(name, account.address)

    def export_keystore(self, name: str) -> dict[str, Any]:
        """The encrypted keystore JSON as stored: useless without its passphrase."""
        return self._read(name)

    def address(self, name: str) -> str:
        """The key's address, read without decrypting."""
        return str(to_checksum_address(self._read(name)["address"]))

    def list(self) -> list[KeyInfo]:
        """Every stored key, by name."""
        if not self.directory.exists():
            return []
        return [
            KeyInfo(p.stem, self.address(p.stem)) for p in sorted(self.directory.glob("*.json"))
        ]

    def by_address(self) -> dict[str, str]:
        """Map of address to key name, for labelling addresses in listings."""
        return {info.address: info.name for info in self.list()}

    def unlock(self, name: str, passphrase: str) -> LocalAccount:
        """Decrypt a key for signing, refusing one whose file's address field was edited."""
        return self._decrypt(self._read(name), passphrase, f"key {name!r}")

    @staticmethod
    def _keystore(data: Any, path: Path) -> dict[str, Any]:
        if not isinstance(data, dict) or not _ADDRESS.fullmatch(str(data.get("address"))):
            raise InputError(f"{path}: not a keystore (a JSON object with an address)")
        return data

    @staticmethod
    def _decrypt(keystore: dict[str, Any], passphrase: str, label: str) -> LocalAccount:
        from eth_keyfile.exceptions import EthKeyfileValueError

        _check_decryptable(keystore, label)
        try:
            account: LocalAccount = Account.from_key(Account.decrypt(keystore, passphrase))
        # Once _check_decryptable has passed, eth-keyfile raises this only for a MAC mismatch.
        except EthKeyfileValueError:
            raise InputError(f"{label}: wrong passphrase or damaged keystore") from None
        except KeyError as exc:
            raise InputError(f"{label}: damaged keystore ({exc.args[0]!r} missing)") from None
        except (ValueError, TypeError):
            raise InputError(f"{label}: damaged keystore (unreadable crypto fields)") from None
        claimed = to_checksum_address(keystore["address"])
        if account.address != claimed:
            raise InputError(
                f"{label}: address field {claimed} is not the address of the key it holds "
                f"({account.address}); edited keystore refused"
            )
        return account

    @staticmethod
    def check_passphrase(passphrase: str) -> None:
        """Refuse a passphrase too short to protect a key (InputError naming it)."""
        if len(passphrase) < 8:
            raise InputError("passphrase: use at least 8 characters")


def _check_decryptable(keystore: dict[str, Any], label: str) -> None:
    """Refuse, naming the setting, a keystore eth-keyfile cannot decrypt as version 3 or
    whose key derivation asks for more work than any wallet's."""
    from eth_keyfile.keyfile import normalize_keys

    data = normalize_keys(keystore)  # as eth-keyfile reads it: geth once wrote "Crypto"
    if data.get("version") != 3:
        raise InputError(f"{label}: not a supported keystore (version 3 only)")
    crypto = data.get("crypto")
    if not isinstance(crypto, dict) or not isinstance(crypto.get("kdfparams"), dict):
        raise InputError(f"{label}: crypto.kdfparams: missing, so a damaged keystore")
    params = crypto["kdfparams"]
    # eth-keyfile decrypts as aes-128-ctr whatever the file names.
    if crypto.get("cipher") != "aes-128-ctr":
        raise InputError(f"{label}: crypto.cipher: only aes-128-ctr is supported")
    kdf = crypto.get("kdf")
    if kdf == "scrypt":
        bounds = _SCRYPT_BOUNDS
    elif kdf == "pbkdf2" and params.get("prf") == "hmac-sha256":
        bounds = _PBKDF2_BOUNDS
    else:
        raise InputError(f"{label}: crypto.kdf: only scrypt or pbkdf2 (hmac-sha256) is supported")
    for field, (low, high) in bounds.items():
        value = params.get(field)
        if type(value) is not int or not low <= value <= high:
            allowed = str(low) if low == high else f"{low} to {high}"
            raise InputError(
                f"{label}: crypto.kdfparams.{field}: {reprlib.repr(value)} is not {allowed}"
            )
    if kdf == "scrypt" and params["n"] * params["r"] * params["p"] > _MAX_SCRYPT_WORK:
        raise InputError(f"{label}: crypto.kdfparams: scrypt work n*r*p above {_MAX_SCRYPT_WORK}")
