"""The signed entry interoperates with eth_account and rejects any alteration."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from pydantic import ValidationError

from labourledger.envelope import (
    Domain,
    Entry,
    SignedEntry,
    canonical_json,
    content_hash,
    recover_signer,
    sign_entry,
)
from labourledger.errors import InvalidSignature

DOMAIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
BODY = {"name": "Spinning Mill 3", "country": "IN", "tier": 3, "note": "é ✓", "n": 1.5}
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def account():  # type: ignore[no-untyped-def]
    return Account.from_key(keccak(b"labourledger test key"))


def _signed(account) -> SignedEntry:  # type: ignore[no-untyped-def]
    return sign_entry(
        private_key=account.key,
        domain=DOMAIN,
        kind="facility",
        subject=keccak(b"os:IN2019303BQ3FZP"),
        refs=[keccak(b"a"), keccak(b"b")],
        body=BODY,
        issued_at=1_760_000_000,
    )


def test_jcs_is_rfc8785() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_entry_signed_by_eth_account_verifies_here(account) -> None:  # type: ignore[no-untyped-def]
    salt = bytes(range(32))
    header = Entry(
        issuer=account.address,
        kind="audit",
        schema_version=1,
        subject=keccak(b"facility"),
        refs=(),
        issued_at=1_700_000_000,
        content_hash=content_hash(BODY, salt),
    )
    signed = Account.sign_typed_data(account.key, full_message=header.typed_data(DOMAIN))
    # eth_account's digest is the entry id.
    assert signed.message_hash == header.compute_id(DOMAIN)
    assert recover_signer(header.compute_id(DOMAIN), signed.signature) == account.address


def test_entry_signed_here_verifies_in_eth_account(account) -> None:  # type: ignore[no-untyped-def]
    entry = _signed(account)
    message = encode_typed_data(full_message=entry.header.typed_data(DOMAIN))
    assert Account.recover_message(message, signature=entry.signature) == account.address
    assert entry.recover(DOMAIN) == account.address
    assert entry.content_hash_matches()


def _flip_hex(value: str, nibble: int) -> str:
    digits = list(value[2:])
    digits[nibble] = "1" if digits[nibble] == "0" else "0"
    return "0x" + "".join(digits)


@pytest.mark.parametrize(
    "field",
    [
        "subject",
        "content_hash",
        "refs",
        "issued_at",
        "kind",
        "schema_version",
        "issuer",
        "body",
        "salt",
    ],
)
def test_any_changed_field_fails_verification(account, field: str) -> None:  # type: ignore[no-untyped-def]
    entry = _signed(account)
    data = entry.model_dump(mode="json")
    if field in ("subject", "content_hash", "salt"):
        data[field] = _flip_hex(data[field], 63)
    elif field == "refs":
        data["refs"] = [data["refs"][0], _flip_hex(data["refs"][1], 0)]
    elif field == "issued_at":
        data["issued_at"] ^= 1
    elif field == "kind":
        data["kind"] = "audit"
    elif field == "schema_version":
        data["schema_version"] = 2
    elif field == "issuer":
        data["issuer"] = Account.create().address
    else:
        data["body"] = {**BODY, "tier": 4}
    altered = SignedEntry.model_validate(data)
    # The signature covers the header; the content hash covers body and salt.
    ok = altered.content_hash_matches() and altered.recover(DOMAIN) == altered.issuer
    assert not ok


def test_other_domain_does_not_verify(account) -> None:  # type: ignore[no-untyped-def]
    entry = _signed(account)
    other = Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    assert entry.recover(other) != account.address


def test_malformed_signatures_are_rejected(account) -> None:  # type: ignore[no-untyped-def]
    entry = _signed(account)
    digest = entry.entry_id
    sig = entry.signature
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    high_s = r + (_N - s).to_bytes(32, "big") + bytes([55 - v])
    # The high-s twin is a valid ECDSA signature for the same key; it must still be refused.
    with pytest.raises(InvalidSignature, match="lower half"):
        recover_signer(digest, high_s)
    with pytest.raises(InvalidSignature, match="65 bytes"):
        recover_signer(digest, sig[:64])
    with pytest.raises(InvalidSignature, match="v must be"):
        recover_signer(digest, sig[:64] + bytes([v - 27]))
    with pytest.raises(InvalidSignature, match="r is out of range"):
        recover_signer(digest, bytes(32) + sig[32:])


def test_json_form_uses_design_field_names(account) -> None:  # type: ignore[no-untyped-def]
    data = _signed(account).to_json_dict()
    assert set(data) == {
        "entry_id",
        "issuer",
        "kind",
        "schema_version",
        "subject",
        "refs",
        "issued_at",
        "issued_at_iso",
        "body",
        "salt",
        "content_hash",
        "signature",
    }
    assert data["entry_id"].startswith("0x") and len(data["signature"]) == 132
    assert data["issued_at_iso"].startswith("2025-10-09T")


def test_a_signing_time_past_year_9999_is_refused(account) -> None:  # type: ignore[no-untyped-def]
    data = _signed(account).to_json_dict()
    data.pop("issued_at_iso")
    data["issued_at"] = 253_402_300_800  # 10000-01-01T00:00:00Z: no datetime can show it
    with pytest.raises(ValidationError, match="issued_at"):
        SignedEntry.model_validate(data)
    data["issued_at"] = 253_402_300_799
    assert SignedEntry.model_validate(data).issued_at_iso.startswith("9999-12-31T23:59:59")


def test_a_loaded_signing_key_signs_as_its_bytes_and_never_shows_them(account) -> None:  # type: ignore[no-untyped-def]
    from labourledger.envelope import SigningKey

    key = SigningKey.load(account.key)
    assert key.address == account.address
    assert account.key.hex() not in repr(key) and account.key.hex() not in str(key)
    salt = bytes(range(32))
    common = {"domain": DOMAIN, "kind": "facility", "subject": keccak(b"s"), "body": BODY,
              "issued_at": 1_760_000_000, "salt": salt}  # fmt: skip
    by_key = sign_entry(private_key=key, **common)  # type: ignore[arg-type]
    by_bytes = sign_entry(private_key=account.key, **common)  # type: ignore[arg-type]
    assert by_key == by_bytes and by_key.recover(DOMAIN) == account.address
    assert SignedEntry.model_validate(by_key.to_json_dict()) == by_key
