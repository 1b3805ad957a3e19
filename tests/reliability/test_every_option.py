"""Every option and argument of every command, given values no command should take: each
run ends with a one-line error or succeeds, never with a traceback.

The corpus (badinputs.py) says what each refusal must say and that nothing is written;
this covers what the corpus does not name, including any option added later. A fuzz of
this kind found six tracebacks (a batch id of 64 non-hex digits, a file name the system
refuses to stat, an amount beyond 2**256 wei, a tier beyond SQLite's integers, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from clihelp import PASSPHRASE, cli_commands
from harness import run
from test_bad_inputs import World, world  # noqa: F401 - the fixture, built for this module

from labourledger import keys
from labourledger.cli import app

pytestmark = pytest.mark.integration

#: Values no option or argument takes as they are; `{dir}` is the test's own folder.
BAD = ["", "-1", "9" * 25, "1e400", "0x" + "g" * 64, "0x", "\u202e", "A" * 300,
       "2026-02-30", "a\nb", "{dir}/" + "n" * 300, "{dir}"]  # fmt: skip
#: What the other arguments of a command get: an id nothing has.
FILLER = "0x" + "11" * 32
#: Commands that serve or tell a story until stopped, or compile the contract (seconds a run).
SKIP = {("serve",), ("demo",), ("contracts", "build")}


def _runs() -> Iterator[list[str]]:
    """Each command once per parameter and bad value: that value in that place."""
    for path, command in cli_commands(typer.main.get_command(app)):
        if path in SKIP:
            continue
        params = [p for p in command.params if p.name != "help"]
        arguments = [p for p in params if type(p).__name__.endswith("Argument")]
        for param in params:
            is_argument = param in arguments
            if not is_argument and getattr(param, "is_flag", False):
                continue
            for bad in BAD:
                args = [bad if a is param else FILLER for a in arguments]
                if not is_argument:
                    args += [param.opts[-1], bad]
                yield [*path, *args]


def test_no_value_in_any_place_ends_in_a_traceback(
    world: World,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(keys, "SCRYPT_N", 2**10)
    monkeypatch.chdir(tmp_path)  # what a command writes where it runs lands here
    problems, runs = [], 0
    for template in _runs():
        args = [a.format(dir=tmp_path) for a in template]
        runs += 1
        try:
            code, _, err = run(world.workspace, args)
        except Exception as exc:  # what the test looks for
            problems.append(f"{' '.join(args)[:120]!r}: {type(exc).__name__}: {exc}"[:300])
            continue
        lines = err.strip().splitlines()
        if "Traceback" in err or (code and not lines[0].startswith(("error:", "Usage:"))):
            problems.append(f"{' '.join(args)[:120]!r}: exit {code}: {err[-200:]}")
    assert runs > 1000
    assert problems == []
