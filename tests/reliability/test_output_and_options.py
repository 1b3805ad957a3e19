"""Bad output paths, settings and environment the table of bad inputs cannot hold: a FIFO
or link as -o, a policy setting in config.toml, a damaged keystore, a solc that will not
run. Each is refused on one line, naming what is at fault, with nothing written."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from clihelp import PASSPHRASE
from harness import run

from labourledger.errors import InputError
from labourledger.exchange import write_output
from labourledger.verify.policy import Policy
from labourledger.workspace import PolicyConfig

REPO = Path(__file__).resolve().parents[2]


def _refused(code: int, err: str, expect: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert expect in err, err


def test_an_output_link_is_followed_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    write_output(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "real.json").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "to-fifo").symlink_to("fifo")
    (tmp_path / "loop").symlink_to("loop")
    for path, expect in [
        (fifo, "not a regular file"),
        (tmp_path / "to-fifo", "not a regular file"),
        (tmp_path / "loop", "loop of symbolic links"),
        (Path("/"), "not a file name"),
    ]:
        with pytest.raises(InputError, match=expect):
            write_output(path, b"data")
    assert sorted(os.listdir(tmp_path)) == ["fifo", "loop", "to-fifo"]
    assert fifo.is_fifo()


@pytest.mark.parametrize("months", [121, 100_000, 10**20])
def test_the_audit_validity_is_bounded_in_config_as_by_flag(tmp_path: Path, months: int) -> None:
    config = PolicyConfig(audit_validity_months=months)
    with pytest.raises(InputError, match="audit_validity_months: must be 1 to 120"):
        Policy.from_config(config, tmp_path)


@pytest.mark.parametrize("value", ["12", 12.5, True])
@pytest.mark.parametrize("name", ["audit_validity_months", "look_ahead_months", "required_tier"])
def test_a_policy_number_in_config_must_be_a_whole_number(
    tmp_path: Path, name: str, value: object
) -> None:
    config = PolicyConfig(**{name: value})
    with pytest.raises(InputError, match=f"policy {name}: expected a whole number"):
        Policy.from_config(config, tmp_path)


@pytest.mark.integration
def test_a_keystore_with_a_non_hex_address_is_not_a_keystore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    workspace = tmp_path / "ws"
    assert run(workspace, ["init"])[0] == 0
    for address in ("0xzz", "0x12", 12):
        (workspace / "keys" / "bad.json").write_text(json.dumps({"address": address}))
        code, _, err = run(workspace, ["status"])
        _refused(code, err, "bad.json: not a keystore")


@pytest.mark.integration
def test_a_solc_that_will_not_run_is_named_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "failing-solc"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    for solc, expect in [
        (tmp_path / "absent", "No such file"),
        (failing, "exited with status 3"),
        (tmp_path, "Permission denied"),
    ]:
        monkeypatch.setenv("LABOURLEDGER_SOLC", str(solc))
        args = ["contracts", "build", "--source", str(REPO / "contracts" / "LabourLedger.sol")]
        code, _, err = run(tmp_path / "ws", [*args, "-o", str(tmp_path / "out" / "a.json")])
        _refused(code, err, f"LABOURLEDGER_SOLC: cannot run {solc} as solc")
        assert expect in err
    assert sorted(os.listdir(tmp_path)) == ["failing-solc"]


def test_serve_refuses_a_port_in_use_or_a_host_it_cannot_listen_on_before_saying_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    workspace = tmp_path / "ws"
    assert run(workspace, ["init"])[0] == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(workspace, ["serve", "--port", str(port)])
        _refused(code, err, f"--port: {port} is in use")
        assert "serving" not in out
    code, out, err = run(workspace, ["serve", "--host", "999.1.1.1"])
    _refused(code, err, "--host: cannot listen on '999.1.1.1'")
