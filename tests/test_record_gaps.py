"""Refusals that keep the record honest: a batch made by a second transformation, an operator
change that changes nothing, and a CSV header naming a column twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from clihelp import PASSPHRASE, Cli, brand_with_facilities
from eth_account import Account

from labourledger.envelope import HashSigner, to_hex
from labourledger.epcis import export_document
from labourledger.epcis_import import import_document
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.provenance import record_batch, record_product, record_transformation
from labourledger.suppliers import change_operators

pytestmark = pytest.mark.integration

MILL = {"name": "Gap Mill", "country": "IN", "address": "Avinashi Road", "tier": 3}
KNITTER, SPINNER = "IN2024002CTNM1H", "IN2024007SPNC3S"  # in examples/facilities.csv


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    return Ledger.init(tmp_path_factory.mktemp("gaps") / "ws", admin_passphrase=PASSPHRASE)


def test_a_batch_is_made_by_one_transformation_unless_that_one_is_revoked(ledger: Ledger) -> None:
    brand = Account.create()
    asked: list[str] = []

    def signer(role: str) -> HashSigner:
        asked.append(role)
        return brand

    facility = to_hex(ledger.register_facility(brand, **MILL).subject)
    record_product(ledger, brand, name="Yarn", brand="Acme", sku="YARN-GAP")
    made = dt.date(2026, 4, 1)
    for lot in ("A-GAP", "B-GAP", "OUT-GAP"):
        record_batch(ledger, brand, product="YARN-GAP", lot=lot, quantity=5, produced_at=made,
                     facility=facility)  # fmt: skip
    move = {"output": "OUT-GAP", "facility": facility, "date": made}
    first = record_transformation(ledger, brand, inputs=["A-GAP"], **move)
    document = export_document(ledger, "OUT-GAP")
    pending = ledger.mirror.counts()["pending"]
    with pytest.raises(InputError, match=r"^output: batch OUT-GAP is already made"):
        record_transformation(ledger, signer, inputs=["B-GAP"], **move)
    assert (asked, ledger.mirror.counts()["pending"]) == ([], pending)

    ledger.record("revocation", {"target": to_hex(first.entry_id), "reason": "wrong"}, brand)
    second = record_transformation(ledger, signer, inputs=["B-GAP"], **move)
    assert asked == ["BRAND"]
    # EPCIS import applies the same rule: once `second` is revoked too, the file's is recorded.
    ledger.record("revocation", {"target": to_hex(second.entry_id), "reason": "wrong"}, brand)
    imported = import_document(ledger, document, brand)
    assert [e.kind for e in imported.entries] == ["transformation"]
    assert imported.entries[0].body["inputs"] == first.body["inputs"]


def test_an_operator_change_that_changes_nothing_is_refused(ledger: Ledger) -> None:
    brand, one, two = (Account.create() for _ in range(3))
    registered = ledger.register_facility(brand, **MILL, operators=[one.address])
    facility = to_hex(registered.subject)
    pending = ledger.mirror.counts()["pending"]
    with pytest.raises(InputError, match=rf"^remove: {two.address} is not an operator"):
        change_operators(ledger, facility, brand, remove=[two.address])
    with pytest.raises(InputError, match=rf"^add: {one.address} is already an operator"):
        change_operators(ledger, facility, brand, add=[one.address.lower()], remove=[two.address])
    assert ledger.mirror.counts()["pending"] == pending
    changed = change_operators(ledger, facility, brand, add=[two.address], remove=[one.address])
    assert changed.body["operators"] == [two.address]


def test_the_cli_refuses_each_on_one_line_and_records_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    brand_with_facilities(cli)
    cli.ok("product", "add", "--sku", "YARN-30S", "--name", "30s yarn", "--brand", "Acme")
    for lot, day, facility in (
        ("Y-1", "01", SPINNER),
        ("Y-2", "01", SPINNER),
        ("F-1", "10", KNITTER),
    ):
        cli.ok("batch", "add", "--product", "YARN-30S", "--lot", lot, "--quantity", "9",
               "--produced-at", f"2026-04-{day}", "--facility", facility)  # fmt: skip
    transform = ("transform", "--output", "F-1", "--facility", KNITTER, "--date", "2026-04-10")
    cli.ok(*transform, "--input", "Y-1")
    csv = tmp_path / "f.csv"
    csv.write_text(
        "name,address,country_code,facility_type,name\n"
        "Mill,Road 1,IN,Final Product Assembly,Other Mill\n"
    )
    pending = cli.json("status")["pending"]
    for args, lead in [
        ((*transform, "--input", "Y-2"), "error: --output: batch F-1 is already made"),
        (("supplier", "operators", KNITTER, "--remove", "0x" + "33" * 20), "error: --remove: "),
        (("supplier", "import", str(csv)), f"error: {csv}: column 'name' appears more than once"),
    ]:
        code, _, err = cli.run(*args)
        said = err.strip()  # an import's progress display may leave a blank line first
        assert (code, said.startswith(lead), len(said.splitlines())) == (2, True, 1), err
    assert cli.json("status")["pending"] == pending
