"""The signed entry: canonical JSON, salted content hash, EIP-712 id, signatures.

Everything here follows the envelope README's "How it works" states, to the byte, so an entry
signed by any EIP-712 wallet for the same domain and types verifies here, and
one signed here verifies in any Ethereum tool.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import to_jsonable_python

from labourledger.eip712 import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    EIP712_TYPES,
    ENTRY_TYPE,
    domain_separator,
    entry_struct_hash,
)
from labourledger.errors import InputError, InvalidSignature, LabourLedgerError, invalid_input
from labourledger.hashing import canonical_json, content_hash, keccak256, parse_address
from labourledger.signatures import (
    SigningKey,
    normalise_signature,
    recover_address,
    recover_signer,
    sign_digest,
)

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_TYPES",
    "ENTRY_TYPE",
    "Domain",
    "Entry",
    "ExternalSigner",
    "HashSigner",
    "Kind",
    "SignatureRequested",
    "SignedEntry",
    "SigningKey",
    "UnsignedEntry",
    "canonical_json",
    "content_hash",
    "iso_utc",
    "new_salt",
    "normalise_signature",
    "recover_address",
    "recover_signer",
    "sign_digest",
    "sign_entry",
    "to_hex",
]

Kind = Literal[
    "facility",
    "supply_link",
    "attestation",
    "audit",
    "finding_update",
    "product",
    "batch",
    "transformation",
    "revocation",
    "grievance",
    "grievance_update",
    "accreditation",
]


def _to_bytes(length: int) -> Callable[[Any], bytes]:
    def parse(value: Any) -> bytes:
        if isinstance(value, str):
            text = value[2:] if value[:2] in ("0x", "0X") else value
            try:
                value = bytes.fromhex(text)
            except ValueError:
                raise ValueError("not a hex string") from None
        if not isinstance(value, bytes | bytearray):
            raise ValueError("expected 0x-prefixed hex")
        if len(value) != length:
            raise ValueError(f"expected {length} bytes, got {len(value)}")
        return bytes(value)

    return parse


def to_hex(value: bytes) -> str:
    """`value` as 0x and lower-case hex digits, as ids and hashes are written."""
    return "0x" + value.hex()


def _hex_schema(length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": f"^0x[0-9a-f]{{{2 * length}}}$"})


_HEX = PlainSerializer(to_hex, return_type=str, when_used="json")
Bytes32 = Annotated[bytes, BeforeValidator(_to_bytes(32)), _HEX, _hex_schema(32)]
Signature = Annotated[bytes, BeforeValidator(_to_bytes(65)), _HEX, _hex_schema(65)]


def _checksum(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a 0x-prefixed address")
    return parse_address(value)


Address = Annotated[str, BeforeValidator(_checksum)]


def new_salt() -> bytes:
    """32 fresh random bytes from the OS's CSPRNG."""
    return secrets.token_bytes(32)


#: 9999-12-31T23:59:59Z, the last second `datetime` can show.
LAST_READABLE_SECOND = 253_402_300_799


class Domain(BaseModel):
    """The EIP-712 domain: one deployed LabourLedger contract on one chain."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    chain_id: int = Field(ge=1, lt=2**256)  # a uint256 in the domain separator
    verifying_contract: Address

    @property
    def separator(self) -> bytes:
        """hashStruct(EIP712Domain)."""
        return domain_separator(self.chain_id, self.verifying_contract)

    def as_eip712(self) -> dict[str, Any]:
        """The `domain` object of EIP-712 typed data."""
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


class Entry(BaseModel):
    """The seven signed fields of an entry (the EIP-712 `Entry` struct)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    issuer: Address
    kind: Kind
    schema_version: int = Field(ge=0, le=0xFFFF)
    subject: Bytes32
    refs: tuple[Bytes32, ...] = ()
    # uint64 on the wire, but a time past the end of year 9999 is no signing time anyone
    # can read (or date a report by): refused as bad input rather than crashing later.
    issued_at: int = Field(ge=0, le=LAST_READABLE_SECOND)
    content_hash: Bytes32

    def struct_hash(self) -> bytes:
        """hashStruct(Entry) per EIP-712."""
        return entry_struct_hash(
            self.issuer,
            self.kind,
            self.schema_version,
            self.subject,
            self.refs,
            self.issued_at,
            self.content_hash,
        )

    def compute_id(self, domain: Domain) -> bytes:
        """The EIP-712 digest keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(entry))."""
        return keccak256(b"\x19\x01" + domain.separator + self.struct_hash())

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The full EIP-712 typed-data object, for wallets and `eth_account`."""
        return {
            "types": EIP712_TYPES,
            "primaryType": "Entry",
            "domain": domain.as_eip712(),
            "message": {
                "issuer": self.issuer,
                "kind": self.kind,
                "schemaVersion": self.schema_version,
                "subject": self.subject,
                "refs": list(self.refs),
                "issuedAt": self.issued_at,
                "contentHash": self.content_hash,
            },
        }

    def typed_data_json(self, domain: Domain) -> dict[str, Any]:
        """`typed_data` as the JSON `eth_signTypedData_v4` takes: bytes as 0x hex."""
        data = self.typed_data(domain)
        message = data["message"]
        message["subject"] = to_hex(self.subject)
        message["refs"] = [to_hex(r) for r in self.refs]
        message["contentHash"] = to_hex(self.content_hash)
        return data

    @classmethod
    def from_typed_data(cls, data: Any) -> tuple[Entry, Domain]:
        """The entry and domain of LabourLedger EIP-712 typed data; InputError if it is other
        typed data or malformed."""
        if not isinstance(data, Mapping) or data.get("primaryType") != "Entry":
            raise InputError("typed data: primaryType: expected 'Entry'")
        if data.get("types") != EIP712_TYPES:
            raise InputError("typed data: types: not LabourLedger's EIP-712 Entry types")
        raw_domain, message = data.get("domain"), data.get("message")
        if not isinstance(raw_domain, Mapping) or not isinstance(message, Mapping):
            raise InputError("typed data: expected a domain and a message object")
        if (raw_domain.get("name"), raw_domain.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
            raise InputError(f"typed data: domain: expected {DOMAIN_NAME} version {DOMAIN_VERSION}")
        try:
            domain = Domain(
                chain_id=raw_domain.get("chainId"),
                verifying_contract=raw_domain.get("verifyingContract"),
            )
            entry = cls(
                issuer=message.get("issuer"),
                kind=message.get("kind"),
                schema_version=message.get("schemaVersion"),
                subject=message.get("subject"),
                refs=message.get("refs", ()),
                issued_at=message.get("issuedAt"),
                content_hash=message.get("contentHash"),
            )
        except ValidationError as exc:
            raise invalid_input(exc, "typed data") from None
        return entry, domain


# Entries are signed in batches, many in the same second: each second is formatted once
# (a quarter of judging an entry's integrity checks when done for each).
@functools.lru_cache(maxsize=1024)
def iso_utc(seconds: int) -> str:
    """Seconds since the epoch as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


class SignedEntry(Entry):
    """A stored entry: the signed fields plus its id, body, salt and signature.

    Everything but `body` and `salt` may be published.
    """

    entry_id: Bytes32
    body: dict[str, Any]
    salt: Bytes32
    signature: Signature

    @property
    def header(self) -> Entry:
        """Just the seven signed fields."""
        return Entry.model_validate(self.model_dump(include=set(Entry.model_fields)))

    @property
    def id_hex(self) -> str:
        """The entry id, 0x and lower-case hex."""
        return to_hex(self.entry_id)

    @property
    def issued_at_iso(self) -> str:
        """`issued_at` as an ISO 8601 UTC timestamp, for people."""
        return iso_utc(self.issued_at)

    def to_json_dict(self, *, with_iso: bool = True) -> dict[str, Any]:
        """The field names of an entry file (`labourledger.schemas`), hex with 0x, plus
        (`with_iso`) a readable `issued_at_iso`."""
        # Written out: pydantic's JSON dump calls back into Python for each hex field and
        # takes twice as long, and the mirror stores one of these per entry.
        data = {
            "issuer": self.issuer,
            "kind": self.kind,
            "schema_version": self.schema_version,
            "subject": to_hex(self.subject),
            "refs": [to_hex(ref) for ref in self.refs],
            "issued_at": self.issued_at,
            "content_hash": to_hex(self.content_hash),
            "entry_id": to_hex(self.entry_id),
            "body": to_jsonable_python(self.body),
            "salt": to_hex(self.salt),
            "signature": to_hex(self.signature),
        }
        if with_iso:
            data["issued_at_iso"] = self.issued_at_iso
        return data

    @classmethod
    def of_checked(cls, values: dict[str, Any]) -> SignedEntry:
        """The entry of field `values` already checked (by `sign_entry`, maybe in another
        process), built as unpickling builds one: 1 µs against `model_construct`'s 12 µs,
        about a tenth of signing an entry."""
        entry = cls.__new__(cls)
        entry.__setstate__(
            {
                "__dict__": values,
                "__pydantic_fields_set__": set(values),
                "__pydantic_extra__": None,
                "__pydantic_private__": None,
            }
        )
        return entry

    def __reduce__(self) -> tuple[Callable[[dict[str, Any]], SignedEntry], tuple[dict[str, Any]]]:
        # Pickled as its field values (forked workers send entries back): a third of the
        # model's own pickle, and rebuilt unchecked, as it was checked when it was made.
        return SignedEntry.of_checked, (self.__dict__,)

    def content_hash_matches(self) -> bool:
        """Whether `content_hash` is keccak256(salt ‖ JCS(body))."""
        try:
            return content_hash(self.body, self.salt) == self.content_hash
        except InputError:
            return False

    def recover(self, domain: Domain) -> str:
        """The address that signed this entry for `domain` (InvalidSignature if malformed)."""
        return recover_signer(self.compute_id(domain), self.signature)

    def id_matches(self, domain: Domain) -> bool:
        """Whether the stored `entry_id` is this header's EIP-712 digest for `domain`."""
        return self.compute_id(domain) == self.entry_id


class HashSigner(Protocol):
    """An Ethereum account that signs 32-byte digests: eth_account's `LocalAccount`, or
    any `BaseAccount`-like signer (a hardware wallet, a remote signer) that has `address`
    and `unsafe_sign_hash`."""

    @property
    def address(self) -> str:
        """The account's checksum address."""
        ...

    def unsafe_sign_hash(self, message_hash: Any) -> Any:
        """A signed message whose `signature` is r ‖ s ‖ v over `message_hash`."""
        ...


@dataclass(frozen=True)
class ExternalSigner:
    """An account whose key lives elsewhere (a browser or hardware wallet): signing with it
    stops at `SignatureRequested`, carrying the unsigned entry to hand to the wallet."""

    address: str

    def unsafe_sign_hash(self, message_hash: Any) -> Any:
        """Never signs: `sign_entry` raises SignatureRequested before it would be asked."""
        raise InputError(f"{self.address}: its key is in a wallet; hand it the typed data")


class UnsignedEntry(Entry):
    """An entry with its id, body and salt, waiting for its issuer's signature."""

    entry_id: Bytes32
    body: dict[str, Any]
    salt: Bytes32

    @property
    def header(self) -> Entry:
        """Just the seven signed fields."""
        return Entry.model_validate(self.model_dump(include=set(Entry.model_fields)))

    def complete(self, signature: bytes) -> SignedEntry:
        """The signed entry, once `signature` (v 0/1 or 27/28, low s) recovers to the
        issuer; InvalidSignature otherwise."""
        signature = normalise_signature(signature)
        signer = recover_signer(self.entry_id, signature)
        if signer != self.issuer:
            raise InvalidSignature(
                f"signature: made by {signer}, but the entry's issuer is {self.issuer}"
            )
        return SignedEntry(**dict(self), signature=signature)


class SignatureRequested(LabourLedgerError):
    """Signing stopped for an external signer: `draft` waits for a wallet's signature."""

    exit_code = 0

    def __init__(self, draft: UnsignedEntry, domain: Domain, signer: ExternalSigner) -> None:
        super().__init__(f"entry {to_hex(draft.entry_id)} waits for {draft.issuer}'s signature")
        self.draft = draft
        self.domain = domain
        self.signer = signer


def sign_entry(
    *,
    domain: Domain,
    kind: Kind,
    subject: bytes,
    body: Mapping[str, Any],
    issued_at: int,
    refs: Sequence[bytes] = (),
    schema_version: int = 1,
    salt: bytes | None = None,
    private_key: bytes | SigningKey | None = None,
    signer: HashSigner | None = None,
) -> SignedEntry:
    """Salt, hash and sign one body with `private_key` or `signer`, whose address is the
    issuer. An `ExternalSigner` raises SignatureRequested with the unsigned entry.

    `body` must already be the kind's canonical JSON form (see
    `labourledger.kinds.canonical_body`).
    """
    if (private_key is None) == (signer is None):
        raise InputError("sign_entry: give private_key or signer, not both or neither")
    if private_key is not None:
        if not isinstance(private_key, SigningKey):
            private_key = SigningKey.load(private_key)
        issuer = private_key.address
    else:
        assert signer is not None
        issuer = signer.address
    salt = new_salt() if salt is None else salt
    try:
        header = Entry(
            issuer=issuer,
            kind=kind,
            schema_version=schema_version,
            subject=subject,
            refs=tuple(refs),
            issued_at=issued_at,
            content_hash=content_hash(body, salt),
        )
    except ValidationError as exc:
        raise invalid_input(exc, "entry") from None
    entry_id = header.compute_id(domain)
    if private_key is not None:
        # The signed fields were validated in `header`; the rest are made here.
        signature = sign_digest(entry_id, private_key)
        values = {**header.__dict__, "entry_id": entry_id, "body": dict(body), "salt": salt}
        values["signature"] = signature
        return SignedEntry.of_checked(values)
    draft = UnsignedEntry(**dict(header), entry_id=entry_id, body=dict(body), salt=salt)
    if isinstance(signer, ExternalSigner):
        raise SignatureRequested(draft, domain, signer)
    assert signer is not None
    return draft.complete(bytes(signer.unsafe_sign_hash(entry_id).signature))
