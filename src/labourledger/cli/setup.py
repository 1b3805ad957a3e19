"""`init`, `status`, `db upgrade` and `contracts build|deploy`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from labourledger.cli.context import next_step, options_for, out, passphrase, progress_bar, state

if TYPE_CHECKING:
    from labourledger.status import WorkspaceStatus

EMBEDDED_LABEL = "embedded (local development chain: evidence here convinces no one else)"


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("init")(init)
    app.command("status")(status)
    app.command("doctor")(doctor)
    db = typer.Typer(help="The SQL mirror.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    contracts = typer.Typer(help="The LabourLedger contract.", no_args_is_help=True)
    contracts.command("build")(contracts_build)
    contracts.command("deploy")(contracts_deploy)
    app.add_typer(contracts, name="contracts")


def init(
    ctx: typer.Context,
    chain: Annotated[
        str, typer.Option("--chain", help="'embedded' or a JSON-RPC URL.")
    ] = "embedded",
    contract: Annotated[
        str | None, typer.Option("--contract", help="Attach to this deployment.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Mirror URL (default: SQLite inside).")
    ] = None,
    confirmations: Annotated[
        int | None,
        typer.Option("--confirmations", help="Blocks deep before an anchor is final (0 / 12)."),
    ] = None,
) -> None:
    """Create a workspace: config, keys, mirror, chain state, evidence store.

    Example: labourledger init --chain http://127.0.0.1:8545 --db postgresql+psycopg://u@h/db
    """
    from labourledger.ledger import Ledger
    from labourledger.opening import makes_admin_key

    st = state(ctx)
    admin_pass = (
        passphrase("Passphrase for the new admin key", confirm=True)
        if makes_admin_key(chain, contract)
        else None
    )
    with options_for(
        chain="--chain", confirmations="--confirmations", mirror="--db", workspace="--workspace"
    ):
        ledger = Ledger.init(
            st.workspace,
            chain=chain,
            contract=contract,
            db=db,
            confirmations=confirmations,
            admin_passphrase=admin_pass,
        )
    from labourledger.status import workspace_status

    st.opened = ledger
    found = workspace_status(ledger, with_roles=False)
    st.emit(found.to_json(), lambda: _print_status(found))
    if not ledger.config.chain.contract:
        next_step(
            "create or import an admin key (`labourledger keys new admin`), fund it "
            "(`labourledger keys fund admin`), then `labourledger contracts deploy --key admin`"
        )
    elif chain == "embedded":
        next_step("create a signing key: `labourledger keys new brand`")
    else:
        next_step(
            "create your signing key, named after your role: `labourledger keys new brand` "
            "(or auditor, supplier, channel)"
        )


def _print_status(found: WorkspaceStatus) -> None:
    from rich.table import Table

    table = Table(show_header=False, box=None)
    chain = EMBEDDED_LABEL if found.embedded else found.chain
    rows = [
        ("workspace", found.workspace),
        ("chain", f"{chain} (chain id {found.chain_id})"),
        ("contract", found.contract or "not deployed"),
        ("mirror", found.mirror),
        ("entries", f"{found.pending} pending, {found.anchored} anchored"),
        ("last synced block", str(found.last_synced_block or "never synced")),
    ]
    if found.reorged_anchors:
        rows.append(("reorged", f"{found.reorged_anchors} anchor block(s) replaced by the chain"))
    if found.as_of_block is not None:
        rows.append(("chain", f"unreachable: the mirror's word as of block {found.as_of_block}"))
    for name, value in rows:
        table.add_row(f"[bold]{name}[/bold]", value)
    for key in found.keys or []:
        table.add_row(
            f"[bold]key {key.name}[/bold]", f"{key.address}  {', '.join(key.roles) or 'no role'}"
        )
    out.print(table)


def status(ctx: typer.Context) -> None:
    """Chain, contract, local keys and their roles, pending and anchored entries.

    Example: labourledger status --json
    """
    from labourledger.status import workspace_status

    st = state(ctx)
    found = workspace_status(st.ledger)
    st.emit(found.to_json(), lambda: _print_status(found))
    if found.reorged_anchors:
        next_step("the chain replaced anchor blocks: run `labourledger sync`")
    elif found.pending:
        next_step(f"{found.pending} entries pending: run `labourledger anchor`")


def db_upgrade(ctx: typer.Context) -> None:
    """Apply the mirror's database migrations.

    Example: labourledger db upgrade
    """
    st = state(ctx)
    st.ledger.mirror.upgrade()
    revision = st.ledger.mirror.current_revision()
    st.emit({"revision": revision}, lambda: out.print(f"mirror at revision {revision}"))


def contracts_build(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--source", help="The contract in a checkout.")] = Path(
        "contracts/LabourLedger.sol"
    ),
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here (default: contracts/ in the workspace)."),
    ] = None,
) -> None:
    """Recompile the contract (solc from LABOURLEDGER_SOLC, py-solc-x, or npm solc-js).

    The installed package's artifact is never overwritten; in a checkout, refresh the
    shipped one with -o src/labourledger/chain/data/LabourLedger.json.

    Example: labourledger contracts build -o /tmp/LabourLedger.json
    """
    from labourledger.chain.compile import build_contract

    st = state(ctx)
    with options_for(source="--source"):
        built = build_contract(source, output or st.workspace / "contracts" / "LabourLedger.json")
    data = {"path": str(built.path), "compiler": built.compiler}
    st.emit(data, lambda: out.print(f"wrote {built.path} (solc {built.compiler})"))


def contracts_deploy(ctx: typer.Context) -> None:
    """Deploy LabourLedger with --key as its admin and record it in the workspace.

    Example: labourledger contracts deploy --key admin
    """
    st = state(ctx)
    admin = st.sender("admin", purpose="deploy")
    address = st.ledger.deploy(admin)
    data = {"contract": address, "chain_id": st.ledger.config.chain.chain_id}
    st.emit(data, lambda: out.print(f"deployed LabourLedger at {address}"))
    next_step("grant roles: `labourledger roles grant BRAND brand --key admin`")


def doctor(
    ctx: typer.Context,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick", help="Re-verify a random sample of entries instead of all of them."
        ),
    ] = False,
) -> None:
    """Check the workspace, and re-verify what its mirror holds against the signed entries
    and the chain: entries, proofs, projections, anchors; permissions, schema, pending work.

    Example: labourledger doctor --json
    """
    st = state(ctx)
    with progress_bar(st, "re-verifying the mirror") as progress:
        results = st.ledger.doctor(quick=quick, progress=progress)
    from labourledger.cli.hints import step

    data = [r.to_dict(step) for r in results]

    def human() -> None:
        from rich.table import Table

        table = Table("check", "state", "detail")
        colours = {"pass": "green", "attention": "yellow", "fail": "red"}
        for r in data:
            table.add_row(r["check"], f"[{colours[r['outcome']]}]{r['outcome']}[/]", r["reason"])
        out.print(table)

    st.emit(data, human)
    if any(r["outcome"] == "fail" for r in data):
        raise typer.Exit(1)
