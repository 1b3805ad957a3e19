"""A mirror row altered by hand stops a read command with one line naming the row (exit 2),
never a traceback, and `doctor` names it as a fault (exit 1).

SQLite keeps whatever it is given in any column ('abc' in an INTEGER column, a float too
large for one); ids that are not hex and days no calendar has fit PostgreSQL's columns too.
Each case alters one row of a copy of the demo workspace (`test_doctor`'s fixture) and runs
the command that reads it; between them they reach every place such a row was once read.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import run
from test_doctor import demo_workspace  # noqa: F401 - the demo workspace, made once a module
from test_verify_postgres import _on_postgresql

pytestmark = pytest.mark.integration

#: The anchor of an entry picked by a subquery: its rowid, root, and the entry's id.
_ANCHOR_OF = (
    "SELECT a.rowid, a.root, e.entry_id FROM entries e"
    " JOIN leaf_runs r ON e.seq BETWEEN r.first_seq AND r.last_seq"
    " JOIN anchors a ON a.root = r.root WHERE e.entry_id = ({})"
)
_BATCH_ENTRY = "SELECT entry_id FROM batches WHERE batch_id = :batch"
_AUDIT = "SELECT entry_id FROM audits ORDER BY entry_id LIMIT 1"
_AUDIT_ENTRY = f"SELECT rowid, entry_id, entry_id FROM entries WHERE entry_id = ({_AUDIT})"
_FACILITY = "SELECT rowid, entry_id, facility_id FROM facilities ORDER BY tier DESC LIMIT 1"


@dataclass(frozen=True)
class Damage:
    """`column` of one row of `table` set to `value`, and a command that reads that row."""

    table: str
    column: str
    value: object
    #: SQL picking the row: its rowid, its key (as errors and doctor name it), and the
    #: argument the command names it by (`:batch` is the demo batch's id).
    row: str
    #: `{arg}`, `{batch}` and `{out}` are filled in; None where only doctor reads the row.
    command: tuple[str, ...] | None


CASES = {
    # An entry's proof and anchor (views._anchored), through `entry show` and a bundle.
    "anchor-tx-hash": Damage(
        "anchors", "tx_hash", "abc", _ANCHOR_OF.format(_BATCH_ENTRY), ("entry", "show", "{arg}")
    ),
    "anchor-chain-id": Damage(
        "anchors",
        "chain_id",
        "abc",
        _ANCHOR_OF.format(_BATCH_ENTRY),
        ("export", "{batch}", "-o", "{out}/b.json"),
    ),
    # Inclusion checked against a tree size that is text (verify/integrity, merkle).
    "anchor-size": Damage(
        "anchors", "size", "abc", _ANCHOR_OF.format(_BATCH_ENTRY), ("verify", "{batch}")
    ),
    # The anchors' blocks compared with the chain's (mirror/sync._first_changed).
    "anchor-block": Damage(
        "anchors", "block_number", "abc", _ANCHOR_OF.format(_BATCH_ENTRY), ("status",)
    ),
    # An audit's anchor time (audits._anchor_view), too large for an integer.
    "anchor-timestamp": Damage(
        "anchors", "timestamp", 1e300, _ANCHOR_OF.format(_AUDIT), ("audit", "list")
    ),
    # A leaf index too large for an integer (views._anchored's proof).
    "leaf-run-first-leaf": Damage(
        "leaf_runs",
        "first_leaf",
        1e300,
        "SELECT r.rowid, r.root, e.entry_id FROM leaf_runs r JOIN entries e"
        " ON e.seq = r.first_seq ORDER BY r.first_seq LIMIT 1",
        ("proof", "{arg}"),
    ),
    # An audit's entry row as its views read it (audits.view).
    "audit-body-not-an-object": Damage("entries", "body", "[1]", _AUDIT_ENTRY, ("audit", "list")),
    "audit-issued-at": Damage("entries", "issued_at", "abc", _AUDIT_ENTRY, ("trace", "{batch}")),
    # An audit row and its entry that no longer agree (views.audits).
    "audit-facility": Damage(
        "audits",
        "facility",
        "abc",
        f"SELECT rowid, entry_id, entry_id FROM audits WHERE entry_id = ({_AUDIT})",
        ("audit", "list"),
    ),
    "audit-entry-kind": Damage("entries", "kind", "abc", _AUDIT_ENTRY, ("audit", "list")),
    "audit-entry-subject": Damage(
        "entries", "subject", "0x" + "1" * 64, _AUDIT_ENTRY, ("audit", "list")
    ),
    # Registrations and links as the supplier commands show them (suppliers.facilities,
    # suppliers.facility).
    "facility-id": Damage("facilities", "facility_id", "abc", _FACILITY, ("supplier", "list")),
    "facility-worker-count": Damage(
        "facilities", "worker_count", 1e300, _FACILITY, ("supplier", "show", "{arg}")
    ),
    "link-buyer": Damage(
        "supply_links",
        "buyer",
        "0xZZ",
        "SELECT rowid, entry_id, supplier FROM supply_links ORDER BY entry_id LIMIT 1",
        ("supplier", "show", "{arg}"),
    ),
    # A tier that is text, compared with the policy's (verify/policy).
    "facility-tier": Damage("facilities", "tier", "abc", _FACILITY, ("verify", "{batch}")),
    # The batch a lot names, and the day it was made (cli trace, provenance).
    "batch-id": Damage(
        "batches",
        "batch_id",
        "0xZZ",
        "SELECT rowid, entry_id, lot FROM batches WHERE batch_id = :batch",
        ("trace", "{arg}"),
    ),
    "batch-produced-at": Damage(
        "batches",
        "produced_at",
        "2026-02-30",
        "SELECT rowid, entry_id, lot FROM batches WHERE batch_id = :batch",
        ("export", "{batch}", "-o", "{out}/e.json", "--format", "epcis"),
    ),
    # Refs and findings no projection could derive (doctor's projection check).
    "entry-refs": Damage("entries", "refs", "5", _AUDIT_ENTRY, ("entry", "show", "{arg}")),
    "finding-indicators-not-json": Damage(
        "findings",
        "ilo_indicators",
        "{",
        "SELECT rowid, audit, audit FROM findings ORDER BY audit LIMIT 1",
        None,
    ),
}


def _damaged_copy(demo: tuple[Path, str], tmp_path: Path, damage: Damage) -> tuple[Path, str, str]:
    """A copy of the demo workspace with the case's row altered: (workspace, key, arg)."""
    workspace = tmp_path / "ws"
    shutil.copytree(demo[0], workspace)
    # Closed, not only committed: the copy to PostgreSQL must not race its WAL file away.
    with closing(sqlite3.connect(workspace / "mirror.sqlite")) as db, db:
        rowid, key, arg = db.execute(damage.row, {"batch": demo[1]}).fetchone()
        altered = db.execute(
            f'UPDATE {damage.table} SET "{damage.column}" = ? WHERE rowid = ?',
            (damage.value, rowid),
        )
        assert altered.rowcount == 1
    return workspace, str(key), str(arg)


def _stops_and_doctor_names(
    workspace: Path, damage: Damage, key: str, fill: dict[str, str]
) -> None:
    """The damaged row's command stops in one line, exit 2; doctor names the row, exit 1."""
    if damage.command is not None:
        # `run` lets any exception but SystemExit through: a traceback fails the test here.
        code, out, err = run(workspace, [a.format(**fill) for a in damage.command])
        assert code == 2, (code, out, err)
        assert "PASS" not in out
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "altered or damaged" in err, err
        assert key in err or f"its {damage.table} row" in err, err
        assert "`labourledger doctor`" in err, err
    code, out, err = run(workspace, ["doctor", "--json"])
    assert code == 1, (out, err)
    failed = [c["reason"] for c in json.loads(out) if c["outcome"] == "fail"]
    assert any(key in reason for reason in failed), (key, failed)


@pytest.mark.parametrize("name", CASES)
def test_a_damaged_row_stops_the_command_in_one_line_and_doctor_names_it(
    demo_workspace: tuple[Path, str],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    name: str,
) -> None:
    damage = CASES[name]
    workspace, key, arg = _damaged_copy(demo_workspace, tmp_path, damage)
    fill = {"arg": arg, "batch": demo_workspace[1], "out": str(tmp_path)}
    _stops_and_doctor_names(workspace, damage, key, fill)


@pytest.mark.parametrize("name", ["anchor-tx-hash", "audit-entry-subject", "batch-produced-at"])
def test_postgresql_holds_what_no_row_could_and_is_refused_alike(
    demo_workspace: tuple[Path, str],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    pg_url: str,
    name: str,
) -> None:
    # PostgreSQL refuses text in an integer column, but not an id that is not hex, another
    # facility's id, or a day no calendar has.
    damage = CASES[name]
    altered, key, arg = _damaged_copy(demo_workspace, tmp_path, damage)
    workspace = tmp_path / "pg"
    engine = _on_postgresql(altered, workspace, pg_url).mirror.engine
    assert engine.dialect.name == "postgresql"
    engine.dispose()
    fill = {"arg": arg, "batch": demo_workspace[1], "out": str(tmp_path)}
    _stops_and_doctor_names(workspace, damage, key, fill)


def test_a_proof_the_mirror_bends_is_not_verified_and_exits_1(
    demo_workspace: tuple[Path, str],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    # A leaf index that is a number still, but not the entry's: the path derived from it
    # leads nowhere the chain holds.
    shifted = Damage("leaf_runs", "first_leaf", 1, CASES["leaf-run-first-leaf"].row, None)
    workspace, _, entry_id = _damaged_copy(demo_workspace, tmp_path, shifted)
    code, out, err = run(workspace, ["proof", entry_id])
    assert code == 1 and "NOT verified" in out and "`labourledger doctor`" in err
    code, out, _ = run(workspace, ["proof", entry_id, "--json"])
    assert code == 1 and json.loads(out)["verified"] is False
