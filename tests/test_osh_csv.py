"""Open Supply Hub out: `supplier list --format osh-csv` re-imports to the same facilities."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from clihelp import Cli, brand_with_facilities

from labourledger.facility_csv import OSH_UPLOAD_COLUMNS
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

OPERATOR = "0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db"


def _facilities(workspace: Path) -> dict[str, dict[str, Any]]:
    ledger = Ledger.open(workspace)
    rows = ledger.facilities()
    bodies = ledger.entries([r.entry_id for r in rows])
    return {r.facility_id: bodies[r.entry_id].body for r in rows}


def test_osh_csv_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    brand_with_facilities(cli)
    cli.ok("supplier", "add", "--name", "Rajkot Ginning", "--country", "IN", "--address",
           "GIDC, Rajkot", "--type", "Raw Material Processing or Production", "--tier", "4",
           "--gln", "4012345000009", "--lei", "5493001KJTIIGC8Y1R12", "--processing", "Ginning",
           "--processing", "Baling", "--workers", "120", "--operator", OPERATOR)  # fmt: skip
    exported = tmp_path / "facilities.csv"
    data = cli.json("supplier", "list", "--format", "osh-csv", "-o", str(exported))
    original = _facilities(tmp_path / "ws")
    assert data["facilities"] == len(original) >= 5
    with exported.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or [])[: len(OSH_UPLOAD_COLUMNS)] == OSH_UPLOAD_COLUMNS
        rows = {r["name"]: r for r in reader}
    ginnery = rows["Rajkot Ginning"]
    assert ginnery["facility_type_processing_type"] == (
        "Raw Material Processing or Production|Ginning|Baling"
    )
    assert (ginnery["country"], ginnery["number_of_workers"]) == ("IN", "120")
    assert rows["Tiruppur Cotton Mills"]["number_of_workers"] == "1001-5000"

    fresh = Cli(tmp_path / "fresh", capsys, monkeypatch)
    fresh.ok("init")
    fresh.ok("keys", "new", "brand")
    assert fresh.json("supplier", "import", str(exported))["imported"] == len(original)
    # Bodies equal field for field; a facility with an OS id keeps its id in any workspace
    # (one without is identified by its registering brand's key, here a new one).
    again = _facilities(tmp_path / "fresh")
    assert sorted(map(repr, again.values())) == sorted(map(repr, original.values()))
    with_os_id = {i for i, body in original.items() if "os_id" in body}
    assert len(with_os_id) == len(original) - 1 and with_os_id < set(again)

    only = tmp_path / "upload.csv"
    cli.ok("supplier", "list", "--format", "osh-csv", "-o", str(only), "--osh-only")
    with only.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(OSH_UPLOAD_COLUMNS)
    code, _, err = cli.run("supplier", "list", "--format", "osh-csv")
    assert code == 2 and "-o" in err
    code, _, err = cli.run("supplier", "list", "--format", "xlsx")
    assert code == 2 and "--format" in err
