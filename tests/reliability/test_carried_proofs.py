"""An entry file's carried proof and anchor (an entry anchored by its signer) are checked
before anything of them is stored: a malformed anchor is refused, exit 2, nothing written."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labourledger import keys
from labourledger.errors import InputError
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

PASS = "carried proofs passphrase"
BODY = {
    "facility": "0x" + "ab" * 32, "claim": "certificate", "standard": "SA8000",
    "certificate_number": "1", "valid_from": "2026-01-01", "valid_until": "2027-01-01",
}  # fmt: skip
BREAKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "tx-hash-number": lambda e: e["anchor"].update(tx_hash=5),
    "tx-hash-short": lambda e: e["anchor"].update(tx_hash="0x1234"),
    "root-short": lambda e: e["anchor"].update(root="0x12"),
    "anchor-not-object": lambda e: e.update(anchor="zz"),
    "proof-not-object": lambda e: e.update(proof=5),
    "path-not-hex": lambda e: e["proof"].update(path=["0xzz"]),
    "leaf-index-negative": lambda e: e["proof"].update(leaf_index=-1),
}


@pytest.fixture(scope="module")
def anchored(
    tmp_path_factory: pytest.TempPathFactory, anvil_url: str
) -> tuple[Path, dict[str, Any], str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(keys, "SCRYPT_N", 2**10)
        root = tmp_path_factory.mktemp("carried")
        source = Ledger.init(root / "auditor", chain=anvil_url, confirmations=0)
        store = source.workspace.keys
        store.new("admin", PASS)
        source.chain.fund(store.address("admin"), 10**19)
        admin = store.unlock("admin", PASS)
        source.deploy(admin)
        auditor = store.unlock(store.new("auditor", PASS).name, PASS)
        source.chain.fund(auditor.address, 10**19)
        source.grant_role(admin, "AUDITOR", auditor.address)
        entry = source.record("attestation", BODY, auditor)
        source.anchor(auditor)
        path = source.write_entries(root / "anchored.json", [entry], with_proofs=True)
        return root, json.loads(path.read_text()), str(source.config.chain.contract)


@pytest.mark.parametrize("name", BREAKS)
def test_a_malformed_carried_anchor_is_refused(
    anchored: tuple[Path, dict[str, Any], str], anvil_url: str, tmp_path: Path, name: str
) -> None:
    _, base, contract = anchored
    brand = Ledger.init(tmp_path / "brand", chain=anvil_url, contract=contract, confirmations=0)
    broken = copy.deepcopy(base)
    BREAKS[name](broken["entries"][0])
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(InputError):
        brand.import_file(path)
    assert brand.mirror.counts() == {"entries": 0, "pending": 0, "anchored": 0}


def test_the_unbroken_file_is_stored_as_anchored(
    anchored: tuple[Path, dict[str, Any], str], anvil_url: str, tmp_path: Path
) -> None:
    _, base, contract = anchored
    brand = Ledger.init(tmp_path / "brand", chain=anvil_url, contract=contract, confirmations=0)
    path = tmp_path / "good.json"
    path.write_text(json.dumps(base))
    assert brand.import_file(path).new == 1
    assert brand.mirror.counts()["anchored"] == 1
