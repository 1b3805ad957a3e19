"""The `labourledger` command (and `python -m labourledger`).

`labourledger --version` is answered here, before the command line (typer and every
command's module) is imported: the version needs none of it.

A command runs with the cyclic garbage collector off: it is one bounded run whose start-up
imports web3, SQLAlchemy and py-evm, a few hundred thousand objects that live to the end,
and the collector's repeated walks over them were 8% of `status`. Reference counting still
frees everything not in a cycle; `serve`, which runs for days, turns collection back on.
"""

from __future__ import annotations

import sys


def version_line() -> str:
    """`labourledger X.Y.Z`, from the installed package's metadata (the one version source)."""
    from importlib.metadata import version

    return f"labourledger {version('labourledger')}\n"


def main() -> None:
    """Entry point of the `labourledger` console script."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_line())
        raise SystemExit(0)
    import gc

    gc.disable()
    from labourledger.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
