"""secp256k1 signatures over 32-byte digests, through libsecp256k1: signing with a key
loaded once, and recovering (strictly: low-s, v of 27 or 28) the address that signed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import coincurve

from labourledger.errors import InvalidSignature
from labourledger.hashing import checksum_address, keccak256

__all__ = ["SigningKey", "normalise_signature", "recover_address", "recover_signer", "sign_digest"]

# secp256k1 group order; signatures with s above half of it are malleable twins.
_SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N: Final = _SECP256K1_N // 2


@dataclass(frozen=True)
class SigningKey:
    """A private key loaded once for signing many entries: libsecp256k1's key and the
    address it derives (deriving both per entry was a quarter of `record`'s time)."""

    key: coincurve.PrivateKey = field(repr=False)
    address: str

    @classmethod
    def load(cls, private_key: bytes) -> SigningKey:
        """The key for the 32 bytes `private_key`."""
        key = coincurve.PrivateKey(private_key)
        public = key.public_key.format(compressed=False)[1:]
        return cls(key, checksum_address(keccak256(public)[-20:]))


def sign_digest(digest: bytes, private_key: bytes | SigningKey) -> bytes:
    """65-byte r ‖ s ‖ v signature (v in {27, 28}, low-s) over a 32-byte digest."""
    key = (
        private_key.key
        if isinstance(private_key, SigningKey)
        else coincurve.PrivateKey(private_key)
    )
    sig = key.sign_recoverable(digest, hasher=None)
    # libsecp256k1 always produces low-s signatures.
    return bytes(sig[:64]) + bytes([sig[64] + 27])


def recover_address(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address whose key made `signature` over `digest`.

    Rejects wrong lengths, v outside {27, 28}, zero or out-of-range r and s,
    and high-s signatures (their low-s twin is the only accepted form).
    """
    if len(signature) != 65:
        raise InvalidSignature(f"signature: expected 65 bytes, got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise InvalidSignature(f"signature: v must be 27 or 28, got {v}")
    if not 0 < r < _SECP256K1_N:
        raise InvalidSignature("signature: r is out of range")
    if not 0 < s <= _HALF_N:
        raise InvalidSignature("signature: s is not in the lower half of the curve order")
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception:
        raise InvalidSignature("signature: no public key recovers from it") from None
    return keccak256(public.format(compressed=False)[1:])[-20:]


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksum address whose key made `signature` over `digest` (see `recover_address`)."""
    return checksum_address(recover_address(digest, signature))


def normalise_signature(signature: bytes) -> bytes:
    """A 65-byte signature with v as 27/28; some wallets return the recovery id 0/1."""
    if len(signature) == 65 and signature[64] in (0, 1):
        return signature[:64] + bytes([signature[64] + 27])
    return bytes(signature)
