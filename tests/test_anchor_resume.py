"""A crash around `anchor` neither loses nor double-anchors entries; a reorg sends them back."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clihelp import PASSPHRASE, brand_workspace
from web3.types import RPCEndpoint

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("passphrase_env")]

CRASHING_ANCHOR = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from labourledger.chain.ledger_contract import LedgerChain
    from labourledger.ledger import Ledger

    real_anchor = LedgerChain.anchor
    crash_after_send = sys.argv[2] == "after"

    def crashing(self, sender, root, size, indexed=()):
        if crash_after_send:
            real_anchor(self, sender, root, size, indexed)
        os._exit(9)  # the process dies: no exception handler, no cleanup

    LedgerChain.anchor = crashing
    ledger = Ledger.open(Path(sys.argv[1]))
    ledger.anchor(ledger.workspace.keys.unlock("brand", os.environ["LABOURLEDGER_PASSPHRASE"]))
    """
)


@pytest.mark.parametrize("crash", ["before", "after"])
def test_anchor_resumes_after_a_crash_around_the_transaction(tmp_path: Path, crash: str) -> None:
    ledger = brand_workspace(tmp_path / "ws", 20)
    head = ledger.chain.latest_block()
    died = subprocess.run(
        [sys.executable, "-c", CRASHING_ANCHOR, str(tmp_path / "ws"), crash],
        capture_output=True,
        text=True,
        check=False,
    )
    assert died.returncode == 9, died.stderr
    [prepared] = ledger.mirror.unfinished_anchors()
    sent = ledger.chain.anchor_of(bytes.fromhex(prepared["root"][2:])) is not None
    assert sent == (crash == "after")

    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    [result] = ledger.anchor(brand)
    assert result.root == prepared["root"] and result.size == 20
    assert result.resumed == (crash == "after")
    events = ledger.chain.anchored_events(head, ledger.chain.latest_block())
    assert [e.root.hex() for e in events] == [prepared["root"][2:]]  # anchored exactly once
    counts = ledger.mirror.counts()
    assert (counts["pending"], counts["anchored"]) == (0, 20)
    assert ledger.anchor(brand) == []  # nothing left to do


def test_reorg_orphans_the_anchor_and_entries_go_back_to_pending(
    tmp_path: Path, anvil_url: str
) -> None:
    ledger = brand_workspace(tmp_path / "ws", 5, chain=anvil_url)
    ledger.sync()
    rpc = ledger.chain.w3.provider
    snapshot = rpc.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    brand = ledger.workspace.keys.unlock("brand", PASSPHRASE)
    [anchored] = ledger.anchor(brand)
    assert ledger.sync().anchors == 1
    assert ledger.mirror.counts()["anchored"] == 5

    # The anchor's block is replaced by a longer fork without it.
    rpc.make_request(RPCEndpoint("evm_revert"), [snapshot])
    rpc.make_request(RPCEndpoint("anvil_mine"), [3])
    result = ledger.sync()
    assert result.orphaned == 1
    assert ledger.mirror.get_anchor(anchored.root)["status"] == "orphaned"  # type: ignore[index]
    assert ledger.mirror.counts()["pending"] == 5

    [again] = ledger.anchor(brand)  # the same entries, anchored on the new fork
    assert again.root == anchored.root
    assert ledger.chain.anchor_of(bytes.fromhex(again.root[2:])) is not None
