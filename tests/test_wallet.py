"""Wallets and remote signers: typed data out, a wallet's signature back in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clihelp import Cli
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger.envelope import Domain, SignedEntry, recover_signer, sign_entry
from labourledger.exchange import read_entry_file
from labourledger.identifiers import facility_id_from_os_id
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FACILITY = "0x" + facility_id_from_os_id("IN2024002CTNM1H").hex()
ADD = ("supplier", "add", "--name", "Tiruppur Cotton Mills", "--country", "IN", "--address",
       "SIDCO Estate, Tiruppur", "--tier", "2", "--os-id", "IN2024002CTNM1H")  # fmt: skip


class RemoteSigner:
    """Not a LocalAccount: an account that only signs digests, like a hardware wallet."""

    def __init__(self, account: LocalAccount) -> None:
        self._account = account

    @property
    def address(self) -> str:
        return str(self._account.address)

    def unsafe_sign_hash(self, message_hash: Any) -> Any:
        return self._account.unsafe_sign_hash(message_hash)


def _wallet_signs(typed_data: Path, account: LocalAccount) -> bytes:
    """What a wallet returns for eth_signTypedData_v4 given the file's JSON."""
    full_message = json.loads(typed_data.read_text())
    return bytes(Account.sign_typed_data(account.key, full_message=full_message).signature)


def _workspace(tmp_path: Path, capsys: Any, monkeypatch: Any) -> Cli:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    cli.ok("keys", "new", "brand")
    return cli


def test_any_base_account_like_signer_signs_entries(tmp_path: Path) -> None:
    account = Account.create()
    domain = Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
    entry = sign_entry(
        signer=RemoteSigner(account),
        domain=domain,
        kind="revocation",
        subject=b"\x01" * 32,
        body={"target": "0x" + "01" * 32, "reason": "test"},
        issued_at=1_700_000_000,
    )
    assert entry.issuer == account.address
    assert recover_signer(entry.compute_id(domain), entry.signature) == account.address
    assert entry.content_hash_matches() and entry.id_matches(domain)


def test_supplier_add_signed_in_a_wallet_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _workspace(tmp_path, capsys, monkeypatch)
    wallet = Account.create()
    typed = tmp_path / "facility.typed.json"
    code, _, err = cli.run(*ADD, "--sign-with", "external", "--typed-data-out", str(typed),
                             "--key", wallet.address)  # fmt: skip
    assert code == 0 and "waits for" in err and "sign-complete" in err, err
    ledger = Ledger.open(tmp_path / "ws")
    assert ledger.mirror.counts()["pending"] == 0  # nothing stored before the signature
    data = json.loads(typed.read_text())
    assert data["primaryType"] == "Entry" and data["message"]["issuer"] == wallet.address
    assert data["domain"]["chainId"] == ledger.domain.chain_id

    # A signature from another account is refused, and nothing is stored.
    stranger = _wallet_signs(typed, Account.create())
    code, _, err = cli.run("sign-complete", str(typed), "--signature", "0x" + stranger.hex(),
                           "--record")  # fmt: skip
    assert code == 2 and f"the entry's issuer is {wallet.address}" in err
    # The same signature with its s mirrored into the upper half is refused too.
    signature = _wallet_signs(typed, wallet)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (N - s).to_bytes(32, "big") + bytes([55 - v])
    code, _, err = cli.run("sign-complete", str(typed), "--signature", "0x" + twin.hex(),
                           "--record")  # fmt: skip
    assert code == 2 and "lower half" in err
    assert Ledger.open(tmp_path / "ws").mirror.counts()["pending"] == 0

    # The wallet's own signature, with v as the recovery id 0/1 as some wallets return it.
    zero_one = signature[:64] + bytes([v - 27])
    done = cli.json("sign-complete", str(typed), "--signature", "0x" + zero_one.hex(), "--record")
    assert done["issuer"] == wallet.address and done["kind"] == "facility"
    assert done["signature"] == "0x" + signature.hex()  # stored with v 27/28
    stored = Ledger.open(tmp_path / "ws").entry(done["entry_id"])
    assert stored.recover(ledger.domain) == wallet.address and stored.content_hash_matches()
    assert stored.body["os_id"] == "IN2024002CTNM1H"
    # The draft is gone once delivered.
    code, _, err = cli.run("sign-complete", str(typed), "--signature", "0x" + signature.hex())
    assert code == 2 and "no draft" in err


def test_audit_signed_in_a_wallet_becomes_an_entry_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _workspace(tmp_path, capsys, monkeypatch)
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({
        "facility": FACILITY, "standard": "SA8000", "audit_type": "periodic",
        "notice": "unannounced", "start_date": "2026-03-01", "end_date": "2026-03-03",
        "workers_interviewed": 40,
    }))  # fmt: skip
    wallet = Account.create()
    typed = tmp_path / "audit.typed.json"
    cli.ok("audit", "sign", str(audit), "--sign-with", "external", "--typed-data-out", str(typed),
           "--key", wallet.address)  # fmt: skip
    signature = _wallet_signs(typed, wallet)
    out_file = tmp_path / "audit.entry.json"
    cli.ok("sign-complete", str(typed), "--signature", "0x" + signature.hex(), "-o", str(out_file))
    ledger = Ledger.open(tmp_path / "ws")
    written = read_entry_file(out_file)
    assert written.domain == ledger.domain
    [entry] = [SignedEntry.model_validate(e) for e in written.entries]
    assert (entry.kind, entry.issuer, entry.body["workers_interviewed"]) == (
        "audit",
        wallet.address,
        40,
    )
    assert entry.recover(ledger.domain) == wallet.address and entry.content_hash_matches()


def test_external_signing_needs_its_file_and_one_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _workspace(tmp_path, capsys, monkeypatch)
    code, _, err = cli.run(*ADD, "--sign-with", "external")
    assert code == 2 and "--typed-data-out" in err
    code, _, err = cli.run(*ADD, "--sign-with", "wallet")
    assert code == 2 and "--sign-with" in err
    code, _, err = cli.run("anchor", "--sign-with", "external", "--typed-data-out", "x.json")
    assert code == 2 and "needs a key held here" in err
    typed = tmp_path / "named.typed.json"
    # A key of this workspace can be the issuer too: only its address is used.
    cli.ok(*ADD, "--sign-with", "external", "--typed-data-out", str(typed), "--key", "brand")
    [brand] = [k for k in cli.json("keys", "list") if k["name"] == "brand"]
    assert json.loads(typed.read_text())["message"]["issuer"] == brand["address"]


@pytest.mark.parametrize(
    ("where", "value", "reason"),
    [(("message", "refs"), 7, "refs"), (("domain", "chainId"), 2**256, "chain_id")],
)
def test_typed_data_a_wallet_could_not_have_signed_is_refused_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    where: tuple[str, str],
    value: int,
    reason: str,
) -> None:
    # Found by a fuzz of the typed-data file: refs as a number raised TypeError, and a chain
    # id beyond uint256 OverflowError, before the draft was looked up.
    cli = _workspace(tmp_path, capsys, monkeypatch)
    wallet = Account.create()
    typed = tmp_path / "facility.typed.json"
    cli.ok(*ADD, "--sign-with", "external", "--typed-data-out", str(typed), "--key", wallet.address)
    signature = _wallet_signs(typed, wallet)
    data = json.loads(typed.read_text())
    data[where[0]][where[1]] = value
    typed.write_text(json.dumps(data))
    code, _, err = cli.run("sign-complete", str(typed), "--signature", "0x" + signature.hex())
    assert code == 2 and len(err.strip().splitlines()) == 1 and reason in err, err
