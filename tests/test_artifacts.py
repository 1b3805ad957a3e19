"""The compiled contract shipped in the package is exactly what the source compiles to."""

from __future__ import annotations

from pathlib import Path

import pytest

from labourledger.chain.artifacts import load_artifact
from labourledger.chain.compile import build_artifact, find_node_modules
from labourledger.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_shipped_artifact_equals_a_fresh_compile() -> None:
    fresh = build_artifact(REPO / "contracts" / "LabourLedger.sol", find_node_modules(REPO))
    assert fresh == load_artifact()
    assert {e["name"] for e in fresh["abi"] if e["type"] == "error"} >= {
        "EmptyBatch",
        "BatchTooLarge",
        "RootAlreadyAnchored",
        "NotAMember",
    }


def test_compile_error_names_the_contract(tmp_path: Path) -> None:
    broken = tmp_path / "contracts" / "LabourLedger.sol"
    broken.parent.mkdir()
    broken.write_text("pragma solidity ^0.8.24; contract LabourLedger { function f( }")
    with pytest.raises(InputError, match="did not compile"):
        build_artifact(broken, find_node_modules(REPO))
