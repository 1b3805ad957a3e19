"""Running the CLI for the reliability tests, in this process or its own, and measuring
what a command left in a workspace."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from clihelp import PASSPHRASE, console_script, subprocess_env

from labourledger import keys
from labourledger.cli import main

SUBPROCESS_SECONDS = 120


def run(workspace: Path, args: list[str]) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--workspace", str(workspace), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def succeeding(workspace: Path) -> Callable[..., str]:
    """`run` in `workspace` of a command that must succeed: its stdout."""

    def ok(*args: str) -> str:
        code, out, err = run(workspace, list(args))
        assert code == 0, f"{args}: {err}"
        return out

    return ok


@contextmanager
def cheap_keys() -> Iterator[None]:
    """The passphrase set and scrypt cheap while the block runs: for a module's fixture,
    which cannot take monkeypatch."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
        mp.setattr(keys, "SCRYPT_N", 2**10)
        yield


def run_process(workspace: Path, args: list[str]) -> tuple[int, str, str]:
    """The CLI in a process of its own, for inputs that could crash the interpreter."""
    done = subprocess.run(
        [*console_script(), "--workspace", str(workspace), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=SUBPROCESS_SECONDS,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def mirror_counts(workspace: Path, tables: tuple[str, ...]) -> dict[str, int]:
    """Row counts of the workspace's SQLite mirror, read without writing to it."""
    uri = f"file:{workspace / 'mirror.sqlite'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


def anchored_entries(workspace: Path) -> int:
    """How many of the mirror's entries are in an anchor: in a leaf run (an anchor made
    here) or with a stored proof (carried in)."""
    uri = f"file:{workspace / 'mirror.sqlite'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        (in_runs,) = db.execute(
            "SELECT count(*) FROM entries e"
            " JOIN leaf_runs r ON e.seq BETWEEN r.first_seq AND r.last_seq"
        ).fetchone()
        (carried,) = db.execute("SELECT count(*) FROM proofs").fetchone()
    return int(in_runs) + int(carried)


def footprint(workspace: Path) -> dict[str, object]:
    """What a command could have written: mirror rows, evidence, keys and config."""
    found: dict[str, object] = dict(
        mirror_counts(
            workspace, ("entries", "anchors", "leaf_runs", "proofs", "facilities", "entry_refs")
        )
    )
    found["evidence files"] = sorted(os.listdir(workspace / "evidence"))
    found["keys"] = sorted(os.listdir(workspace / "keys"))
    found["config"] = hashlib.sha256((workspace / "config.toml").read_bytes()).hexdigest()
    return found
