"""The fast hashing primitives give the reference implementations' exact bytes."""

from __future__ import annotations

import math
from typing import Any

import pytest
import rfc8785
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from labourledger.errors import InputError
from labourledger.hashing import canonical_json, checksum_address, keccak256

# Any text, keys outside the Basic Multilingual Plane and lone surrogates included.
_TEXT = st.text(st.characters(codec=None), max_size=12)
_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=700))
def test_keccak256_is_eth_hash_keccak(data: bytes) -> None:
    assert keccak256(data) == keccak(data)


def test_keccak256_is_ethereum_keccak_not_sha3() -> None:
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"").hex() == empty


@settings(max_examples=500)
@given(st.dictionaries(_TEXT, _JSON, max_size=6))
def test_canonical_json_is_rfc8785(body: dict[str, Any]) -> None:
    try:
        expected: bytes | None = rfc8785.dumps(body)
    except (rfc8785.CanonicalizationError, ValueError):
        expected = None
    if expected is None:
        with pytest.raises(InputError, match="cannot be canonicalised"):
            canonical_json(body)
    else:
        assert canonical_json(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"n": 1.0, "m": 1e21, "s": 1e-7}, b'{"m":1e+21,"n":1,"s":1e-7}'),
        ({"\U0001f600": 1, "\uffff": 2}, '{"\U0001f600":1,"\uffff":2}'.encode()),
        ({"a": "\x00\x1f\x7f\u2028"}, b'{"a":"\\u0000\\u001f\x7f\xe2\x80\xa8"}'),
        ({"big": 2**53 - 1, "t": (True, None)}, b'{"big":9007199254740991,"t":[true,null]}'),
    ],
)
def test_canonical_json_edge_cases(body: dict[str, Any], expected: bytes) -> None:
    # Floats in ECMAScript form, UTF-16 key order past the BMP, only controls escaped.
    assert canonical_json(body) == expected == rfc8785.dumps(body)


@pytest.mark.parametrize("bad", [{"x": 2**53}, {"x": math.nan}, {"x": "\ud800"}, {"x": {1: 2}}])
def test_canonical_json_refuses_what_rfc8785_refuses(bad: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="cannot be canonicalised"):
        canonical_json(bad)


@given(st.binary(min_size=20, max_size=20))
def test_checksum_address_is_eip55(address: bytes) -> None:
    assert checksum_address(address) == to_checksum_address(address)
