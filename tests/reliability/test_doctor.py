"""`doctor` re-verifies the mirror: each alteration someone with database access could make
is found and named, on a copy of a workspace the demo filled (facilities, audits with
findings, products, batches, transformations, two anchors)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE
from harness import cheap_keys, run

from labourledger.demo import run_demo

pytestmark = pytest.mark.integration

Alteration = Callable[[sqlite3.Connection], str]
"""Changes the mirror; returns the id of the entry (or root) it changed."""


def _flip(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def _one(db: sqlite3.Connection, query: str) -> Any:
    return db.execute(query).fetchone()


def _body(db: sqlite3.Connection) -> str:
    entry_id, body = _one(db, "SELECT entry_id, body FROM entries WHERE kind = 'facility'")
    db.execute(
        "UPDATE entries SET body = ? WHERE entry_id = ?",
        (json.dumps(json.loads(body) | {"tier": 1, "name": "Sunny Mill"}), entry_id),
    )
    return str(entry_id)


def _set(column: str, value: str, kind: str) -> Alteration:
    """`column` of the first entry of `kind` set to `value`, which no entry could hold."""

    def alter(db: sqlite3.Connection) -> str:
        (entry_id,) = _one(db, f"SELECT entry_id FROM entries WHERE kind = '{kind}' LIMIT 1")
        db.execute(f"UPDATE entries SET {column} = ? WHERE entry_id = ?", (value, entry_id))
        return str(entry_id)

    return alter


def _column(table: str, column: str, key: str = "entry_id") -> Alteration:
    def alter(db: sqlite3.Connection) -> str:
        owner, value = _one(db, f"SELECT {key}, {column} FROM {table} ORDER BY {key} LIMIT 1")
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (_flip(value), owner))
        return str(owner)

    return alter


def _proof_path(db: sqlite3.Connection) -> str:
    # Anchors made here store no path (it is derived from the root's leaf runs): one written
    # in beside the leaves is read as stored, and must lead to the root.
    entry_id, root, leaf = _one(
        db,
        "SELECT e.entry_id, r.root, r.first_leaf FROM leaf_runs r"
        " JOIN entries e ON e.seq = r.first_seq LIMIT 1",
    )
    db.execute(
        "INSERT INTO proofs (entry_id, root, leaf_index, path) VALUES (?, ?, ?, ?)",
        (entry_id, root, leaf, json.dumps([root])),
    )
    return str(entry_id)


def _leaf_index(db: sqlite3.Connection) -> str:
    first, root = _one(db, "SELECT first_seq, root FROM leaf_runs LIMIT 1")
    db.execute("UPDATE leaf_runs SET first_leaf = first_leaf + 1 WHERE first_seq = ?", (first,))
    return str(root)


def _deleted_proof(db: sqlite3.Connection) -> str:
    # The last leaf of a run left out of it.
    first, root = _one(db, "SELECT first_seq, root FROM leaf_runs WHERE last_seq > first_seq")
    db.execute("UPDATE leaf_runs SET last_seq = last_seq - 1 WHERE first_seq = ?", (first,))
    return str(root)


def _facility_name(db: sqlite3.Connection) -> str:
    (entry_id,) = _one(db, "SELECT entry_id FROM facilities LIMIT 1")
    db.execute("UPDATE facilities SET name = 'Model Factory' WHERE entry_id = ?", (entry_id,))
    return str(entry_id)


def _findings_closed(db: sqlite3.Connection) -> str:
    (audit,) = _one(db, "SELECT audit FROM findings WHERE status != 'closed' LIMIT 1")
    db.execute("UPDATE findings SET status = 'closed' WHERE audit = ?", (audit,))
    return str(audit)


def _block_hash(db: sqlite3.Connection) -> str:
    root, block_hash = _one(db, "SELECT root, block_hash FROM anchors LIMIT 1")
    db.execute("UPDATE anchors SET block_hash = ? WHERE root = ?", (_flip(block_hash), root))
    return str(root)


def _anchor_size(db: sqlite3.Connection) -> str:
    (root,) = _one(db, "SELECT root FROM anchors LIMIT 1")
    db.execute("UPDATE anchors SET size = size + 1 WHERE root = ?", (root,))
    return str(root)


ALTERATIONS: dict[str, tuple[Alteration, str]] = {
    # name: (alteration, the check that must fail)
    "body": (_body, "entries"),
    "salt": (_column("entries", "salt"), "entries"),
    "signature": (_column("entries", "signature"), "entries"),
    "content-hash": (_column("entries", "content_hash"), "entries"),
    "body-not-json": (_set("body", "not json", "audit"), "entries"),
    "signature-cut-short": (_set("signature", "0x12", "batch"), "entries"),
    "proof-path": (_proof_path, "proofs"),
    "leaf-index": (_leaf_index, "proofs"),
    "deleted-proof": (_deleted_proof, "proofs"),
    "facility-name-in-projection": (_facility_name, "projections"),
    "findings-closed": (_findings_closed, "projections"),
    "anchor-block-hash": (_block_hash, "chain anchors"),
    "anchor-size": (_anchor_size, "chain anchors"),
}


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    with cheap_keys():
        root = tmp_path_factory.mktemp("doctor") / "demo"
        result = run_demo(root, admin_passphrase=PASSPHRASE)
        code, _, err = run(result.workspace, ["sync"])
        assert code == 0, err
        yield result.workspace, result.batch


def _doctor(workspace: Path, *flags: str) -> tuple[int, dict[str, dict[str, Any]]]:
    code, out, err = run(workspace, ["doctor", "--json", *flags])
    assert "Traceback" not in err
    return code, {c["check"]: c for c in json.loads(out)}


def test_an_untouched_mirror_is_healthy(demo_workspace: tuple[Path, str], tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace[0], copy)
    code, checks = _doctor(copy)
    assert code == 0, checks
    for name in ("entries", "proofs", "projections", "chain anchors"):
        assert checks[name]["outcome"] == "pass", checks[name]
    assert checks["entries"]["reason"].startswith("all ")


@pytest.mark.parametrize("name", ALTERATIONS)
def test_doctor_finds_the_alteration(
    demo_workspace: tuple[Path, str], tmp_path: Path, name: str
) -> None:
    alteration, check = ALTERATIONS[name]
    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace[0], copy)
    with sqlite3.connect(copy / "mirror.sqlite") as db:
        changed = alteration(db)
    code, checks = _doctor(copy)
    assert code == 1
    assert checks[check]["outcome"] == "fail"
    assert changed in checks[check]["reason"]
    failed = {n for n, c in checks.items() if c["outcome"] == "fail"}
    assert check in failed


def test_quick_samples_and_says_so(demo_workspace: tuple[Path, str], tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace[0], copy)
    code, checks = _doctor(copy, "--quick")
    assert code == 0
    assert " of " in checks["entries"]["reason"] and not checks["entries"]["reason"].startswith(
        "all"
    )


@pytest.mark.parametrize("name", ["body-not-json", "signature-cut-short"])
def test_a_row_no_entry_could_hold_stops_verify_in_one_line(
    demo_workspace: tuple[Path, str], tmp_path: Path, name: str
) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace[0], copy)
    with sqlite3.connect(copy / "mirror.sqlite") as db:
        changed = ALTERATIONS[name][0](db)
    says = f"{changed}: its row in the mirror"
    for command in (["verify", demo_workspace[1]], ["export", demo_workspace[1], "-o", "b.json"]):
        code, _, err = run(copy, command)
        assert code == 2 and "Traceback" not in err, err
        assert err.strip().startswith("error: ") and says in err and "altered or damaged" in err, (
            err
        )
