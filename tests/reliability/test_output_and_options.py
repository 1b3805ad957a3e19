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
from labourledger.workspace import Config, PolicyConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace made by `init` (the passphrase set for the test)."""
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    made = tmp_path / "ws"
    assert run(made, ["init"])[0] == 0
    return made


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
    with pytest.raises(InputError, match=f"{name}: expected a whole number"):
        Policy.from_config(PolicyConfig(**{name: value}), tmp_path)
    with pytest.raises(InputError, match=f"policy {name}: expected a whole number"):
        Policy(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("section", "setting", "value", "says"),
    [
        ("chain", "url", 5, "[chain] url: expected a string, got 5"),
        ("chain", "deploy_block", "two", "[chain] deploy_block: expected a whole number"),
        ("policy", "goods_list", 5, "[policy] goods_list: expected a string, got 5"),
        ("policy", "fail_severities", "critical", "[policy] fail_severities: expected a list"),
        ("policy", "trusted_admins", "0x12", "[policy] trusted_admins: expected a list"),
    ],
)
def test_a_config_setting_of_the_wrong_type_is_named_with_its_section(
    tmp_path: Path, section: str, setting: str, value: object, says: str
) -> None:
    source = tmp_path / "config.toml"
    with pytest.raises(InputError) as refused:
        Config.from_toml({section: {setting: value}}, source)
    assert str(refused.value).startswith(f"{source} {says}")


def test_the_cli_prints_a_message_s_brackets_as_written(workspace: Path) -> None:
    config = workspace / "config.toml"
    config.write_text(config.read_text().replace("confirmations = 0", 'confirmations = "0"'))
    code, _, err = run(workspace, ["status"])
    _refused(code, err, f"{config} [chain] confirmations: expected a whole number, got '0'")


@pytest.mark.integration
def test_a_keystore_with_a_non_hex_address_is_not_a_keystore(workspace: Path) -> None:
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
    workspace: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(workspace, ["serve", "--port", str(port)])
        _refused(code, err, f"--port: {port} is in use")
        assert "serving" not in out
    code, out, err = run(workspace, ["serve", "--host", "999.1.1.1"])
    _refused(code, err, "--host: cannot listen on '999.1.1.1'")


def test_the_demo_refuses_a_workspace_it_would_not_use(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "ws", ["demo"])
    _refused(code, err, "--workspace: the demo makes its own workspace; choose where with --dir")
    assert not (tmp_path / "ws").exists()


def test_under_json_an_error_is_an_object_on_stdout_as_well(workspace: Path) -> None:
    code, out, err = run(workspace, ["trace", "NO-SUCH-LOT", "--json"])
    _refused(code, err, "NO-SUCH-LOT")
    said = json.loads(out)
    assert said["exit_code"] == 2 and "NO-SUCH-LOT" in said["error"]
    # The remedy comes as its own member, not glued to the message.
    code, out, err = run(workspace.parent / "none", ["--json", "status"])
    said = json.loads(out)
    assert code == said["exit_code"] == 2 and "labourledger init" in said["hint"]
    assert said["hint"] not in said["error"] and said["hint"] in err


def test_under_json_a_usage_error_is_an_object_too_and_json_as_a_value_is_no_flag(
    workspace: Path,
) -> None:
    code, out, err = run(workspace, ["trace", "--bogus", "--json"])
    assert code == 2 and json.loads(out) == {
        "error": "No such option: --bogus",
        "hint": None,
        "exit_code": 2,
    }
    # "--json" as the value of --key names a key; nothing asked for JSON.
    code, out, err = run(workspace, ["--key", "--json", "trace", "NO-SUCH-LOT"])
    assert code == 2 and out == "" and "NO-SUCH-LOT" in err
