"""EPCIS 2.0 out and in: export a lineage, validate it against GS1's schema, import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clihelp import Cli, brand_with_facilities
from epcis_event_hash_generator import hash_generator, json_to_py

from labourledger.epcis import event_hash, parse_lot_uri
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

VECTORS = Path(__file__).parent / "vectors" / "epcis"
KNITTER, SPINNER = "IN2024002CTNM1H", "IN2024007SPNC3S"  # in examples/facilities.csv
GLN = "4012345000009"
EXTENSIONS = ("eventID", "labourledger:entryId")


def _schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads((VECTORS / "EPCIS-JSON-Schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]


def _brand_workspace(cli: Cli) -> None:
    brand_with_facilities(cli)
    cli.ok("supplier", "add", "--name", "Ginnery", "--country", "IN", "--address", "Rajkot",
           "--tier", "4", "--gln", GLN)  # fmt: skip


def _lineage(cli: Cli, tmp_path: Path) -> None:
    cli.ok("product", "add", "--gtin", "4006381333931", "--name", "Organic tee", "--brand", "Acme")
    cli.ok("product", "add", "--sku", "YARN/30S", "--name", "30s yarn", "--brand", "Acme")
    cli.ok("product", "add", "--sku", "COTTON", "--name", "Raw cotton", "--brand", "Acme")
    for product, lot, quantity, unit, day, facility in [
        ("COTTON", "C 1", "2000", "kg", "2026-03-01", GLN),
        ("YARN/30S", "Y-1", "900", "kg", "2026-04-01", SPINNER),
        ("4006381333931", "T-7", "1200", "pcs", "2026-04-10", KNITTER),
    ]:
        facility_ref = facility if facility != GLN else _gln_facility(cli)
        cli.ok("batch", "add", "--product", product, "--lot", lot, "--quantity", quantity,
               "--unit", unit, "--produced-at", day, "--facility", facility_ref)  # fmt: skip
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF invoice INV-9")
    cli.ok("transform", "--input", "C 1", "--output", "Y-1", "--facility", SPINNER,
           "--date", "2026-04-01")  # fmt: skip
    cli.ok("transform", "--input", "Y-1", "--output", "T-7", "--facility", KNITTER,
           "--date", "2026-04-10", "--document", f"invoice:INV-9={invoice}")  # fmt: skip


def _gln_facility(cli: Cli) -> str:
    [ginnery] = [f for f in cli.json("supplier", "list") if f["name"] == "Ginnery"]
    return str(ginnery["facility_id"])


def _exported_and_fresh(tmp_path: Path, capsys: Any, monkeypatch: Any) -> tuple[Path, Cli]:
    """The lineage exported from a brand's workspace, and a fresh workspace with a brand key."""
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    _brand_workspace(cli)
    _lineage(cli, tmp_path)
    lineage = tmp_path / "lineage.jsonld"
    cli.ok("export", "T-7", "--format", "epcis", "-o", str(lineage))
    fresh = Cli(tmp_path / "fresh", capsys, monkeypatch)
    fresh.ok("init")
    fresh.ok("keys", "new", "brand")
    return lineage, fresh


def _without_ids(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in e.items() if k not in EXTENSIONS}
        for e in document["epcisBody"]["eventList"]
    ]


def test_export_validates_and_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    _brand_workspace(cli)
    _lineage(cli, tmp_path)
    lineage = tmp_path / "lineage.jsonld"
    assert cli.json("export", "T-7", "--format", "epcis", "-o", str(lineage))["events"] == 5
    document = json.loads(lineage.read_text())
    assert _schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    assert [e["type"] for e in events] == ["ObjectEvent"] * 3 + ["TransformationEvent"] * 2
    # Every eventID is what GS1's reference implementation computes for the document.
    expected = hash_generator.epcis_hashes_from_events(
        json_to_py.event_list_from_epcis_document_json(json.loads(lineage.read_text()))
    )
    assert [e["eventID"] for e in events] == expected
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in events)
    cotton, yarn, tee = events[:3]
    assert tee["quantityList"] == [
        {"epcClass": "https://id.gs1.org/01/04006381333931/10/T-7", "quantity": 1200, "uom": "H87"}
    ]
    assert yarn["quantityList"][0]["epcClass"] == "urn:labourledger:sku:YARN%2F30S:lot:Y-1"
    assert cotton["quantityList"][0] == {
        "epcClass": "urn:labourledger:sku:COTTON:lot:C%201",
        "quantity": 2000,
        "uom": "KGM",
    }
    assert cotton["bizLocation"] == {"id": f"https://id.gs1.org/414/{GLN}"}
    assert tee["bizLocation"] == {"id": f"https://opensupplyhub.org/facilities/{KNITTER}"}
    assert (tee["bizStep"], tee["action"]) == ("commissioning", "ADD")
    made = events[4]
    assert made["bizTransactionList"] == [
        {"type": "inv", "bizTransaction": "urn:labourledger:document:invoice:INV-9"}
    ]
    assert [q["epcClass"] for q in made["inputQuantityList"]] == [
        yarn["quantityList"][0]["epcClass"]
    ]
    # The extension names the signed entry a partner can look up.
    shown = cli.json("entry", "show", made["labourledger:entryId"])
    assert shown["kind"] == "transformation"

    # A partner with the same facilities registered gets the same events back.
    fresh2 = Cli(tmp_path / "fresh2", capsys, monkeypatch)
    _brand_workspace(fresh2)
    result = fresh2.json("import-epcis", str(lineage))
    assert result["skipped"] == []
    assert [r["kind"] for r in result["recorded"]] == [
        "product", "batch", "product", "batch", "product", "batch", "transformation",
        "transformation",
    ]  # fmt: skip
    again = tmp_path / "again.jsonld"
    fresh2.ok("export", "T-7", "--format", "epcis", "-o", str(again))
    reexported = json.loads(again.read_text())
    assert _without_ids(reexported) == _without_ids(document)
    assert _schema_errors(reexported) == []
    for event in reexported["epcisBody"]["eventList"]:
        assert event["eventID"] == event_hash({k: v for k, v in event.items() if k != "eventID"})
    # Importing the same document twice records nothing new.
    twice = fresh2.json("import-epcis", str(lineage))
    assert twice["recorded"] == [] and len(twice["skipped"]) == 5
    assert all("already recorded" in s["reason"] or "is recorded" in s["reason"]
               for s in twice["skipped"])  # fmt: skip


def test_import_in_fresh_workspace_skips_unknown_gln(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lineage, fresh = _exported_and_fresh(tmp_path, capsys, monkeypatch)
    result = fresh.json("import-epcis", str(lineage))
    reasons = {s["index"]: s["reason"] for s in result["skipped"]}
    assert "no facility with this GLN is registered here" in reasons[0]
    assert "lot C 1 here and no commissioning event" in reasons[3]
    # The yarn and tee lots and the yarn-to-tee transformation need nothing missing.
    assert [r["kind"] for r in result["recorded"]] == [
        "product",
        "batch",
        "product",
        "batch",
        "transformation",
    ]


def test_the_standards_examples_are_refused_with_a_reason_per_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    _brand_workspace(cli)
    for name in (
        "Example_9.6.4-TransformationEvent",
        "Example_9.6.4-TransformationEventWithDigitalLink",
    ):
        example = VECTORS / f"{name}.jsonld"
        assert _schema_errors(json.loads(example.read_text())) == []
        result = cli.json("import-epcis", str(example))
        assert result["recorded"] == []
        [skipped] = result["skipped"]
        assert skipped["type"] == "TransformationEvent"
        assert "serialised instances" in skipped["reason"]
    # Without its serialised lists the example's quantities are lots, but it has no bizLocation.
    document = json.loads((VECTORS / "Example_9.6.4-TransformationEvent.jsonld").read_text())
    [event] = document["epcisBody"]["eventList"]
    del event["inputEPCList"], event["outputEPCList"]
    event["outputQuantityList"] = [
        {"epcClass": "urn:epc:class:lgtin:4012345.077889.L1", "quantity": 4}
    ]
    changed = tmp_path / "changed.jsonld"
    changed.write_text(json.dumps(document))
    [skipped] = cli.json("import-epcis", str(changed))["skipped"]
    assert "no bizLocation" in skipped["reason"]
    event["bizLocation"] = {"id": f"https://id.gs1.org/414/{GLN}"}
    changed.write_text(json.dumps(document))
    [skipped] = cli.json("import-epcis", str(changed))["skipped"]
    assert (
        "urn:epc:class:lgtin:4012345.011111.4444: no batch of gtin:04012345111118 lot 4444"
        in skipped["reason"]
    )


def test_a_quantity_no_batch_can_hold_skips_its_event_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lineage, fresh = _exported_and_fresh(tmp_path, capsys, monkeypatch)
    document = json.loads(lineage.read_text())
    events = document["epcisBody"]["eventList"]
    # Commissioned where a fresh workspace needs no registration (not at a GLN).
    commissioned = [
        i
        for i, e in enumerate(events)
        if e["type"] == "ObjectEvent" and "/414/" not in e["bizLocation"]["id"]
    ]
    odd = dict(zip(commissioned, (-4, 1e40), strict=True))  # 2.5 was skipped already
    for index, quantity in odd.items():
        events[index]["quantityList"][0]["quantity"] = quantity
    changed = tmp_path / "odd.jsonld"
    changed.write_text(json.dumps(document))
    result = fresh.json("import-epcis", str(changed))
    reasons = {s["index"]: s["reason"] for s in result["skipped"]}
    assert set(odd) <= set(reasons) and all("quantity" in reasons[i] for i in odd), reasons
    assert all(reasons[i].startswith(events[i]["quantityList"][0]["epcClass"]) for i in odd)
    assert "body." not in " ".join(reasons.values())


def test_an_invalid_document_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lineage, fresh = _exported_and_fresh(tmp_path, capsys, monkeypatch)
    document = json.loads(lineage.read_text())
    document["epcisBody"]["eventList"][4]["eventTime"] = "not a time"
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(document))
    code, _, err = fresh.run("import-epcis", str(bad))
    assert code == 2 and "event 4.eventTime" in err and len(err.strip().splitlines()) == 1
    document["schemaVersion"] = "1.2"
    bad.write_text(json.dumps(document))
    code, _, err = fresh.run("import-epcis", str(bad))
    assert code == 2 and "schemaVersion" in err
    assert Ledger.open(tmp_path / "fresh").mirror.counts()["pending"] == 0


@pytest.mark.parametrize(
    ("uri", "gtin", "sku", "lot"),
    [
        ("https://id.gs1.org/01/04006381333931/10/A%2F1", "04006381333931", None, "A/1"),
        ("urn:epc:class:lgtin:4012345.011111.4444", "04012345111118", None, "4444"),
        ("urn:labourledger:sku:YARN%2F30S:lot:Y-1", None, "YARN/30S", "Y-1"),
    ],
)
def test_lot_uris(uri: str, gtin: str | None, sku: str | None, lot: str) -> None:
    ref = parse_lot_uri(uri)
    assert (ref.gtin, ref.sku, ref.lot) == (gtin, sku, lot)
