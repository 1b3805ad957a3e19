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


def test_hotline_example(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "hotline.py"), str(tmp_path / "hotline")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(
        line.startswith("received: worker grievances ATTENTION (Saigon Knit Fabrics: 1 unresolved")
        for line in lines
    )
    assert any(line.startswith("substantiated: worker grievances ATTENTION") for line in lines)
    if lines[0].endswith(": PASS"):  # the demo's batch passed before the hotline
        assert "  the batch: ATTENTION" in lines
    assert (
        "the report shows: 1 worker grievance (remediated 1; withholding_of_wages 1, wages 1)"
        in (run.stdout)
    )
    assert "(proof checked: True), remediated: acknowledged" in run.stdout
    code = next(line for line in lines if "receipt read out once:" in line).split()[-1]
    assert run.stdout.count(code) == 1
    page = (tmp_path / "hotline" / "hotline-report.html").read_text()
    assert "Worker grievances from accredited channels (counts only)" in page
    bare = code.replace("-", "").encode()
    for path in (tmp_path / "hotline").rglob("*"):
        if path.is_file():
            assert code.encode() not in path.read_bytes() and bare not in path.read_bytes()
