"""Issue 3 acceptance, as a brand's compliance team would use the CLI."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from clihelp import Cli, console_script, facility_rows, subprocess_env, write_csv
from conftest import PG_URL
from web3 import Web3
from web3.types import RPCEndpoint

from labourledger.chain import open_embedded, open_rpc
from labourledger.merkle import verify_inclusion

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]


def _brand_ready(cli: Cli, *init_args: str) -> None:
    """init, then a funded brand key holding BRAND."""
    cli.ok("init", *init_args)
    if "--chain" in init_args:  # a JSON-RPC chain: the admin deploys by hand
        cli.ok("keys", "new", "admin")
        cli.ok("keys", "fund", "admin")
        cli.ok("contracts", "deploy", "--key", "admin")
    cli.ok("keys", "new", "brand")
    cli.ok("keys", "fund", "brand")
    cli.ok("roles", "grant", "BRAND", "brand", "--key", "admin")


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A workspace whose funded brand key holds BRAND."""
    ready = Cli(tmp_path / "ws", capsys, monkeypatch)
    _brand_ready(ready)
    return ready


def _import_link_and_anchor(cli: Cli, csv_file: Path) -> dict[str, Any]:
    imported = cli.json("supplier", "import", str(csv_file), "--key", "brand")
    assert imported["imported"] == 50
    listed = cli.json("supplier", "list")
    assert len(listed) == 50
    assert {f["tier"] for f in listed} == {1, 2, 3, 4}
    assert {f["country"] for f in listed} == {"BD", "IN", "VN"}
    assert len(cli.json("supplier", "list", "--tier", "4", "--country", "IN")) == 12
    first = {tier: next(f for f in listed if f["tier"] == tier) for tier in (1, 2, 3, 4)}
    for tier, material in ((4, "ginned cotton"), (3, "yarn"), (2, "dyed fabric")):
        supplier, buyer = first[tier]["os_id"], first[tier - 1]["os_id"]
        link = cli.json(
            "link", "add", "--supplier", supplier, "--buyer", buyer, "--material", material
        )
        assert link["body"]["valid_from"] == date.today().isoformat()  # today's, not import day's
    status = cli.json("status")
    assert (status["pending"], status["anchored"]) == (53, 0)

    anchored = cli.json("anchor", "--key", "brand")
    assert [a["size"] for a in anchored] == [53]
    status = cli.json("status")
    assert (status["pending"], status["anchored"]) == (0, 53)

    chain = (
        open_embedded(cli.workspace / "chain" / "embedded.sqlite")
        if status["chain"] == "embedded"
        else open_rpc(status["chain"])
    )
    chain.attach(status["contract"])
    mill = cli.json("supplier", "show", first[3]["os_id"])
    registration = mill["entries"][0]
    assert registration["kind"] == "facility"
    if status["chain"] == "embedded":  # 0 confirmations needed
        assert registration["status"] == "final"
    else:  # 12 confirmations needed: final once the node is 12 blocks further and we sync
        assert registration["status"] == "submitted"
        chain.w3.provider.make_request(RPCEndpoint("anvil_mine"), [12])
        assert cli.json("sync")["finalised"] == 1
        registration = cli.json("supplier", "show", first[3]["os_id"])["entries"][0]
        assert registration["status"] == "final"
    assert registration["anchor"]["tx_hash"] == anchored[0]["tx_hash"]
    assert registration["anchor"]["block_number"] == anchored[0]["block_number"]
    assert len(mill["links"]) == 2  # buys ginned cotton, sells yarn
    human = cli.ok("supplier", "show", first[3]["os_id"])
    assert "final" in human and anchored[0]["tx_hash"][:12] in human

    proof = cli.json("proof", registration["entry_id"])
    assert proof["verified"] is True
    path = [bytes.fromhex(h[2:]) for h in proof["proof"]["path"]]
    root = bytes.fromhex(proof["anchor"]["root"][2:])
    leaf = bytes.fromhex(registration["entry_id"][2:])
    index, size = proof["proof"]["leaf_index"], proof["proof"]["tree_size"]
    assert verify_inclusion(leaf, index, size, path, root)
    on_chain = chain.anchor_of(root)
    assert on_chain is not None and on_chain.size == size == 53
    return status


@pytest.mark.parametrize("where", ["embedded+sqlite", "anvil+postgresql"])
def test_brand_imports_fifty_facilities_and_anchors_them(
    where: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    if where == "embedded+sqlite":
        _brand_ready(cli)
    else:
        url = request.getfixturevalue("pg_url")
        _brand_ready(cli, "--chain", request.getfixturevalue("anvil_url"), "--db", url)
    status = _import_link_and_anchor(cli, write_csv(tmp_path / "os.csv", facility_rows(50)))
    assert status["chain"] == ("embedded" if where.startswith("embedded") else cli_url(status))


def cli_url(status: dict[str, Any]) -> str:
    """The chain URL a status reports (anvil's loopback URL)."""
    url: str = status["chain"]
    assert url.startswith("http://127.0.0.1:")
    return url


def test_bad_rows_exit_2_name_both_rows_and_store_nothing(cli: Cli, tmp_path: Path) -> None:
    rows = facility_rows(6)
    rows[1]["country_code"] = "XX"  # line 3 of the file
    rows[4]["os_id"] = rows[4]["os_id"][:-1] + ("A" if rows[4]["os_id"][-1] != "A" else "B")
    code, _, err = cli.run("supplier", "import", str(write_csv(tmp_path / "bad.csv", rows)))
    assert code == 2
    assert "line 3:" in err and "country" in err
    assert "line 6:" in err and "os_id" in err
    # The remedy ends the error's first line; the rows follow, one a line.
    fault = err.strip().splitlines()[0]
    assert fault.startswith(f"error: {tmp_path / 'bad.csv'}: 2 invalid row(s), nothing imported: ")
    assert fault.endswith("pass --skip-invalid:")
    assert cli.json("status")["pending"] == 0
    assert cli.json("supplier", "list") == []

    # --skip-invalid stores the four good rows and still lists the bad ones.
    partial = cli.json("supplier", "import", str(tmp_path / "bad.csv"), "--skip-invalid")
    assert partial["imported"] == 4
    assert [s["line"] for s in partial["skipped"]] == [3, 6]
    assert len(cli.json("supplier", "list")) == 4


def test_importing_the_same_list_again_signs_only_what_changed(cli: Cli, tmp_path: Path) -> None:
    rows = facility_rows(5)
    first = cli.json("supplier", "import", str(write_csv(tmp_path / "a.csv", rows)))
    assert first["imported"] == 5 and first["unchanged"] == []
    again = cli.json("supplier", "import", str(tmp_path / "a.csv"))
    assert again["imported"] == 0 and again["unchanged"] == [2, 3, 4, 5, 6]
    assert cli.json("status")["pending"] == 5
    assert "5 row(s) left as they are" in cli.ok("supplier", "import", str(tmp_path / "a.csv"))

    # A changed row is signed again; a row the file repeats is signed once.
    rows[2]["number_of_workers"] = "77"
    changed = write_csv(tmp_path / "b.csv", [*rows, rows[2]])
    result = cli.json("supplier", "import", str(changed))
    assert result["imported"] == 1 and result["unchanged"] == [2, 3, 5, 6, 7]
    shown = cli.json("supplier", "show", rows[2]["os_id"])
    assert [e["kind"] for e in shown["entries"]] == ["facility", "facility"]

    # Two rows for one facility that disagree: neither wins silently.
    clash = write_csv(tmp_path / "c.csv", [rows[1], {**rows[1], "name": "Other name"}])
    code, _, err = cli.run("supplier", "import", str(clash))
    assert code == 2 and "line 3: the facility of line 2 again, with other values" in err
    skipped = cli.json("supplier", "import", str(clash), "--skip-invalid")
    assert (skipped["imported"], skipped["unchanged"], skipped["skipped"][0]["line"]) == (0, [2], 3)

    # A registration withdrawn is not one the brand still says: its row is signed again.
    withdrawn = cli.json("supplier", "show", rows[0]["os_id"])["entries"][0]["entry_id"]
    cli.ok("revoke", withdrawn, "--reason", "typo", "--key", "brand", "--record")
    result = cli.json("supplier", "import", str(changed))
    assert result["imported"] == 1 and result["unchanged"] == [3, 4, 5, 6, 7]


def test_a_facility_shows_and_exports_its_registration_in_force(cli: Cli, tmp_path: Path) -> None:
    mill = ("--country", "IN", "--address", "Road 1", "--os-id", "IN2024002CTNM1H")
    cli.ok("supplier", "add", "--name", "Mill", "--tier", "3", *mill, "--key", "brand")
    cli.ok("supplier", "add", "--name", "Mill Two", "--tier", "2", *mill, "--key", "brand")

    def listed(*filters: str) -> list[tuple[str, int, int]]:
        found = cli.json("supplier", "list", *filters)
        return [(f["name"], f["tier"], len(f["revoked_by"])) for f in found]

    # The later registration amends the first: shown, listed, filtered and exported.
    assert cli.json("supplier", "show", "IN2024002CTNM1H")["facility"]["name"] == "Mill Two"
    assert listed() == listed("--tier", "2") == [("Mill Two", 2, 0)]
    assert listed("--tier", "3") == []
    cli.ok("supplier", "list", "--format", "osh-csv", "-o", str(tmp_path / "out.csv"))
    assert "Mill Two" in (tmp_path / "out.csv").read_text()
    for lone in (("-o", str(tmp_path / "table.csv")), ("--osh-only",)):
        code, _, err = cli.run("supplier", "list", *lone)
        assert code == 2 and err.startswith(f"error: {lone[0]}: only with --format osh-csv"), err
    assert not (tmp_path / "table.csv").exists()

    # Withdrawing the amendment leaves the first in force; withdrawing both lists it revoked.
    first, second = [
        e["entry_id"] for e in cli.json("supplier", "show", "IN2024002CTNM1H")["entries"]
    ]
    cli.ok("revoke", second, "--reason", "wrong tier", "--key", "brand", "--record")
    assert listed() == [("Mill", 3, 0)]
    assert cli.json("supplier", "show", "IN2024002CTNM1H")["facility"]["name"] == "Mill"
    cli.ok("revoke", first, "--reason", "closed", "--key", "brand", "--record")
    assert listed() == [("Mill Two", 2, 1)]  # the latest, as every one is withdrawn
    cli.ok("supplier", "list", "--format", "osh-csv", "-o", str(tmp_path / "out.csv"))
    assert "Mill" not in (tmp_path / "out.csv").read_text()


def test_a_brand_names_and_drops_the_supplier_keys_of_a_facility(cli: Cli) -> None:
    one, two = "0x" + "11" * 20, "0x" + "22" * 20
    mill = ("--name", "Mill", "--country", "IN", "--address", "Road 1", "--tier", "3",
            "--os-id", "IN2024002CTNM1H")  # fmt: skip
    code, _, err = cli.run("supplier", "add", *mill, "--operator", "0x12")
    assert code == 2 and "body.operators[0]: '0x12' is not an Ethereum address" in err
    assert cli.json("status")["pending"] == 0
    cli.ok("supplier", "add", *mill, "--operator", one)
    named = [Web3.to_checksum_address(a) for a in (one, two)]
    assert cli.json("supplier", "operators", "IN2024002CTNM1H") == {"operators": named[:1]}
    again = cli.json("supplier", "operators", "IN2024002CTNM1H", "--add", two, "--remove", one)
    assert again["kind"] == "facility" and again["body"]["operators"] == named[1:]
    assert cli.json("supplier", "operators", "IN2024002CTNM1H") == {"operators": named[1:]}
    code, _, err = cli.run("supplier", "operators", "IN2024002CTNM1H", "--add", "brand")
    assert code == 2 and err.startswith("error: --add: 'brand' is not an Ethereum address")
    code, _, err = cli.run("supplier", "operators", "IN2024009ZZZZZ3", "--add", two)
    assert code == 2 and "IN2024009ZZZZZ3: nothing to amend" in err and "supplier add" in err
    assert cli.json("status")["pending"] == 2
    # The brand's list imported again (Open Supply Hub's columns: no operators) keeps them.
    imported = cli.json("supplier", "import", str(REPO / "examples" / "facilities.csv"))
    assert imported["imported"] == 6
    assert cli.json("supplier", "operators", "IN2024002CTNM1H") == {"operators": named[1:]}
    assert cli.json("supplier", "operators", "BD2024001KNTR4D") == {"operators": []}


def test_ctrl_c_during_a_large_import_leaves_the_mirror_unchanged(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
) -> None:
    # PostgreSQL shows another process's open transaction, so Ctrl-C lands inside it.
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    _brand_ready(cli, "--db", pg_url)
    big = write_csv(tmp_path / "big.csv", facility_rows(5000))
    app_name = f"ll-ctrl-c-{time.monotonic_ns()}"
    schema = pg_url.rsplit("%3D", 1)[1]
    # The test holds a lock on the facilities projection, so the import stops inside its
    # transaction, with entries already written, exactly where Ctrl-C is to land.
    with psycopg.connect(PG_URL) as blocker, psycopg.connect(PG_URL, autocommit=True) as watcher:
        blocker.execute(f'LOCK TABLE "{schema}".facilities IN ACCESS EXCLUSIVE MODE')
        with subprocess.Popen(
            [*console_script(), "--workspace", str(cli.workspace), "supplier", "import", str(big)],
            env=subprocess_env() | {"PGAPPNAME": app_name},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # As in a terminal: a shell's background jobs (CI, say) start with SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        ) as importer:
            deadline = time.monotonic() + 120
            while not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = %s "
                "AND wait_event_type = 'Lock'",
                (app_name,),
            ).fetchone():
                assert importer.poll() is None, importer.communicate()
                assert time.monotonic() < deadline, "the import never reached the projection"
                time.sleep(0.02)
            importer.send_signal(signal.SIGINT)
            _, err = importer.communicate(timeout=60)
        blocker.rollback()
    assert importer.returncode == 130, err
    assert "interrupted" in err
    assert cli.json("status")["pending"] == 0
    assert cli.json("supplier", "list") == []
