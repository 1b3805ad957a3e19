"""Published formats: `labourledger schema NAME` and the output it describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clihelp import Cli, brand_with_facilities

from labourledger.identifiers import facility_id_from_os_id

pytestmark = pytest.mark.integration

SPINNER, KNITTER = "IN2024007SPNC3S", "IN2024002CTNM1H"  # in examples/facilities.csv


def _validator(cli: Cli, name: str) -> jsonschema.Draft202012Validator:
    schema = cli.json("schema", name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:labourledger:schema:{name}:{schema['version']}"
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, data: Any) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]


def test_published_outputs_match_their_schemas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    brand_with_facilities(cli)
    cli.ok("product", "add", "--sku", "YARN", "--name", "Yarn", "--brand", "Acme")
    cli.ok("batch", "add", "--product", "YARN", "--lot", "Y-1", "--quantity", "900",
           "--unit", "kg", "--produced-at", "2026-04-01", "--facility", SPINNER)  # fmt: skip
    cli.ok("batch", "add", "--product", "YARN", "--lot", "F-1", "--quantity", "800",
           "--unit", "kg", "--produced-at", "2026-04-10", "--facility", KNITTER)  # fmt: skip
    cli.ok("transform", "--input", "Y-1", "--output", "F-1", "--facility", KNITTER,
           "--date", "2026-04-10")  # fmt: skip
    cli.ok("keys", "fund", "brand")
    cli.ok("anchor", "--key", "brand")
    bundle = tmp_path / "bundle.json"
    cli.ok("export", "F-1", "-o", str(bundle))
    exported = json.loads(bundle.read_text())
    assert all(e["proof"] and e["anchor"] for e in exported["entries"])
    assert _errors(_validator(cli, "bundle"), exported) == []
    exported["entries"][0]["anchor"]["root"] = "0x12"
    assert _errors(_validator(cli, "bundle"), exported)

    code, out, _ = cli.run("verify", "F-1", "--json")
    report = json.loads(out)
    assert code == 5 and report["verdict"] == "FAIL" and report["stages"] and report["checks"]
    verify_report = _validator(cli, "verify-report")
    assert _errors(verify_report, report) == []
    # Nothing here was revoked or failed an entry's check: every entry is counted, none listed.
    assert report["all_checks"] is False and report["entries"] == []
    assert sum(a["entries"] for a in report["anchors"]) == sum(report["entry_counts"].values())
    code, out, _ = cli.run("verify", "F-1", "--json", "--all-checks")
    full = json.loads(out)
    assert full["all_checks"] is True and _errors(verify_report, full) == []
    assert len(full["entries"]) == sum(full["entry_counts"].values())
    full["entries"][0]["salt"] = "0x" + "00" * 32  # a report never carries salts
    assert _errors(verify_report, full)

    trace = _validator(cli, "trace")
    graph = cli.json("trace", "F-1")
    assert graph["edges"] and graph["problems"]  # an edge and a gap, both covered
    assert _errors(trace, graph) == []
    broken = json.loads(json.dumps(graph))
    broken["edges"][0]["kind"] = "teleport"
    assert _errors(trace, broken)

    entry_file = _validator(cli, "entry-file")
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({
        "facility": "0x" + facility_id_from_os_id(KNITTER).hex(), "standard": "SA8000",
        "audit_type": "periodic", "notice": "unannounced", "start_date": "2026-03-01",
        "end_date": "2026-03-03", "workers_interviewed": 40,
    }))  # fmt: skip
    written = tmp_path / "audit.entry.json"
    cli.ok("audit", "sign", str(audit), "--key", "brand", "-o", str(written))
    data = json.loads(written.read_text())
    assert _errors(entry_file, data) == []
    data["entries"][0]["signature"] = "0x1234"
    assert _errors(entry_file, data)
    data["entries"][0].pop("signature")
    data["entries"][0]["note"] = "not a field"
    assert len(_errors(entry_file, data)) == 2


def test_schema_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    assert "findings" in cli.json("schema", "audit")["properties"]  # kinds' bodies still
    code, _, err = cli.run("schema", "invoice")
    assert code == 2 and "entry-file" in err and "audit" in err
