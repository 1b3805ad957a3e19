"""Measure labourledger's speed and gas; prints a table. Not a test: numbers vary by machine.

Run from a checkout with the npm tools installed:

    python benchmarks/run.py            # everything
    python benchmarks/run.py --quick    # smaller sizes

Measures: gas of deploy, of `anchor` at 1, 1,024 and 4,096 entries and of
`anchorIndexed` with 1, 64 and 1,024 indexed entries (embedded chain and anvil),
entries signed and verified per second on one core, the two-process acceptance
test, CSV import rows/s on SQLite and PostgreSQL, the time to anchor 5,000
pending entries, the demo, one verification, `verify` of a batch with 1,000
upstream facilities in a ledger of 20,000 entries, `trace` on a mirror of
100,000 facilities on SQLite and PostgreSQL, and the CLI's start-up as a ratio
to importing what it is built on (`--startup` measures only that).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import provenance  # noqa: E402
from clihelp import facility_rows, write_csv  # noqa: E402
from conftest import PG_URL, running_anvil  # noqa: E402

from labourledger import keys  # noqa: E402
from labourledger.chain import LedgerChain, open_embedded, open_rpc  # noqa: E402
from labourledger.envelope import Domain, sign_entry  # noqa: E402
from labourledger.ledger import Ledger  # noqa: E402
from labourledger.suppliers import facility_body_from_row  # noqa: E402

PASS = "benchmark passphrase"
rows: list[tuple[str, str, str]] = []


def record(what: str, value: str, unit: str) -> None:
    """Add one measurement to the table."""
    rows.append((what, value, unit))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gas(chain: LedgerChain, label: str) -> None:
    admin = Account.create()
    chain.fund(admin.address, 10**20)
    record(f"gas: deploy ({label})", f"{chain.deploy(admin).gas_used:,}", "gas")
    for size in (1, 1024, 4096):
        receipt = chain.anchor(admin, keccak(text=f"{label} {size} {time.time()}"), size)
        record(f"gas: anchor {size:,} entries ({label})", f"{receipt.gas_used:,}", "gas")
    # anchorIndexed: the root's cost is what one entry costs less the marginal cost per entry
    # (measured between 1 and 64 entries); budgets 50,000 for the root, 3,000 per entry.
    used = {}
    for count in (1, 64, 1024):
        items = [
            (keccak(text=f"facility {i % 97}"), keccak(text=f"{count} {i}")) for i in range(count)
        ]
        root = keccak(text=f"{label} indexed {count} {time.time()}")
        used[count] = chain.anchor(admin, root, count, items).gas_used
        per_entry = (used[count] - used[1]) / (count - 1) if count > 1 else 0.0
        record(
            f"gas: anchorIndexed, {count:,} indexed ({label})",
            f"{used[count]:,}" + (f" ({per_entry:,.0f}/entry)" if count > 1 else ""),
            "gas",
        )
    marginal = (used[64] - used[1]) / 63
    record(f"gas: anchorIndexed root alone ({label})", f"{used[1] - marginal:,.0f}", "gas")


def sign_verify(count: int) -> None:
    os.sched_setaffinity(0, {0})  # one core
    domain = Domain(chain_id=1, verifying_contract="0x" + "11" * 20)
    key = Account.create().key
    body = {"name": "Mill", "country": "BD", "address": "Road 1", "tier": 2}
    entries = []
    elapsed = timed(
        lambda: entries.extend(
            sign_entry(
                private_key=key,
                domain=domain,
                kind="facility",
                subject=keccak(text=str(i)),
                body=body,
                issued_at=i,
            )
            for i in range(count)
        )
    )
    record("entries signed per second (one core)", f"{count / elapsed:,.0f}", "entries/s")
    elapsed = timed(lambda: all(e.recover(domain) and e.content_hash_matches() for e in entries))
    record("entries verified per second (one core)", f"{count / elapsed:,.0f}", "entries/s")
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def acceptance() -> None:
    elapsed = timed(
        lambda: subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                str(REPO / "tests" / "test_acceptance_two_processes.py"),
            ],
            check=True,
            capture_output=True,
        )
    )
    record("two-process acceptance test (pytest, incl. start-up)", f"{elapsed:.1f}", "s")


@contextmanager
def pg_schema() -> Iterator[str]:
    import psycopg

    name = f"ll_bench_{os.getpid()}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{name}"
        finally:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def import_and_anchor(count: int, db: str | None, label: str, tmp: Path) -> None:
    ledger = Ledger.init(tmp / f"ws-{label}", admin_passphrase=PASS, db=db)
    keys = ledger.workspace.keys
    keys.new("brand", PASS)
    ledger.chain.fund(keys.address("brand"), 10**19)
    ledger.grant_role(keys.unlock("admin", PASS), "BRAND", keys.address("brand"))
    brand = keys.unlock("brand", PASS)
    csv_file = write_csv(tmp / f"{label}.csv", facility_rows(count))
    elapsed = timed(lambda: ledger.import_facilities(csv_file, brand))
    record(f"CSV import, {count:,} rows ({label})", f"{count / elapsed:,.0f}", "rows/s")
    elapsed = timed(lambda: ledger.anchor(brand))
    record(f"anchor {count:,} pending entries ({label})", f"{elapsed:.2f}", "s")


def demo(tmp: Path) -> None:
    from labourledger.demo import run_demo

    result: list[object] = []
    elapsed = timed(lambda: result.append(run_demo(tmp / "demo", admin_passphrase=PASS)))
    record("labourledger demo (whole story, embedded chain)", f"{elapsed:.1f}", "s")
    ledger = Ledger.open(tmp / "demo")
    batch = ledger.trace("TEE-26-0425")["batch"]
    elapsed = timed(lambda: ledger.verify(batch))
    record("verify the demo batch (4 tiers, fresh ledger)", f"{elapsed:.2f}", "s")


def verify_large(tmp: Path, facilities_total: int, entries_total: int) -> None:
    ledger = Ledger.init(tmp / "verify-large", admin_passphrase=PASS)
    who = provenance.parties(ledger, ledger.workspace.keys.unlock("admin", PASS))
    [tree] = provenance.build_trees(ledger, who, facilities_total // 1000)
    signed = tree.entries + provenance.evidence(ledger, who, tree, audits_each=7)
    # Facilities outside the trace make up the rest of the ledger's entries.
    signed += [
        ledger.sign("facility", facility_body_from_row(provenance.facility_row(n, 1)), who.brand)
        for n in range(1_000_000, 1_000_000 + entries_total - len(signed))
    ]
    ledger.store(signed)
    ledger.anchor(who.brand)
    report: dict[str, Any] = {}
    elapsed = timed(lambda: report.update(ledger.verify(tree.top)))
    upstream = len(report["stages"])
    record(
        f"verify a batch: {upstream:,} upstream facilities, {len(signed):,} entries "
        f"({report['verdict']}, {len(report['checks']):,} checks)",
        f"{elapsed:.1f}",
        "s",
    )
    for how, quick in (("full", False), ("--quick", True)):
        results: list[Any] = []
        elapsed = timed(lambda: results.extend(ledger.doctor(quick=quick)))  # noqa: B023
        failed = [r.check for r in results if r.outcome.value == "fail"]
        record(
            f"doctor {how} on that mirror of {len(signed):,} entries "
            f"({', '.join(failed) or 'no check'} failed)",
            f"{elapsed:.1f}",
            "s",
        )


def trace_large(tmp: Path, trees: int) -> None:
    sqlite = Ledger.init(tmp / "trace-sqlite", admin_passphrase=PASS)
    who = provenance.parties(sqlite, sqlite.workspace.keys.unlock("admin", PASS))
    built = provenance.build_trees(sqlite, who, trees, links_only=1)
    entries = [e for tree in built for e in tree.entries]
    with pg_schema() as url:
        postgres = Ledger.init(tmp / "trace-pg", admin_passphrase=PASS, db=url)
        for label, ledger in (("SQLite", sqlite), ("PostgreSQL", postgres)):
            # trace reads only the mirror, so both store the same signed entries.
            elapsed = timed(lambda: ledger.store(entries))  # noqa: B023
            record(f"store {len(entries):,} entries, then ANALYZE ({label})", f"{elapsed:.0f}", "s")
            trace_twice(ledger, built, f"{trees * 1000:,} facilities, {label}")


def trace_twice(ledger: Ledger, built: list[provenance.Tree], where: str) -> None:
    for how, tree in (("transformations", built[0]), ("supply links", built[-1])):
        times = []
        for _ in range(3):
            result: dict[str, Any] = {}
            times.append(timed(lambda: result.update(ledger.trace(tree.top))))  # noqa: B023
        facilities = len({n.get("facility") for n in result["nodes"]})
        record(
            f"trace via {how}: {len(result['nodes']):,} nodes at {facilities:,} facilities; "
            f"mirror of {where} (best of 3)",
            f"{min(times):.2f}",
            "s",
        )


def startup(tmp: Path, runs: int = 11) -> None:
    """`--help`, `--version` and `status` against the imports they cannot avoid (issue 12's
    goal: within 1.5x). Each command runs interleaved with its reference and the fastest of
    `runs` counts, so a busy machine slows both alike. Bytecode is cached as in an installed
    wheel (the first, unmeasured run writes it)."""
    Ledger.init(tmp / "startup", admin_passphrase=PASS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LABOURLEDGER_WORKSPACE"] = str(tmp / "startup")
    cli = [sys.executable, "-m", "labourledger"]
    pairs = [
        ("labourledger --help", [*cli, "--help"], "import typer, rich"),
        ("labourledger --version", [*cli, "--version"], "import typer, rich"),
        ("labourledger status (embedded)", [*cli, "status"], "import sqlalchemy, web3"),
    ]
    for what, command, reference in pairs:
        runs_of = {"cmd": command, "ref": [sys.executable, "-c", reference]}
        best = dict.fromkeys(runs_of, float("inf"))
        for i in range(runs + 1):
            for key, argv in runs_of.items():
                elapsed = timed(
                    lambda argv=argv: subprocess.run(argv, env=env, check=True, capture_output=True)
                )
                if i:
                    best[key] = min(best[key], elapsed)
        record(f"{what} / python -c {reference!r}", f"{best['cmd'] / best['ref']:.2f}", "x")
        record(f"  {what}", f"{best['cmd'] * 1000:.0f}", "ms")
        record(f"  python -c {reference!r}", f"{best['ref'] * 1000:.0f}", "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--startup", action="store_true", help="only the CLI's start-up")
    parser.add_argument(
        "--verify", action="store_true", help="only verify and doctor on a large ledger"
    )
    args = parser.parse_args()
    keys.SCRYPT_N = 2**10  # throwaway benchmark keys
    count = 500 if args.quick else 5000
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.verify:
            verify_large(tmp, 1000, 2000 if args.quick else 20000)
            print_table()
            return
        startup(tmp)
        if args.startup:
            print_table()
            return
        gas(open_embedded(tmp / "gas.sqlite"), "embedded")
        with running_anvil() as url:
            gas(open_rpc(url), "anvil")
        sign_verify(2000 if args.quick else 20000)
        import_and_anchor(count, None, "SQLite", tmp)
        with pg_schema() as url:
            import_and_anchor(count, url, "PostgreSQL", tmp)
        demo(tmp)
        verify_large(tmp, 1000, 2000 if args.quick else 20000)
        trace_large(tmp, 5 if args.quick else 100)
        if not args.quick:
            acceptance()
    print_table()


def print_table() -> None:
    table = Table("measurement", "value", "unit", title="labourledger benchmarks")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
