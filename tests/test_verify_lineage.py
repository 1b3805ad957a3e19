"""Verify names a transformation its batches' own signed records contradict: signed past the
recording check (by another tool, or by hand), it would tell a wrong story of where the
material came from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from clihelp import PASSPHRASE
from eth_account import Account

from labourledger.envelope import to_hex
from labourledger.ledger import Ledger
from labourledger.provenance import record_batch, record_product

pytestmark = pytest.mark.integration


def test_verify_names_a_transformation_its_batches_contradict(tmp_path: Path) -> None:
    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    brand = Account.create()
    ledger.grant_role(admin, "BRAND", brand.address)
    site = {"country": "IN", "address": "Road 1"}
    mill = to_hex(ledger.register_facility(brand, name="Mill", tier=3, **site).subject)
    farm = to_hex(ledger.register_facility(brand, name="Farm", tier=4, **site).subject)
    record_product(ledger, brand, name="Yarn", brand="Acme", sku="YARN-L")

    def lot(name: str, day: int, facility: str) -> str:
        made = dt.date(2026, 4, day)
        entry = record_batch(ledger, brand, product="YARN-L", lot=name, quantity=5,
                             produced_at=made, facility=facility)  # fmt: skip
        return to_hex(entry.subject)

    cotton, yarn, tidy = lot("COT-L", 10, farm), lot("YRN-L", 5, mill), lot("YRN-M", 12, mill)
    sound = lot("YRN-N", 20, mill)
    # Signed as `transform` would refuse to: at the farm, after the yarn, before the cotton.
    for output, day, facility in (
        (yarn, "2026-04-08", farm),
        (tidy, "2026-04-09", mill),
        (sound, "2026-04-15", mill),
    ):
        body = {"inputs": [cotton], "output": output, "facility": facility, "date": day}
        ledger.record("transformation", body | {"documents": []}, brand)
    ledger.anchor(admin)

    [check] = [c for c in ledger.verify("YRN-L")["checks"] if c["check"] == "lineage_in_order"]
    assert check["outcome"] == "attention"
    assert f"it happened at {farm}, but lot YRN-L was produced at {mill}" in check["reason"]
    assert "dated 2026-04-08, after lot YRN-L was produced (2026-04-05)" in check["reason"]
    assert "before its input lot COT-L was produced (2026-04-10)" in check["reason"]
    # In step with its batches except the cotton's date: only that is named.
    [check] = [c for c in ledger.verify("YRN-M")["checks"] if c["check"] == "lineage_in_order"]
    assert check["reason"].endswith("before its input lot COT-L was produced (2026-04-10)")
    sound_report = ledger.verify("YRN-N")
    assert "lineage_in_order" not in {c["check"] for c in sound_report["checks"]}
    assert sound_report["passed"]["lineage_in_order"] == 1
