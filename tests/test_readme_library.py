"""README's "As a library" example runs as printed, and names only the public API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import subprocess_env

import labourledger

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[1] / "README.md"


def _library_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## As a library", 1)[1].split("\n## ", 1)[0]


def test_the_library_example_runs(tmp_path: Path) -> None:
    [code] = re.findall(r"```python\n(.*?)```", _library_section(), flags=re.S)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"anchored 1 entry in tx 0x[0-9a-f]{64}\n", done.stdout), done.stdout


def test_the_public_names_are_listed_and_load() -> None:
    section = _library_section()
    for name in labourledger.__all__:
        assert f"`{name}`" in section, name
        assert getattr(labourledger, name) is not None
    for private in ("chain", "mirror", "cli"):
        assert f"`labourledger.{private}`" in section
