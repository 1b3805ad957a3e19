"""Hints fit the party whose workspace it is: its keys, its roles, its ether."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from clihelp import Cli, console_script, subprocess_env

from labourledger.identifiers import make_os_id

pytestmark = pytest.mark.integration

CERTIFICATE = (
    "--claim", "certificate", "--standard", "SA8000", "--certificate-number", "C-1",
    "--from", "2026-01-01", "--until", "2026-12-31",
)  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """An embedded workspace: the contract deployed, an admin key holding ADMIN."""
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    return cli


def _hint(err: str) -> str:
    """The last hint (one line, so that its commands copy and paste whole)."""
    return err.rsplit("→ ", 1)[1].rstrip("\n")


def test_an_auditor_and_a_supplier_attaching_are_told_whom_to_ask(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> None:
    brand = Cli(tmp_path / "brand", capsys, monkeypatch)
    brand.ok("init", "--chain", anvil_url, "--confirmations", "0")
    code, _, err = brand.run("keys", "new", "admin")
    assert code == 0 and "`labourledger contracts deploy --key admin`" in _hint(err)
    brand.ok("keys", "fund", "admin")
    contract = brand.json("contracts", "deploy", "--key", "admin")["contract"]

    auditor = Cli(tmp_path / "auditor", capsys, monkeypatch)
    code, _, err = auditor.run("init", "--chain", anvil_url, "--contract", contract)
    assert code == 0 and "named after your role" in _hint(err) and "auditor" in _hint(err)
    code, _, err = auditor.run("keys", "new", "auditor")
    address = auditor.json("keys", "list")[0]["address"]
    assert _hint(err) == (
        f"send your address {address} to the contract's admin, who runs "
        f"`labourledger roles grant AUDITOR {address} --key admin`"
    )
    code, _, err = auditor.run("keys", "new", "supplier")
    assert "a brand you supply" in _hint(err) and "roles grant SUPPLIER 0x" in _hint(err)


def test_keys_in_a_workspace_with_an_admin_are_granted_their_own_role(cli: Cli) -> None:
    _, _, err = cli.run("keys", "new", "auditor")
    assert _hint(err) == "give it its role: `labourledger roles grant AUDITOR auditor --key admin`"
    _, _, err = cli.run("keys", "new", "channel")
    assert "roles grant GRIEVANCE_CHANNEL channel --key admin" in _hint(err)


def test_a_signer_without_ether_is_not_told_to_anchor(cli: Cli) -> None:
    cli.ok("keys", "new", "auditor")
    cli.ok("roles", "grant", "AUDITOR", "auditor", "--key", "admin")
    facility = make_os_id("IN", "2024002", "CTNM1")
    cli.ok(
        "supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
        "--tier", "3", "--os-id", facility, "--key", "admin",
    )  # fmt: skip
    cli.ok("anchor", "--key", "admin")
    code, _, err = cli.run("attest", facility, *CERTIFICATE, "--key", "auditor", "--record")
    assert code == 0
    assert "key auditor holds no ether" in _hint(err) and "`labourledger import FILE`" in _hint(err)
    assert "run `labourledger anchor" not in err
    cli.ok("keys", "fund", "auditor", "--amount", "1")
    code, _, err = cli.run("attest", facility, *CERTIFICATE, "--key", "auditor", "--record")
    assert _hint(err) == "2 entries pending: run `labourledger anchor --key auditor`"


def test_a_brand_without_ether_is_told_to_anchor_with_another_key_or_fund_it(cli: Cli) -> None:
    # `supplier add` writes no entry file: there is nothing to send to a brand.
    cli.ok("keys", "new", "brand")
    cli.ok("roles", "grant", "BRAND", "brand", "--key", "admin")
    args = ("--name", "Mill", "--country", "IN", "--address", "Road 1", "--tier", "3")
    facility = make_os_id("IN", "2024002", "CTNM1")
    code, _, err = cli.run("supplier", "add", *args, "--os-id", facility, "--key", "brand")
    assert code == 0 and _hint(err) == (
        "1 entries pending here, and key brand holds no ether to anchor them: anchor with a "
        "key that holds some (`labourledger anchor --key KEY`), or, on a development chain, "
        "run `labourledger keys fund brand`"
    )
    assert "-o FILE" not in err


def test_facility_ids_whole_and_with_0x_and_an_entry_id_named_as_such(cli: Cli) -> None:
    cli.ok("keys", "new", "brand")
    cli.ok("keys", "fund", "brand")
    cli.ok("roles", "grant", "BRAND", "brand", "--key", "admin")
    os_ids = [make_os_id("BD", f"20240{i:02d}", f"KNT{i:02d}") for i in range(3)]
    for i, os_id in enumerate(os_ids):
        name = f"Dhaka Knit and Garment Export Processing Zone Unit {i}"
        address = "Plot 7, Gazipur Export Processing Zone"
        args = ("--name", name, "--country", "BD", "--address", address, "--tier", "1")
        out = cli.ok("supplier", "add", *args, "--os-id", os_id, "--key", "brand")
        printed = re.fullmatch(r"facility (0x[0-9a-f]{64})\s+recorded as (0x[0-9a-f]{64})\s*", out)
        assert printed is not None, out
        entry = printed[2]
    listed = cli.ok("supplier", "list")  # rich draws it 80 columns wide, as in a small terminal
    assert all(os_id in listed for os_id in os_ids)
    code, _, err = cli.run("supplier", "show", entry)
    assert code == 2 and f"{entry}: the id of a facility entry here, not of a facility" in err


def test_a_non_crockford_letter_in_an_os_id_is_named(cli: Cli) -> None:
    code, _, err = cli.run(
        "supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
        "--tier", "3", "--os-id", "IN2024002CTNL1H", "--key", "brand",
    )  # fmt: skip
    assert code == 2 and "'L' as character 13" in err


def test_the_demos_closing_hint_works_as_printed_from_anywhere(tmp_path: Path) -> None:
    env = subprocess_env()
    done = subprocess.run(
        [*console_script(), "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    command = re.search(r"`(labourledger [^`]+)`", _hint(done.stderr))
    assert command is not None and "verify --bundle" in command[1]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    argv = [*console_script(), *shlex.split(command[1])[1:]]
    checked = subprocess.run(argv, cwd=elsewhere, capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "PASS" in checked.stdout


FACILITY = ("supplier", "add", "--name", "Mill", "--country", "IN", "--address", "1 Road")


def test_a_key_without_the_role_is_warned_when_it_signs_and_told_who_grants_it(cli: Cli) -> None:
    cli.ok("keys", "new", "nobody")
    address = cli.json("keys", "list")[1]["address"]
    code, out, err = cli.run(*FACILITY, "--tier", "2", "--key", "nobody")
    assert code == 0 and "recorded as" in out
    assert f"warning: issuer {address} holds no BRAND role" in err
    assert "a brand importing the entry refuses it" in err
    assert f"`labourledger roles grant BRAND {address} --key admin`" in err
    # A certificate, signed for a brand to import, is warned about the same way.
    facility = cli.json("supplier", "list")[0]["facility_id"]
    certificate = str(cli.workspace.parent / "certificate.json")
    code, _, err = cli.run("attest", facility, *CERTIFICATE, "-o", certificate, "--key", "nobody")
    assert code == 0 and f"issuer {address} holds no AUDITOR role" in err, err
    cli.ok("roles", "grant", "BRAND", "nobody", "--key", "admin")
    code, _, err = cli.run(*FACILITY, "--tier", "3", "--key", "nobody")
    assert code == 0 and "warning" not in err, err


def test_signing_offline_warns_of_nothing_it_cannot_ask(cli: Cli) -> None:
    cli.ok("keys", "new", "nobody")
    config = cli.workspace / "config.toml"
    config.write_text(config.read_text().replace('url = "embedded"', 'url = "http://127.0.0.1:9"'))
    code, out, err = cli.run(*FACILITY, "--tier", "2", "--key", "nobody")
    assert code == 0 and "recorded as" in out and "warning" not in err, err
