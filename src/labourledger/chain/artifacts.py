"""The compiled LabourLedger contract that ships inside the package."""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["artifact_path", "load_artifact"]


def artifact_path() -> Path:
    """Where the package keeps the artifact (in a checkout: inside `src/`)."""
    return Path(str(resources.files("labourledger.chain").joinpath("data", "LabourLedger.json")))


@functools.cache
def load_artifact() -> dict[str, Any]:
    """ABI, bytecode, runtime bytecode, compiler version and settings of LabourLedger."""
    text = artifact_path().read_text("utf-8")
    artifact: dict[str, Any] = json.loads(text)
    return artifact
