"""Every case of the bad-input corpus (badinputs.py) against one workspace: each must end
with its exit code and a one-line reason, and leave the workspace as it was: the same
entries, anchors, proofs, evidence files, keys and config, and no file of its own.

The last test runs each command the cases break with its good values, so a refusal is
known to come from the bad value and not from a broken starting point.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from badinputs import (
    ATTEST,
    BATCH_ADD,
    GOOD_ROWS,
    LINK_ADD,
    PRODUCT_ADD,
    SUPPLIER_ADD,
    TRANSFORM,
    Case,
    _csv,
    all_cases,
    entry_file_edits,
)
from harness import cheap_keys, footprint, run, run_process, succeeding

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MILL = "IN2024007SPNC3S"
KNIT = "BD2024001KNTR4D"
GTIN = "4006381333931"


@dataclass(frozen=True)
class World:
    """A brand's workspace with facilities, a product, two batches and an anchor; keys for
    a supplier and an auditor; and a valid signed entry file to break."""

    workspace: Path
    values: dict[str, str]
    base_entry_file: dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with cheap_keys():
        root = tmp_path_factory.mktemp("bad-inputs")
        ws = root / "ws"
        ok = succeeding(ws)

        ok("init")
        for name in ("brand", "supplier", "auditor"):
            ok("keys", "new", name)
        for name in ("brand", "supplier", "auditor"):  # so the chain, not the balance, refuses
            ok("keys", "fund", name)
        ok("roles", "grant", "BRAND", "brand", "--key", "admin")
        ok("roles", "grant", "AUDITOR", "auditor", "--key", "admin")
        ok("roles", "grant", "SUPPLIER", "supplier", "--key", "brand")
        ok("supplier", "import", str(REPO / "examples" / "facilities.csv"), "--key", "brand")
        ok("product", "add", "--gtin", GTIN, "--name", "Tee", "--brand", "Acme", "--key", "brand")
        for lot in ("L-IN", "L-OUT"):
            ok("batch", "add", "--product", GTIN, "--lot", lot, "--quantity", "100",
               "--produced-at", "2026-05-01", "--facility", MILL, "--key", "brand")  # fmt: skip
        ok("anchor", "--key", "brand")
        base = root / "base.json"
        ok("attest", MILL, "--claim", "no_recruitment_fees", "--from", "2026-01-01",
           "--until", "2026-12-31", "--key", "supplier", "-o", str(base))  # fmt: skip
        values = {
            "mill": MILL,
            "mill_id": json.loads(ok("supplier", "show", MILL, "--json"))["facility_id"],
            "knit_id": json.loads(ok("supplier", "show", KNIT, "--json"))["facility_id"],
            "ghost_id": "0x" + "66" * 32,
            "lot_in": "L-IN",
            "lot_out": "L-OUT",
            "gtin": GTIN,
        }
        yield World(ws, values, json.loads(base.read_text()))


def _check_refused(world: World, folder: Path, case: Case, args: list[str]) -> tuple[int, str, str]:
    before, files = footprint(world.workspace), sorted(os.listdir(folder))
    runner = run_process if case.subprocess else run
    code, out, err = runner(world.workspace, args)
    assert code == case.exit, f"exit {code}, expected {case.exit}: {err}"
    assert "Traceback" not in err
    assert err.lstrip().startswith(("error:", "Usage:")), err
    assert case.expect.lower() in err.lower(), err
    assert footprint(world.workspace) == before, "the workspace changed"
    assert sorted(os.listdir(folder)) == files, "a file was left behind"
    return code, out, err


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_refused_and_nothing_written(world: World, case: Case, tmp_path: Path) -> None:
    _write(tmp_path, case.files)
    args = [a.format(dir=tmp_path, **world.values) for a in case.args]
    _check_refused(world, tmp_path, case, args)


@pytest.mark.parametrize(
    ("name", "edit", "expect"), entry_file_edits(), ids=[e[0] for e in entry_file_edits()]
)
def test_broken_entry_file_refused(
    world: World, name: str, edit: Any, expect: str, tmp_path: Path
) -> None:
    (tmp_path / "in.json").write_text(json.dumps(edit(world.base_entry_file)))
    case = Case(name, ("import", "{dir}/in.json"), expect=expect)
    _check_refused(world, tmp_path, case, ["import", str(tmp_path / "in.json")])


def test_corpus_size() -> None:
    assert len(all_cases()) + len(entry_file_edits()) >= 150


def test_the_good_versions_are_accepted(world: World, tmp_path: Path) -> None:
    """Runs last: each command the corpus breaks succeeds with its good values."""
    (tmp_path / "base.json").write_text(json.dumps(world.base_entry_file))
    (tmp_path / "f.csv").write_bytes(_csv(GOOD_ROWS))
    (tmp_path / "invoice.txt").write_bytes(b"invoice INV-1 for 100 kg of yarn\n")
    commands = [
        ("import", "{dir}/base.json"),
        ("supplier", "import", "{dir}/f.csv", "--key", "brand"),
        SUPPLIER_ADD, LINK_ADD, ATTEST, PRODUCT_ADD, BATCH_ADD, TRANSFORM,
    ]  # fmt: skip
    for command in commands:
        args = [a.format(dir=tmp_path, **world.values) for a in command]
        code, _, err = run(world.workspace, args)
        assert code == 0, f"{command}: {err}"
    assert len(os.listdir(world.workspace / "evidence")) == 1
