"""The workspace folder: private to its owner, movable, and no chain credentials shown."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from clihelp import Cli

from labourledger.errors import LabourLedgerError
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

API_KEY = "0123456789abcdef0123456789abcdef"
PASSWORD = "pw-s3cr3t-42"
QUERY_KEY = "q-topsecret-99"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    return cli


def test_workspace_is_private_and_doctor_says_when_it_is_not(cli: Cli) -> None:
    ws = cli.workspace
    for folder in (ws, ws / "keys", ws / "chain", ws / "evidence"):
        assert _mode(folder) == 0o700, folder
    for file in (ws / "config.toml", ws / "mirror.sqlite", ws / "keys" / "admin.json"):
        assert _mode(file) == 0o600, file
    checks = {c["check"]: c for c in cli.json("doctor")}
    assert checks["permissions"]["outcome"] == "pass"
    (ws / "config.toml").chmod(0o644)
    ws.chmod(0o755)
    reason = {c["check"]: c for c in cli.json("doctor")}["permissions"]["reason"]
    assert reason.startswith("open to others: ., config.toml;") and "chmod 700" in reason


def test_a_copied_workspace_opens_its_own_mirror(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
           "--tier", "3", "--key", "admin")  # fmt: skip
    assert 'url = "sqlite:///mirror.sqlite"' in (cli.workspace / "config.toml").read_text()
    moved = tmp_path / "elsewhere" / "ws"
    shutil.copytree(cli.workspace, moved)
    shutil.rmtree(cli.workspace)
    copy = Cli(moved, capsys, monkeypatch)
    status = copy.json("status")
    assert status["pending"] == 1 and str(moved) in status["mirror"]


def test_rpc_credentials_never_shown(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> None:
    host = anvil_url.removeprefix("http://")
    url = f"http://user:{PASSWORD}@{host}/?apikey={QUERY_KEY}"  # anvil answers on / only
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init", "--chain", url)
    cli.ok("keys", "new", "admin")
    cli.ok("keys", "fund", "admin")
    cli.ok("contracts", "deploy", "--key", "admin")
    shown = [cli.ok("status", "--json"), cli.ok("doctor", "--json"), cli.ok("status")]
    # A node that does not answer: the error names the URL, redacted.
    dead = f"http://user:{PASSWORD}@127.0.0.1:9/v3/{API_KEY}?apikey={QUERY_KEY}"
    code, out, err = Cli(tmp_path / "dead", capsys, monkeypatch).run("init", "--chain", dead)
    assert code == 3 and "127.0.0.1:9/v3/***" in err
    shown += [out, err]
    assert json.loads(shown[0])["chain"] == f"http://***@{host}/?apikey=***"
    for text in shown:
        assert PASSWORD not in text and API_KEY not in text and QUERY_KEY not in text


def test_a_refused_init_leaves_no_folder_so_it_can_run_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", "short")
    code, _, err = cli.run("init")
    assert code == 2 and "passphrase: use at least 8 characters" in err
    assert not (tmp_path / "ws").exists()
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", "a long enough passphrase")
    # Refused after the embedded chain was created on disk: that goes too.
    with pytest.raises(LabourLedgerError):
        Ledger.init(tmp_path / "ws", contract="0x" + "11" * 20, admin_passphrase="long enough")
    assert not (tmp_path / "ws").exists()
    cli.ok("init")
    assert (tmp_path / "ws" / "config.toml").is_file()
