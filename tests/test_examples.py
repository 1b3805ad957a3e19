"""The example script runs as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]


def test_run_demo_example(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "run_demo.py"), str(tmp_path / "story")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "verify TEE-26-0425: FAIL" in run.stdout
    assert "verdict: PASS" in run.stdout
    assert "tier 4: lot COT-26-014 at Adilabad Organic Cotton Growers (IN)" in run.stdout
    assert (tmp_path / "story" / "workspace" / "tracing-report.html").is_file()
