"""The `labourledger` command (and `python -m labourledger`).

`labourledger --version` is answered here, before the command line (typer and every
command's module) is imported: the version needs none of it.
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
    from labourledger.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
