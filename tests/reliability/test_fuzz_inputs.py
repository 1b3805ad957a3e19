"""Hypothesis fuzzing of the two inputs other parties hand a brand: signed entry files and
Open Supply Hub CSVs. Whatever the input, the outcome is all or nothing: everything stored
(only when the input is in fact valid), or one InputError and nothing stored; never
another exception. CSV rows are also stored in PostgreSQL, which refuses more than SQLite
(NUL bytes, over-long values) and must never be the one to refuse.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labourledger import keys
from labourledger.errors import InputError
from labourledger.facility_csv import read_facility_csv
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

PASS = "fuzzing passphrase"
COLUMNS = [
    "os_id", "name", "address", "country_code", "facility_type",
    "processing_type", "number_of_workers", "parent_company", "tier",
]  # fmt: skip
GOOD = {
    "os_id": "BD2024001KNTR4D", "name": "Dhaka Knitwear Ltd", "address": "Plot 7, Gazipur",
    "country_code": "BD", "facility_type": "Final Product Assembly",
    "processing_type": "Cut and sew", "number_of_workers": "2400",
    "parent_company": "Dhaka Knit Group", "tier": "1",
}  # fmt: skip
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
#: Text a person or a broken export could put in a cell: control characters, any script.
cell_text = st.text(st.characters(codec="utf-8"), max_size=40)


@dataclass
class Signed:
    """A brand's workspace, and a valid signed entry file of another party to mutate."""

    ledger: Ledger
    brand: LocalAccount
    file: dict[str, Any]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(keys, "SCRYPT_N", 2**10)
        root = tmp_path_factory.mktemp("fuzz")
        ledger = Ledger.init(root / "ws", admin_passphrase=PASS)
        store = ledger.workspace.keys
        admin = store.unlock("admin", PASS)
        brand = store.unlock(store.new("brand", PASS).name, PASS)
        auditor = store.unlock(store.new("auditor", PASS).name, PASS)
        for account in (brand, auditor):
            ledger.chain.fund(account.address, 10**19)
        ledger.grant_role(admin, "BRAND", brand.address)
        ledger.grant_role(admin, "AUDITOR", auditor.address)
        facility = ledger.record("facility", {**_body(GOOD)}, brand)
        certificate = ledger.sign(
            "attestation",
            {
                "facility": "0x" + facility.subject.hex(),
                "claim": "certificate",
                "standard": "SA8000",
                "certificate_number": "SA-1",
                "valid_from": "2026-01-01",
                "valid_until": "2027-12-31",
            },
            auditor,
        )
        path = ledger.write_entries(root / "signed.json", [certificate])
        yield Signed(ledger, brand, json.loads(path.read_text()))


def _body(row: dict[str, str]) -> dict[str, Any]:
    from labourledger.facility_csv import facility_body_from_row

    return facility_body_from_row(row)


def _entries(ledger: Ledger) -> int:
    counts = ledger.mirror.counts()
    return counts["pending"] + counts["anchored"]


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """The base file with one value replaced, removed or added, at any depth of the first
    entry (its fields and body) or at the top."""
    data = json.loads(json.dumps(base))
    entry = data["entries"][0]
    where = draw(st.sampled_from(["top", "entry", "body"]))
    target = {"top": data, "entry": entry, "body": entry["body"]}[where]
    key = draw(st.sampled_from([*target, "extra"]))
    how = draw(st.sampled_from(["replace", "remove", "add"]))
    if how == "remove":
        target.pop(key, None)
    elif how == "add":
        target[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    else:
        target[key] = draw(json_values)
    return data


@FUZZ
@given(data=st.data())
def test_entry_file_all_or_nothing(signed: Signed, tmp_path: Path, data: st.DataObject) -> None:
    content = data.draw(mutated(signed.file))
    path = tmp_path / "fuzzed.json"
    path.write_text(json.dumps(content))
    before = _entries(signed.ledger)
    try:
        result = signed.ledger.import_file(path)
    except InputError:
        assert _entries(signed.ledger) == before
        return
    # Accepted: only entries exactly as signed can have been stored (none, from an empty list).
    original = {e["entry_id"] for e in signed.file["entries"]}
    assert {"0x" + e.entry_id.hex() for e in result.entries} <= original


def _csv_bytes(rows: list[list[str]], header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def csv_rows(draw: st.DrawFn) -> list[list[str]]:
    """Rows of good values with any of them replaced by fuzzed text, and at times a value
    too many or too few."""
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        row = [draw(cell_text) if draw(st.booleans()) else GOOD[column] for column in COLUMNS]
        extra = draw(st.integers(-2, 2))
        rows.append(row + ["x"] * extra if extra > 0 else row[: len(row) + extra] or row)
    return rows


@FUZZ
@given(raw=st.binary(max_size=600))
def test_any_bytes_as_csv_refused_in_one_line_or_read(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzzed.csv"
    path.write_bytes(b"name,address,country_code,facility_type\n" + raw)
    try:
        rows = read_facility_csv(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert len(rows.bodies) == len(rows.lines)


def _import_all_or_nothing(ledger: Ledger, brand: LocalAccount, path: Path, count: int) -> None:
    before = _entries(ledger)
    try:
        result = ledger.import_facilities(path, brand)
    except InputError:
        assert _entries(ledger) == before
        return
    # Rows the brand's registrations (or an earlier row) say already are not signed again.
    assert len(result.entries) + len(result.unchanged) == count
    assert _entries(ledger) == before + len(result.entries)


@FUZZ
@given(rows=csv_rows())
def test_csv_rows_all_or_nothing(signed: Signed, tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "fuzzed.csv"
    path.write_bytes(_csv_bytes(rows, COLUMNS))
    _import_all_or_nothing(signed.ledger, signed.brand, path, len(rows))


@pytest.fixture(scope="module")
def on_postgres(
    signed: Signed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Ledger, LocalAccount]]:
    import os
    import time

    import psycopg
    from conftest import PG_URL

    schema = f"ll_fuzz_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(keys, "SCRYPT_N", 2**10)
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                root = tmp_path_factory.mktemp("fuzz-pg")
                ledger = Ledger.init(root / "ws", admin_passphrase=PASS, db=url)
                yield ledger, signed.brand
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@settings(FUZZ, max_examples=60)
@given(rows=csv_rows())
def test_csv_rows_all_or_nothing_on_postgresql(
    on_postgres: tuple[Ledger, LocalAccount], tmp_path: Path, rows: list[list[str]]
) -> None:
    ledger, brand = on_postgres
    path = tmp_path / "fuzzed.csv"
    path.write_bytes(_csv_bytes(rows, COLUMNS))
    _import_all_or_nothing(ledger, brand, path, len(rows))
