"""Issue 13: `grievance record | update | list` and `receipt check`, and what they never show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from clihelp import FAST_ENV, PASSPHRASE, Cli
from eth_account import Account

from labourledger import grievances
from labourledger.ledger import EntriesRefused, Ledger

pytestmark = pytest.mark.integration

KNIT_MILL = "VN0063025KNT03S"  # Saigon Knit Fabrics, in examples/demo/facilities.csv
REPORT = b"Supervisor deducts 400,000 VND from each payslip for 'dormitory'; caller Nguyen T."
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A channel's workspace on the embedded chain, with a channel key and a stranger's."""
    cli = Cli(tmp_path / "channel", capsys, monkeypatch)
    cli.ok("init")
    cli.ok("keys", "new", "channel")
    cli.ok("keys", "new", "stranger")
    (tmp_path / "report.txt").write_bytes(REPORT)
    return cli


def _record(cli: Cli, *extra: str, received: str = "2026-10") -> dict[str, str]:
    recorded: dict[str, str] = cli.json(
        "grievance",
        "record",
        "--facility",
        KNIT_MILL,
        "--received",
        received,
        "--channel",
        "hotline",
        "--category",
        "withholding_of_wages",
        "--category",
        "wages",
        "--severity",
        "major",
        "--workers",
        "2-5",
        "--report",
        str(cli.workspace.parent / "report.txt"),
        "--key",
        "channel",
        *extra,
    )
    return recorded


def _secrets(code: str) -> list[bytes]:
    """The receipt code as it could be written down, and the report's telling parts."""
    bare = code.replace("-", "")
    return [code.encode(), bare.encode(), bare.lower().encode(), REPORT, b"Nguyen", b"400,000"]


def _files_hold(root: Path, needles: list[bytes]) -> list[str]:
    return [
        f"{path}: {needle!r}"
        for path in root.rglob("*")
        if path.is_file()
        for needle in needles
        if needle in path.read_bytes()
    ]


def test_record_update_list_and_check_a_receipt(cli: Cli, tmp_path: Path) -> None:
    code, human, _ = cli.run(
        "grievance", "record", "--facility", KNIT_MILL, "--received", "2026-09",
        "--channel", "app", "--category", "harassment", "--severity", "minor",
        "--workers", "1", "--report", str(tmp_path / "report.txt"), "--key", "channel",
    )  # fmt: skip
    assert code == 0 and "stored nowhere" in human
    shown_once = CODE.search(human)
    assert shown_once is not None
    recorded = _record(cli, "-o", str(tmp_path / "grievance.json"))
    assert CODE.fullmatch(recorded["receipt"]) and recorded["receipt"] != shown_once[0]
    assert re.fullmatch(r"0x[0-9a-f]{64}", recorded["report_salt"])
    entry_file = json.loads((tmp_path / "grievance.json").read_text())
    assert entry_file["entries"][0]["kind"] == "grievance"

    counts = cli.json("grievance", "list")
    assert len(counts) == 1 and counts[0]["total"] == 2
    assert counts[0]["by_status"] == {"acknowledged": 2}
    assert counts[0]["by_category"] == {"withholding_of_wages": 1, "wages": 1, "harassment": 1}
    assert (counts[0]["received_from"], counts[0]["received_to"]) == ("2026-09", "2026-10")

    grievance = recorded["entry_id"]
    cli.ok("anchor", "--key", "admin")
    update = cli.json(
        "grievance", "update", grievance, "--status", "substantiated", "--month", "2026-11",
        "--evidence", str(tmp_path / "report.txt"), "--key", "channel",
    )  # fmt: skip
    assert update["grievance"] == grievance and len(update["evidence"]) == 1
    # Pending updates are shown, and change nothing until anchored.
    pending = cli.json("receipt", "check", recorded["receipt"])
    assert pending["status"] == "acknowledged"
    assert [h["state"] for h in pending["history"]] == ["anchored", "pending"]
    cli.ok("anchor", "--key", "admin")

    checked = cli.json("receipt", "check", recorded["receipt"].lower().replace("-", " "))
    assert set(checked) == {
        "received_month",
        "anchored",
        "block_number",
        "proof_verified",
        "channel_accredited",
        "status",
        "history",
    }
    assert checked["channel_accredited"] is False  # this workspace never granted its role
    assert checked["received_month"] == "2026-10" and checked["status"] == "substantiated"
    assert checked["anchored"] and checked["proof_verified"] and checked["block_number"] > 0
    assert [(h["status"], h["month"]) for h in checked["history"]] == [
        ("acknowledged", "2026-10"),
        ("substantiated", "2026-11"),
    ]
    text = cli.ok("receipt", "check", recorded["receipt"])
    assert "recorded in month 2026-10" in text and "proof checked against the chain" in text
    # Nothing else: not the facility, the grievance, its categories or the channel.
    for hidden in (grievance, KNIT_MILL, "withholding", "hotline", "major"):
        assert hidden not in text and hidden not in json.dumps(checked)

    exported = cli.json("grievance", "export", "-o", str(tmp_path / "share.json"))
    assert exported["entries"] == 3
    shared = json.loads((tmp_path / "share.json").read_text())["entries"]
    assert all(e["proof"] and e["anchor"]["block_number"] for e in shared)
    substantiated = cli.json("grievance", "list", "--status", "substantiated", "--each")
    assert [g["entry_id"] for g in substantiated] == [grievance]
    assert substantiated[0]["categories"] == ["withholding_of_wages", "wages"]
    by_facility = cli.json("grievance", "list", "--facility", KNIT_MILL)
    assert by_facility[0]["by_status"] == {"acknowledged": 1, "substantiated": 1}


def test_codes_and_reports_never_appear_after_record(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    recorded = _record(cli, "-o", str(tmp_path / "out" / "g.json"), received="2026-10")
    needles = _secrets(recorded["receipt"])
    cli.ok("anchor", "--key", "admin")
    cli.ok("grievance", "update", recorded["entry_id"], "--status", "under_investigation",
           "--key", "channel")  # fmt: skip
    cli.ok("anchor", "--key", "admin")
    outputs = [
        cli.ok(*args)
        for args in (
            ("grievance", "list"),
            ("grievance", "list", "--each"),
            ("grievance", "list", "--json"),
            ("grievance", "list", "--each", "--json"),
            ("entry", "show", recorded["entry_id"], "--json"),
            ("receipt", "check", recorded["receipt"]),
            ("receipt", "check", recorded["receipt"], "--json"),
            ("status", "--json"),
        )
    ]
    for output in outputs:
        assert not [n for n in needles if n.decode() in output]
    (tmp_path / "report.txt").unlink()  # the channel's own copy, outside the workspace
    assert _files_hold(cli.workspace, needles) == []
    assert _files_hold(tmp_path / "out", needles) == []


def test_a_key_without_the_channel_role_is_warned_and_told_its_own_name(cli: Cli) -> None:
    record = ("grievance", "record", "--facility", KNIT_MILL, "--received", "2026-10",
              "--channel", "hotline", "--category", "wages", "--severity", "major",
              "--workers", "2-5", "--report", str(cli.workspace.parent / "report.txt"))  # fmt: skip
    code, out, err = cli.run("--json", *record, "--key", "stranger")
    err = " ".join(err.split())
    assert code == 0 and "warning:" in err and "GRIEVANCE_CHANNEL" in err, err
    assert "roles grant GRIEVANCE_CHANNEL" in err and "anchor --key stranger" in err
    # Anchored all the same, its receipt tells the worker verify does not accept it.
    code = json.loads(out)["receipt"]
    assert cli.json("receipt", "check", code)["channel_accredited"] is None  # not anchored
    cli.ok("anchor", "--key", "admin")
    assert cli.json("receipt", "check", code)["channel_accredited"] is False
    assert "held no GRIEVANCE_CHANNEL role" in " ".join(cli.ok("receipt", "check", code).split())
    cli.ok("roles", "grant", "GRIEVANCE_CHANNEL", "channel", "--key", "admin")
    code, _, err = cli.run(*record, "--key", "channel")
    assert code == 0 and "warning" not in err and "anchor --key channel" in " ".join(err.split())


def test_bad_input_is_one_line_naming_the_field(cli: Cli, tmp_path: Path) -> None:
    def refused(*args: str) -> str:
        code, _, err = cli.run(*args)
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1, err
        return err

    base = ["grievance", "record", "--facility", KNIT_MILL, "--channel", "hotline",
            "--category", "wages", "--severity", "major", "--workers", "2-5",
            "--report", str(tmp_path / "report.txt"), "--key", "channel"]  # fmt: skip
    assert "error: --received: '2026-10-14'" in refused(*base, "--received", "2026-10-14")
    assert "error: --received: '2026-02-30'" in refused(*base, "--received", "2026-02-30")
    assert "error: facility NOPE: not an OS id" in refused(
        *[a if a != KNIT_MILL else "NOPE" for a in base], "--received", "2026-10"
    )
    assert "after the month" in refused(*base, "--received", "2999-01")
    assert "workers" in refused(*[a if a != "2-5" else "3" for a in base], "--received", "2026-10")
    assert "missing.txt" in refused(
        *[a if not a.endswith("report.txt") else str(tmp_path / "missing.txt") for a in base],
        "--received",
        "2026-10",
    )
    nowhere = str(tmp_path / "no" / "g.json")
    assert "cannot write" in refused(*base, "--received", "2026-10", "-o", nowhere)
    assert cli.json("status")["pending"] == 0  # nothing half-written

    recorded = _record(cli)
    grievance = recorded["entry_id"]
    assert "error: --month: " in refused(
        "grievance", "update", grievance, "--status", "remediated", "--month", "2026-13",
        "--key", "channel",
    )  # fmt: skip
    assert "before the grievance" in refused(
        "grievance", "update", grievance, "--status", "remediated", "--month", "2026-09",
        "--key", "channel",
    )  # fmt: skip
    assert "'--status'" in refused(
        "grievance", "update", grievance, "--status", "closed", "--key", "channel"
    )
    assert "only the channel" in refused(
        "grievance", "update", grievance, "--status", "withdrawn", "--key", "stranger"
    )
    # An update that changes nothing is refused: the status it has, without new evidence.
    update = ("grievance", "update", grievance, "--key", "channel", "--status")
    assert "--status: grievance" in refused(*update, "acknowledged")
    cli.ok(*update, "under_investigation")
    assert "under_investigation already (since" in refused(*update, "under_investigation")
    (tmp_path / "visit.txt").write_text("site visit notes")
    cli.ok(*update, "under_investigation", "--evidence", str(tmp_path / "visit.txt"))
    cli.ok("revoke", grievance, "--reason", "filed twice", "--key", "channel", "--record")
    assert "revoked by 0x" in refused(*update, "substantiated")
    assert "--status" in refused("grievance", "list", "--status", "closed")
    wrong = "0000-0000-0000-0000"
    err = refused("receipt", "check", wrong)
    assert "no grievance with this code" in err and wrong not in err
    assert "Crockford" in refused("receipt", "check", "not-a-code")


def test_schema_and_help(cli: Cli) -> None:
    schema = json.loads(cli.ok("schema", "grievance"))
    assert schema["additionalProperties"] is False
    assert schema["properties"]["received_month"]["pattern"] == r"^\d{4}-(0[1-9]|1[0-2])$"
    for verb in (("grievance", "record"), ("grievance", "update"), ("grievance", "list"),
                 ("grievance", "export"), ("receipt", "check")):  # fmt: skip
        assert "Example: labourledger " + " ".join(verb) in cli.ok(*verb, "--help")


def test_a_receipt_checks_from_a_buyers_empty_workspace_with_a_bundle_and_the_chain(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    brand_ws = Ledger.init(tmp_path / "brand", chain=anvil_url, confirmations=0)
    keys = brand_ws.workspace.keys
    keys.new("admin", PASSPHRASE)
    brand_ws.chain.fund(keys.address("admin"), 10**19)
    admin = keys.unlock("admin", PASSPHRASE)
    brand_ws.deploy(admin)
    brand, hotline = Account.create(), Account.create()
    for account, role in ((brand, "BRAND"), (hotline, "GRIEVANCE_CHANNEL")):
        brand_ws.chain.fund(account.address, 10**18)
        brand_ws.grant_role(admin, role, account.address)
    mill = brand_ws.record(
        "facility",
        {"name": "Saigon Knit Fabrics", "country": "VN", "address": "Lot 12", "tier": 2},
        brand,
    )
    mill_id = "0x" + mill.subject.hex()
    tee = brand_ws.record("product", {"sku": "TEE", "name": "Tee", "brand": "Northwind"}, brand)
    lot = {"product": "0x" + tee.subject.hex(), "lot": "FAB-1", "quantity": 10,
           "produced_at": "2026-10-20", "facility": mill_id}  # fmt: skip
    brand_ws.record("batch", lot, brand)
    brand_ws.anchor(brand)
    # The hotline records and anchors in a workspace of its own; the brand imports the file.
    channel_ws = Ledger.init(
        tmp_path / "channel", chain=anvil_url, contract=brand_ws.config.chain.contract
    )
    recorded = grievances.record(
        channel_ws, hotline, facility=mill_id, received_month="2026-10", channel="hotline",
        categories=["withholding_of_wages"], severity="major", workers="2-5", report=REPORT,
    )  # fmt: skip
    channel_ws.anchor(hotline)
    assert grievances.export(channel_ws, tmp_path / "grievances.json") == 1
    tampered = json.loads((tmp_path / "grievances.json").read_text())
    tampered["entries"][0]["proof"]["leaf_index"] = 1
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    with pytest.raises(EntriesRefused, match="its proof does not check"):
        brand_ws.import_file(tmp_path / "tampered.json")
    assert brand_ws.import_file(tmp_path / "grievances.json").new == 1
    assert brand_ws.mirror.counts()["pending"] == 0  # stored as anchored, by the channel
    bundle = tmp_path / "bundle.json"
    bundle.write_text(brand_ws.export_bundle("FAB-1").model_dump_json())

    buyer = Cli(tmp_path / "buyer-never-initialised", capsys, monkeypatch)
    checked = buyer.json(
        "receipt", "check", recorded.receipt, "--bundle", str(bundle), "--chain", anvil_url
    )
    assert checked["received_month"] == "2026-10" and checked["status"] == "acknowledged"
    assert checked["anchored"] and checked["proof_verified"]
    code, shown, _ = buyer.run("verify", "--bundle", str(bundle), "--chain", anvil_url)
    assert code in (4, 5) and "Worker grievances (counts only)" in shown
    assert "Saigon Knit Fabrics: 1 worker grievance (acknowledged 1; withholding_of_wages 1)" in (
        " ".join(shown.split())
    )
    assert recorded.receipt not in shown
    assert not buyer.workspace.exists()
    for needle in _secrets(recorded.receipt):
        assert needle not in bundle.read_bytes()
    assert _files_hold(tmp_path / "brand", _secrets(recorded.receipt)) == []
    assert _files_hold(tmp_path / "channel", _secrets(recorded.receipt)) == []
