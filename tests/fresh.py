"""Scripts that fork run in a fresh interpreter: a thread some other test left running
would keep `parallel.map_chunks` in this process, and the script would prove nothing."""

from __future__ import annotations

import subprocess
import sys


def assert_prints_ok(script: str, *args: str) -> None:
    """Run `script` in a new Python process (`args` in its sys.argv[1:]) and expect it to
    print only "ok"."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr
