"""The built wheel carries the contract artifact, the migrations and the demo's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]


def test_installed_wheel_runs_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
    )
    [wheel] = tmp_path.glob("labourledger-*.whl")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    env = os.environ | {"PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-m", "labourledger", "demo", "--dir", str(tmp_path / "demo"), "--json"],
        cwd=tmp_path,  # far from the checkout: data must come from the wheel
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["verdict_before"], result["verdict_after"]) == ("FAIL", "PASS")
    located = subprocess.run(
        [sys.executable, "-c", "import labourledger; print(labourledger.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert located.stdout.startswith(str(site))
