"""CLI set-up verbs: init, status, keys, roles, db upgrade, contracts build, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from clihelp import PASSPHRASE, Cli

from labourledger.chain.artifacts import artifact_path, load_artifact
from labourledger.keys import KeyStore
from labourledger.ledger import Ledger
from labourledger.mirror.connection import SCHEMA_REVISION

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    return cli


def test_init_status_and_the_embedded_label(cli: Cli) -> None:
    status = cli.json("status")
    assert status["chain"] == "embedded" and status["contract"].startswith("0x")
    assert (status["pending"], status["anchored"], status["last_synced_block"]) == (0, 0, None)
    assert [(k["name"], k["roles"]) for k in status["keys"]] == [("admin", ["ADMIN"])]
    # Down a pipe (not a terminal), --json is one compact line, written a member at a time.
    assert cli.ok("status", "--json") == json.dumps(status, separators=(",", ":")) + "\n"
    assert "local development chain" in cli.ok("status")
    for sub in ("keys", "chain", "evidence"):
        assert (cli.workspace / sub).is_dir()
    assert (cli.workspace / "config.toml").is_file()
    code, _, err = cli.run("init")
    assert code == 2 and "already a labourledger workspace" in err


def test_keys_never_show_secrets_and_move_between_workspaces(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = cli.json("keys", "new", "auditor")
    names = {k["name"]: k["address"] for k in cli.json("keys", "list")}
    assert names == {"admin": names["admin"], "auditor": created["address"]}
    exported = cli.ok("keys", "export", "auditor")
    keystore = json.loads(exported)
    assert "crypto" in keystore and PASSPHRASE not in exported
    secret = KeyStore(cli.workspace / "keys").unlock("auditor", PASSPHRASE).key.hex()
    assert secret.removeprefix("0x") not in exported.lower()

    other = Cli(tmp_path / "other", capsys, monkeypatch)
    other.ok("init")
    (tmp_path / "auditor.json").write_text(exported)
    imported = other.json("keys", "import", "auditor", str(tmp_path / "auditor.json"))
    assert imported["address"] == created["address"]
    code, _, err = other.run("keys", "import", "again", str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err
    for run in (cli, other):
        assert PASSPHRASE not in run.ok("keys", "list")


def test_roles_grant_list_revoke(cli: Cli) -> None:
    auditor = cli.json("keys", "new", "auditor")["address"]
    cli.ok("roles", "grant", "AUDITOR", "auditor", "--key", "admin")
    listed = cli.json("roles", "list")
    assert {"role": "AUDITOR", "account": auditor, "key": "auditor", "organisation": None} in listed
    keys = {k["name"]: k["roles"] for k in cli.json("status")["keys"]}
    assert keys["auditor"] == ["AUDITOR"]
    cli.ok("roles", "revoke", "AUDITOR", auditor, "--key", "admin")
    assert all(r["account"] != auditor for r in cli.json("roles", "list"))
    code, _, err = cli.run("roles", "grant", "OWNER", "auditor", "--key", "admin")
    assert code == 2 and "role" in err and len(err.strip().splitlines()) == 1


def test_db_upgrade_and_bad_input_exit_codes(cli: Cli) -> None:
    assert cli.json("db", "upgrade")["revision"] == SCHEMA_REVISION
    code, _, err = cli.run(
        "supplier", "add", "--name", "X", "--country", "ZZ", "--address", "Y", "--tier", "1"
    )
    assert code == 2 and "country" in err
    code, _, err = cli.run("entry", "show", "0x" + "00" * 32)
    assert code == 2 and "not in this workspace" in err
    assert cli.json("status")["pending"] == 0


def test_unreachable_chain_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    code, _, err = cli.run("init", "--chain", "http://127.0.0.1:9")
    assert code == 3 and "http://127.0.0.1:9" in err
    assert not (tmp_path / "ws" / "config.toml").exists()


def test_keys_fund_sends_exact_decimal_ether(cli: Cli) -> None:
    cli.ok("keys", "new", "brand")
    funded = cli.json("keys", "fund", "brand", "--amount", "1.1")
    assert funded["balance_wei"] == 11 * 10**17  # through a float: 1100000000000000128
    funded = cli.json("keys", "fund", "brand", "--amount", "0.000000000000000001")
    assert funded["balance_wei"] == 11 * 10**17 + 1
    for bad in ("0", "-1", "ten", "1e-19"):
        code, _, err = cli.run("keys", "fund", "brand", "--amount", bad)
        assert code == 2 and "--amount: expected ether above 0" in err and repr(bad) in err


def test_contracts_build_reproduces_the_shipped_artifact_in_the_workspace(
    cli: Cli, tmp_path: Path
) -> None:
    shipped = artifact_path()
    before = shipped.stat().st_mtime_ns
    repo = Path(__file__).resolve().parents[1]
    built = cli.json("contracts", "build", "--source", str(repo / "contracts" / "LabourLedger.sol"))
    assert built["compiler"].startswith("0.8.")
    out = Path(built["path"])
    assert out.resolve() == (tmp_path / "ws" / "contracts" / "LabourLedger.json").resolve()
    assert json.loads(out.read_text()) == load_artifact()
    assert shipped.stat().st_mtime_ns == before


def test_attaching_a_second_workspace_sees_the_first_ones_anchors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> None:
    brand = Cli(tmp_path / "brand", capsys, monkeypatch)
    brand.ok("init", "--chain", anvil_url, "--confirmations", "0")
    brand.ok("keys", "new", "admin")
    brand.ok("keys", "fund", "admin")
    contract = brand.json("contracts", "deploy", "--key", "admin")["contract"]
    brand.ok(
        "supplier",
        "add",
        "--name",
        "Mill",
        "--country",
        "IN",
        "--address",
        "Road 1",
        "--tier",
        "3",
        "--key",
        "admin",
    )
    [anchored] = brand.json("anchor", "--key", "admin")

    buyer = Cli(tmp_path / "buyer", capsys, monkeypatch)
    status = buyer.json("init", "--chain", anvil_url, "--contract", contract)
    assert status["contract"] == contract and status["confirmations"] == 12
    synced = buyer.json("sync")
    assert synced["anchors"] == 1 and synced["role_events"] >= 1
    record = buyer.json("status")
    assert record["last_synced_block"] >= anchored["block_number"]


def test_a_mirror_at_an_older_revision_is_refused_until_db_upgrade(cli: Cli) -> None:
    mirror = Ledger.open(cli.workspace).mirror
    with mirror.transaction(schema_check=False) as conn:
        command.downgrade(mirror._alembic(conn), "0002")
    code, out, _ = cli.run("doctor", "--json")
    check = {c["check"]: c for c in json.loads(out)}["mirror"]
    assert code == 1 and check["outcome"] == "fail"
    assert (
        f"at revision 0002, the package has {SCHEMA_REVISION}; run `labourledger db upgrade`"
        in check["reason"]
    )
    code, _, err = cli.run("status")
    assert code == 2 and "schema revision 0002" in err and "db upgrade" in err
    assert cli.json("db", "upgrade")["revision"] == SCHEMA_REVISION
    assert cli.json("status")["pending"] == 0


def test_doctor_says_what_to_do(cli: Cli) -> None:
    checks = {c["check"]: c for c in cli.json("doctor")}
    assert checks["mirror"]["outcome"] == "pass" and checks["contract"]["outcome"] == "pass"
    assert (
        checks["sync"]["outcome"] == "attention" and "labourledger sync" in checks["sync"]["reason"]
    )
    cli.ok("sync")
    cli.ok("supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
           "--tier", "3", "--key", "admin")  # fmt: skip
    checks = {c["check"]: c for c in cli.json("doctor")}
    assert checks["sync"]["outcome"] == "pass"
    assert (
        checks["pending"]["outcome"] == "attention"
        and "1 entries pending" in checks["pending"]["reason"]
    )
    (cli.workspace / "keys" / "admin.json").chmod(0o644)
    permissions = {c["check"]: c for c in cli.json("doctor")}["permissions"]
    assert permissions["outcome"] == "attention" and "keys/admin.json" in permissions["reason"]
    (cli.workspace / "mirror.sqlite").unlink()
    code, out, _ = cli.run("doctor", "--json")
    assert code == 1
    mirror = {c["check"]: c for c in json.loads(out)}["mirror"]
    assert mirror["outcome"] == "fail" and "db upgrade" in mirror["reason"]
