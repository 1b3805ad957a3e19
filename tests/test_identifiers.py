"""Facility identifiers: Open Supply Hub ids, countries, GLNs and LEIs."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from labourledger.errors import InputError
from labourledger.identifiers import (
    CROCKFORD,
    facility_id_from_os_id,
    make_os_id,
    validate_country,
    validate_gln,
    validate_lei,
    validate_os_id,
)


def test_open_supply_hub_example_and_normalisation() -> None:
    assert validate_os_id("CN2019303BQ3FZP") == "CN2019303BQ3FZP"
    assert validate_os_id("cn-2019303 bq3fzp") == "CN2019303BQ3FZP"
    assert make_os_id("CN", "2019303", "BQ3FZ") == "CN2019303BQ3FZP"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("CN2019303BQ3FZQ", "check character"),
        ("CN2019303BQ3FZ", "15 characters"),
        ("XX2019303BQ3FZP", "country"),
        ("CN20193O3BQ3FZP", "7 digits"),
        ("CN2019303BQ3UZP", "'U' as character 13, which Crockford base32 does not use"),
        ("CN2019303BQ3FIP", "'I' as character 14, which Crockford base32 does not use"),
    ],
)
def test_bad_os_ids_say_why(value: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as bad:
        validate_os_id(value)
    assert str(bad.value).startswith("os_id:")


def test_every_wrong_check_character_is_caught() -> None:
    wrong = [c for c in CROCKFORD if c != "P"]
    for c in wrong:
        with pytest.raises(InputError):
            validate_os_id("CN2019303BQ3FZ" + c)


def test_facility_id_is_shared_by_normalised_os_id() -> None:
    assert facility_id_from_os_id("cn2019303bq3fzp") == keccak(b"os:CN2019303BQ3FZP")


def test_country_gln_and_lei() -> None:
    assert validate_country(" bd ") == "BD"
    with pytest.raises(InputError, match="country"):
        validate_country("XK1")
    assert validate_gln("4006381333931") == "4006381333931"
    with pytest.raises(InputError, match="gln"):
        validate_gln("4006381333932")
    with pytest.raises(InputError, match="13 digits"):
        validate_gln("96385074")  # a valid EAN-8, not a GLN
    assert validate_lei("5493001KJTIIGC8Y1R12") == "5493001KJTIIGC8Y1R12"
    with pytest.raises(InputError, match="lei"):
        validate_lei("5493001KJTIIGC8Y1R13")


def test_non_ascii_digits_are_an_input_error_not_a_crash() -> None:
    with pytest.raises(InputError, match="7 digits"):
        validate_os_id("CN\u00b2019303BQ3FZP")  # superscript two passes str.isdigit()


def test_make_os_id_normalises_its_parts_and_rejects_bad_ones() -> None:
    made = make_os_id("bd", "2024001", "xyz12")
    assert made.startswith("BD2024001XYZ12") and validate_os_id(made) == made
    with pytest.raises(InputError, match="os_id"):
        make_os_id("BD", "2024001", "XYZ1")
    with pytest.raises(InputError, match="os_id"):
        make_os_id("BD", "2024001", "XYZU1")  # U is not Crockford base32
