"""Issue 2 acceptance: two separate Python processes share one embedded-chain workspace.

The first creates the chain, deploys, grants BRAND, signs 1,000 entries and
anchors them as one batch; the second, started afresh, verifies every entry's
inclusion against the root it reads from the chain and rejects an altered one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clihelp import subprocess_env

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from labourledger.ledger import Ledger

    PASS = "two processes, one chain"
    ledger = Ledger.init(Path(sys.argv[1]), admin_passphrase=PASS)
    keys = ledger.workspace.keys
    admin = keys.unlock("admin", PASS)
    brand_info = keys.new("brand", PASS)
    ledger.chain.fund(brand_info.address, 10**19)
    ledger.grant_role(admin, "BRAND", brand_info.address)
    brand = keys.unlock("brand", PASS)
    bodies = [
        {
            "name": f"Facility {i}",
            "country": "BD",
            "address": f"Plot {i}, Gazipur",
            "facility_type": "Final Product Assembly",
            "tier": 1,
        }
        for i in range(1000)
    ]
    entries = ledger.record_many("facility", bodies, brand)
    results = ledger.anchor(brand)
    print(json.dumps({
        "root": results[0].root,
        "size": results[0].size,
        "entry_ids": ["0x" + e.entry_id.hex() for e in entries],
    }))
    """
)

READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger

    ledger = Ledger.open(Path(sys.argv[1]))
    ids = json.loads(sys.stdin.read())
    ok = 0
    for entry_id in ids:
        if all(r.passed for r in ledger.check_entry(entry_id)):
            ok += 1
    # An altered copy of one entry: same proof, one body field changed.
    original = ledger.entry(ids[7])
    altered = SignedEntry.model_validate(
        original.model_dump() | {"body": original.body | {"tier": 2}}
    )
    proof = ledger.stored_proof(ids[7])
    failed = [r.check for r in ledger.check_integrity(altered, proof) if not r.passed]
    root = ledger.anchored_root(proof.root)
    print(json.dumps({"ok": ok, "failed_checks": failed, "chain_size": root.size}))
    """
)


def _run(script: str, workspace: Path, stdin: str = "") -> dict[str, object]:
    env = subprocess_env()
    done = subprocess.run(
        [sys.executable, "-c", script, str(workspace)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_second_process_verifies_first_process_batch(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    written = _run(WRITER, workspace)
    assert written["size"] == 1000
    ids = written["entry_ids"]
    assert isinstance(ids, list) and len(set(ids)) == 1000

    read = _run(READER, workspace, json.dumps(ids))
    assert read["ok"] == 1000
    assert read["chain_size"] == 1000
    assert read["failed_checks"] == ["content_hash"]
