"""Helpers for driving the `labourledger` CLI in tests, in process and as a subprocess."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from labourledger.cli import main
from labourledger.identifiers import make_os_id

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

PASSPHRASE = "correct horse battery staple"
FAST_ENV = {"LABOURLEDGER_PASSPHRASE": PASSPHRASE}
#: On a subprocess's PYTHONPATH: its sitecustomize lowers the scrypt cost of new keys.
FAST_KEYS = Path(__file__).resolve().parent / "fastkeys"
OS_COLUMNS = [
    "os_id",
    "name",
    "address",
    "country_code",
    "facility_type",
    "processing_type",
    "number_of_workers",
    "parent_company",
    "tier",
]
#: (country, facility type, processing, tier) cycled through by `facility_rows`.
PROFILES = [
    ("BD", "Final Product Assembly", "Cut and sew", 1),
    ("IN", "Textile or Material Production", "Knitting|Spinning", 2),
    ("VN", "Printing, Product Dyeing and Laundering", "Dyeing", 3),
    ("IN", "Raw Material Processing or Production", "Cotton ginning", 4),
]


def facility_rows(count: int, start: int = 0) -> list[dict[str, str]]:
    """`count` valid Open Supply Hub rows over four tiers and three countries."""
    rows = []
    for i in range(start, start + count):
        country, facility_type, processing, tier = PROFILES[i % len(PROFILES)]
        rows.append(
            {
                "os_id": make_os_id(country, f"2024{i:03d}"[-7:].rjust(7, "0"), f"{i:05d}"),
                "name": f"{facility_type.split()[0]} works {i}",
                "address": f"Plot {i}, Industrial Area",
                "country_code": country,
                "facility_type": facility_type,
                "processing_type": processing,
                "number_of_workers": str(50 + i) if i % 3 else "1001-5000",
                "parent_company": "" if i % 2 else "Example Group",
                "tier": str(tier),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write rows with the Open Supply Hub columns."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=OS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


class Cli:
    """Run CLI commands in process against one workspace; returns (exit code, stdout, stderr)."""

    def __init__(self, workspace: Path, capsys: pytest.CaptureFixture[str], mp: Any) -> None:
        self.workspace = workspace
        self.capsys = capsys
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)

    def run(self, *args: str) -> tuple[int, str, str]:
        """Run one command; never raises SystemExit."""
        self.capsys.readouterr()
        try:
            main(["--workspace", str(self.workspace), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; returns stdout."""
        code, out, err = self.run(*args)
        assert code == 0, f"{args} exited {code}: {err}"
        return out

    def json(self, *args: str) -> Any:
        """Run a command with --json and parse its stdout."""
        return json.loads(self.ok(*args, "--json"))


def cli_commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under a click group (`typer.main.get_command(app)`), by its path."""
    subcommands = getattr(group, "commands", None)
    if subcommands is None:
        yield path, group
        return
    for name, command in subcommands.items():
        yield from cli_commands(command, (*path, name))


def console_script() -> list[str]:
    """How to start the CLI as its own process."""
    script = shutil.which("labourledger", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "labourledger"]


def subprocess_env() -> dict[str, str]:
    """The environment for CLI subprocesses: the passphrase, and cheap new keys."""
    path = os.pathsep.join(filter(None, [str(FAST_KEYS), os.environ.get("PYTHONPATH")]))
    return os.environ | FAST_ENV | {"PYTHONPATH": path}


def brand_with_facilities(cli: Cli) -> None:
    """A fresh workspace with a funded brand key holding BRAND, and the example facilities
    registered."""
    cli.ok("init")
    cli.ok("keys", "new", "brand")
    cli.ok("keys", "fund", "brand")
    cli.ok("roles", "grant", "BRAND", "brand", "--key", "admin")
    cli.ok(
        "supplier",
        "import",
        str(Path(__file__).resolve().parents[1] / "examples" / "facilities.csv"),
    )


def brand_workspace(
    root: Path, entries: int, *, chain: str = "embedded", db: str | None = None
) -> Ledger:
    """A workspace whose funded brand recorded `entries` facilities, all pending."""
    from labourledger.ledger import Ledger

    ledger = Ledger.init(root, admin_passphrase=PASSPHRASE, chain=chain, db=db)
    keys = ledger.workspace.keys
    if chain != "embedded":
        keys.new("admin", PASSPHRASE)
        ledger.chain.fund(keys.address("admin"), 10**19)
        ledger.deploy(keys.unlock("admin", PASSPHRASE))
    keys.new("brand", PASSPHRASE)
    ledger.chain.fund(keys.address("brand"), 10**19)
    ledger.grant_role(keys.unlock("admin", PASSPHRASE), "BRAND", keys.address("brand"))
    bodies = [
        {"name": f"Mill {i}", "country": "IN", "address": f"Road {i}", "tier": 3}
        for i in range(entries)
    ]
    ledger.record_many("facility", bodies, keys.unlock("brand", PASSPHRASE))
    return ledger
