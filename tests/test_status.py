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
