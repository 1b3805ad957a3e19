"""`labourledger.status`: the workspace's state as a typed model, which `status` renders."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import PASSPHRASE

from labourledger.ledger import Ledger
from labourledger.status import workspace_status

pytestmark = pytest.mark.integration


def test_status_counts_and_roles_come_from_the_library(tmp_path: Path) -> None:
    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    found = workspace_status(ledger)
    assert found.embedded and found.contract is not None and found.contract.startswith("0x")
    assert (found.pending, found.anchored, found.last_synced_block) == (0, 0, None)
    assert found.keys is not None
    assert [(k.name, k.roles) for k in found.keys] == [("admin", ["ADMIN"])]
    brief = workspace_status(ledger, with_roles=False)
    assert brief.keys is None and "keys" not in brief.to_json()
    assert set(found.to_json()) >= {"chain_id", "contract", "chain", "pending", "anchored"}


def test_json_is_indented_at_a_terminal_and_one_line_down_a_pipe(tmp_path: Path) -> None:
    import json
    import os
    import pty
    import subprocess

    from clihelp import console_script, subprocess_env

    Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    argv = [*console_script(), "--workspace", str(tmp_path / "ws"), "--json", "status"]
    piped = subprocess.run(argv, env=subprocess_env(), capture_output=True, text=True, check=True)
    assert piped.stdout.count("\n") == 1 and json.loads(piped.stdout)["chain"] == "embedded"
    leader, follower = pty.openpty()
    with subprocess.Popen(argv, env=subprocess_env(), stdout=follower, stderr=subprocess.PIPE) as p:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert p.wait(timeout=60) == 0
    os.close(leader)
    shown = b"".join(chunks).decode().replace("\r\n", "\n")
    assert shown.startswith('{\n  "') and json.loads(shown) == json.loads(piped.stdout)
