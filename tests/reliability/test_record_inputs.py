"""Bad values given to the commands that sign entries, and to init: each is refused on one
line naming the option, field or setting, exit 2, with nothing written; a good value next to
it still passes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE
from harness import cheap_keys, footprint, run, succeeding

from labourledger.envelope import LAST_READABLE_SECOND, Domain, sign_entry
from labourledger.errors import InputError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MILL = "IN2024007SPNC3S"  # in examples/facilities.csv


@dataclass(frozen=True)
class World:
    """A brand's workspace with the example facilities, and keys for an auditor and a
    grievance channel; a valid audit template and a grievance to break."""

    workspace: Path
    audit: dict[str, Any]
    grievance: str
    report: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with cheap_keys():
        root = tmp_path_factory.mktemp("record-inputs")
        ws = root / "ws"
        ok = succeeding(ws)

        ok("init")
        for name in ("brand", "auditor", "channel"):
            ok("keys", "new", name)
        ok("keys", "fund", "brand")
        ok("roles", "grant", "BRAND", "brand", "--key", "admin")
        ok("roles", "grant", "AUDITOR", "auditor", "--key", "admin")
        ok("supplier", "import", str(REPO / "examples" / "facilities.csv"), "--key", "brand")
        template = root / "template.json"
        ok("audit", "new", MILL, "-o", str(template))
        audit = json.loads(template.read_text())
        audit["body"].update(
            start_date="2026-02-02", end_date="2026-02-04", valid_until="2027-02-04"
        )
        audit["body"]["findings"][0]["description"] = "Passports held in the office safe"
        report = root / "report.txt"
        report.write_bytes(b"Wages withheld for three months")
        recorded = json.loads(ok("--json", *_grievance(report)))
        yield World(ws, audit, recorded["entry_id"], report)


def _grievance(report: Path, *changes: str) -> list[str]:
    """`grievance record` of a good grievance, but for the options in `changes`."""
    options = {
        "--facility": MILL,
        "--received": "2026-01",
        "--channel": "hotline",
        "--category": "wages",
        "--severity": "major",
        "--workers": "2-5",
        "--report": str(report),
        "--key": "channel",
    }
    options.update(zip(changes[::2], changes[1::2], strict=True))
    return ["grievance", "record", *(part for pair in options.items() for part in pair)]


def _refused(world: World, args: list[str], *expect: str) -> str:
    """Run `args`, which must be refused on one line holding each of `expect`, leaving the
    workspace as it was."""
    before = footprint(world.workspace)
    code, _, err = run(world.workspace, args)
    assert code == 2, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[0]
    assert line.startswith("error:") and all(e in line for e in expect), err
    assert footprint(world.workspace) == before, "the workspace changed"
    return line


def _audit_file(world: World, folder: Path, **body: Any) -> Path:
    path = folder / "audit.json"
    path.write_text(json.dumps({**world.audit, "body": {**world.audit["body"], **body}}))
    return path


# --issued-at ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["99999999999999999999", "1" * 5000, "1969-12-31", "9999-12-31T23:59:59-05:00"]
)
def test_an_issued_at_no_entry_can_hold_is_refused(world: World, tmp_path: Path, when: str) -> None:
    audit = _audit_file(world, tmp_path)
    signed = tmp_path / "signed.json"
    sign = ["audit", "sign", str(audit), "--key", "auditor", "-o", str(signed)]
    _refused(world, [*sign, "--issued-at", when], "--issued-at")
    assert not signed.exists()
    _refused(world, _grievance(world.report, "--issued-at", when), "--issued-at")


def test_the_last_readable_second_is_the_last_signing_time(world: World, tmp_path: Path) -> None:
    audit, signed = _audit_file(world, tmp_path), tmp_path / "signed.json"
    sign = ["audit", "sign", str(audit), "--key", "auditor", "-o", str(signed)]
    _refused(world, [*sign, "--issued-at", "253402300800"], "--issued-at")
    code, _, err = run(world.workspace, [*sign, "--issued-at", "9999-12-31T23:59:59"])
    assert code == 0, err
    assert json.loads(signed.read_text())["entries"][0]["issued_at"] == 253_402_300_799


def test_the_library_refuses_a_signing_time_past_year_9999() -> None:
    domain = Domain(chain_id=1, verifying_contract="0x" + "11" * 20)
    with pytest.raises(InputError, match=r"^entry\.issued_at: .* 253402300799$"):
        sign_entry(domain=domain, kind="revocation", subject=bytes(32), body={},
                   issued_at=LAST_READABLE_SECOND + 1, private_key=b"\x01" * 32)  # fmt: skip


# numbers in JSON ------------------------------------------------------------------------


def _epcis(quantity: str) -> str:
    """A commissioning event of one lot at the mill, its quantity spelled `quantity`."""
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-05-01T00:00:00Z",
        "action": "ADD",
        "bizStep": "commissioning",
        "bizLocation": {"id": f"https://opensupplyhub.org/facilities/{MILL}"},
        "quantityList": [
            {"epcClass": "https://id.gs1.org/01/04006381333931/10/Q-1", "quantity": "QTY"}
        ],
    }
    document = {"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {}}
    document["epcisBody"] = {"eventList": [event]}
    return json.dumps(document).replace('"QTY"', quantity)


@pytest.mark.parametrize("quantity", ["Infinity", "-Infinity", "NaN", "1e400", "true"])
def test_an_epcis_quantity_that_is_no_count_is_refused(
    world: World, tmp_path: Path, quantity: str
) -> None:
    document = tmp_path / "events.json"
    document.write_text(_epcis(quantity))
    _refused(world, ["import-epcis", str(document), "--key", "brand"], "quantity")


@pytest.mark.parametrize("quantity", ["1e30", "-4", "0", "2.5"])
def test_an_epcis_count_no_batch_can_hold_skips_its_event(
    world: World, tmp_path: Path, quantity: str
) -> None:
    # A number, but not a batch's: the event is skipped naming its lot, as any unmapped one.
    document = tmp_path / "events.json"
    document.write_text(_epcis(quantity))
    before = footprint(world.workspace)
    code, out, err = run(
        world.workspace, ["--json", "import-epcis", str(document), "--key", "brand"]
    )
    assert code == 0, err
    [skipped] = json.loads(out)["skipped"]
    assert skipped["reason"].startswith("https://id.gs1.org/01/04006381333931/10/Q-1: quantity")
    assert footprint(world.workspace) == before


def test_a_boolean_count_in_an_audit_is_refused(world: World, tmp_path: Path) -> None:
    audit, signed = _audit_file(world, tmp_path, workers_interviewed=True), tmp_path / "s.json"
    sign = ["audit", "sign", str(audit), "--key", "auditor", "-o", str(signed)]
    line = _refused(world, sign)
    assert "body.workers_interviewed: Input should be a valid integer" in line
    assert not signed.exists()
    _audit_file(world, tmp_path, workers_interviewed=12)
    code, _, err = run(world.workspace, sign)
    assert code == 0, err


# init --confirmations --------------------------------------------------------------------


@pytest.mark.parametrize("confirmations", ["99999999999999999999", "1001", "-1"])
def test_init_refuses_confirmations_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, confirmations: str
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    code, _, err = run(tmp_path / "ws", ["init", "--confirmations", confirmations])
    assert code == 2 and "Traceback" not in err
    assert err.strip().startswith(
        "error: --confirmations: expected a whole number from 0 to 1000"
    ), err
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("setting", ["99999999999999999999", "-3", "true", '"12"'])
def test_a_hand_edited_confirmations_is_refused(world: World, tmp_path: Path, setting: str) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(world.workspace, copy)
    config = copy / "config.toml"
    text = config.read_text()
    config.write_text(re.sub(r"(?m)^confirmations = .*$", f"confirmations = {setting}", text))
    code, _, err = run(copy, ["sync"])
    assert code == 2 and "Traceback" not in err
    assert err.strip().startswith(f"error: {config} [chain] confirmations: expected a whole"), err


# audit new -------------------------------------------------------------------------------


def test_audit_new_keeps_an_existing_template_unless_forced(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled = tmp_path / "filled.json"
    filled.write_text('{"filled": "in"}')
    line = _refused(world, ["audit", "new", MILL, "-o", str(filled)], "--force", str(filled))
    assert "choose another path" in line
    assert filled.read_text() == '{"filled": "in"}'
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audit.json").write_text("{}")
    _refused(world, ["audit", "new", MILL], "--output: audit.json", "--force")
    assert (tmp_path / "audit.json").read_text() == "{}"
    code, _, err = run(world.workspace, ["audit", "new", MILL, "-o", str(filled), "--force"])
    assert code == 0, err
    assert json.loads(filled.read_text())["kind"] == "audit"


# grievance months and categories ---------------------------------------------------------


@pytest.mark.parametrize("month", ["0000-01", "1899-12"])
def test_a_month_before_1900_is_refused(world: World, month: str) -> None:
    _refused(world, _grievance(world.report, "--received", month), "--received:", "before 1900")
    _refused(world, [*_update(world), "--month", month], "--month:", "before 1900")


def test_an_update_month_after_its_signing_is_refused(world: World) -> None:
    update = _update(world)
    _refused(world, [*update, "--month", "2099-01"], "--month: 2099-01 is after the month")
    february = [*update, "--issued-at", "2026-02-28"]
    _refused(world, [*february, "--month", "2026-03"], "--month: 2026-03 is after the month")
    code, _, err = run(world.workspace, [*february, "--month", "2026-02"])
    assert code == 0, err


def _update(world: World) -> list[str]:
    return ["grievance", "update", world.grievance, "--status", "under_investigation",
            "--key", "channel"]  # fmt: skip


def test_an_unknown_category_is_named_with_the_choices(world: World) -> None:
    line = _refused(world, _grievance(world.report, "--category", "nope"))
    assert line.startswith("error: body.categories[0]: 'nope' is not one of: "), line
    # Both vocabularies a category may come from, and nothing of pydantic's internals.
    assert "'deception'" in line and "'child_labour'" in line
    assert "function-after" not in line and "str-enum" not in line and "(and" not in line
