"""`anchor`, `sync`, `entry show` and `proof`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from labourledger.cli.context import next_step, out, progress_bar, state

if TYPE_CHECKING:
    from labourledger.models import EntryView

EMBEDDED_NOTE = "embedded chain: a local development chain, not evidence for anyone else"


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("anchor")(anchor)
    app.command("sync")(sync)
    app.command("proof")(proof)
    entry = typer.Typer(help="Single entries.", no_args_is_help=True)
    entry.command("show")(entry_show)
    app.add_typer(entry, name="entry")


def anchor(ctx: typer.Context) -> None:
    """Anchor every pending entry: one Merkle batch and transaction, more only when a block's
    gas cannot index them all (sent by --key, default brand).

    Example: labourledger anchor --key brand
    """
    st = state(ctx)
    ledger = st.ledger
    sender = st.sender("brand", purpose="anchor")
    with progress_bar(st, "anchoring") as progress:
        results = ledger.anchor(sender, progress=progress)
    data = [asdict(r) for r in results]

    def human() -> None:
        from rich.table import Table

        if not results:
            out.print("nothing pending: every entry is already anchored")
            return
        table = Table("root", "entries", "tx", "block", "gas", "status")
        for r in results:
            note = " (resumed)" if r.resumed else ""
            table.add_row(
                r.root,
                str(r.size),
                r.tx_hash,
                str(r.block_number),
                str(r.gas_used),
                r.status + note,
            )
        out.print(table)
        if ledger.config.chain.is_embedded:
            out.print(f"[yellow]{EMBEDDED_NOTE}[/yellow]")

    st.emit(data, human)
    if any(r.status == "submitted" for r in results):
        next_step(
            f"anchors become final {ledger.config.chain.confirmations} blocks deep: "
            "run `labourledger sync` later"
        )


def sync(ctx: typer.Context) -> None:
    """Read anchors and role changes from the chain into the mirror; handle reorgs.

    Example: labourledger sync --json
    """
    st = state(ctx)
    with progress_bar(st, "reading the chain") as progress:
        result = st.ledger.sync(progress=progress)
    data = asdict(result) | {"missing_count": len(result.missing)}

    def human() -> None:
        out.print(
            f"synced blocks {result.from_block} to {result.to_block}: {result.anchors} anchors, "
            f"{result.indexed} indexed entries, {result.role_events} role events, "
            f"{result.finalised} finalised, {result.orphaned} orphaned by a reorg"
        )
        for entry_id in result.missing:
            out.print(f"  missing: {entry_id}")

    st.emit(data, human)
    if result.missing:
        next_step(
            f"{len(result.missing)} entries indexed on chain about this mirror's facilities or "
            "entries are not in it: ask their issuer (the auditor, say) for the signed entry "
            "file and run `labourledger import FILE`"
        )


def _print_entry(view: EntryView) -> None:
    from rich.table import Table

    from labourledger.envelope import to_hex

    table = Table(show_header=False, box=None)
    shown = {
        "entry_id": view.id_hex,
        "kind": view.kind,
        "issuer": view.issuer,
        "subject": to_hex(view.subject),
        "issued_at_iso": view.issued_at_iso,
        "status": view.status,
    }
    for key, value in shown.items():
        table.add_row(f"[bold]{key}[/bold]", value)
    if view.as_of_block is not None:
        table.add_row("[bold]as of[/bold]", f"block {view.as_of_block} (chain unreachable)")
    if view.revoked_by:
        table.add_row("[bold]revoked by[/bold]", ", ".join(view.revoked_by))
    for ref in view.refs:
        table.add_row("[bold]ref[/bold]", to_hex(ref))
    if view.anchor:
        table.add_row(
            "[bold]anchor[/bold]",
            f"root {view.anchor.root}, tx {view.anchor.tx_hash}, block {view.anchor.block_number}",
        )
    out.print(table)


def entry_show(
    ctx: typer.Context, entry_id: Annotated[str, typer.Argument(help="The entry id (0x…).")]
) -> None:
    """One entry with its body, status and anchor.

    Example: labourledger entry show 0x3f2a… --json
    """
    st = state(ctx)
    view = st.ledger.describe(entry_id)

    def human() -> None:
        _print_entry(view)
        out.print_json(data=view.body)

    st.emit(view.model_dump(mode="json"), human)
    if view.status == "pending":
        next_step("pending: run `labourledger anchor`")
    elif view.status == "reorged":
        next_step("reorged — run `labourledger sync`")


def proof(
    ctx: typer.Context, entry_id: Annotated[str, typer.Argument(help="The entry id (0x…).")]
) -> None:
    """The entry's inclusion proof and anchor, checked against the contract (exit 1 when it
    does not check).

    Example: labourledger proof 0x3f2a… --json
    """
    st = state(ctx)
    data = st.ledger.proof(entry_id)

    def human() -> None:
        from rich.markup import escape

        p, a = data.proof, data.anchor
        out.print(f"leaf {p.leaf_index} of {p.tree_size}, root {a.root}")
        for i, h in enumerate(p.path):
            out.print(f"  {i}: {h}")
        verdict = "[green]verified on chain[/green]" if data.verified else "[red]NOT verified[/red]"
        out.print(f"tx {a.tx_hash} block {a.block_number}: {verdict}")
        if not data.verified:
            out.print(escape(data.reason))

    st.emit(data.model_dump(mode="json"), human)
    if not data.verified:
        next_step("run `labourledger doctor`: the mirror may have been altered")
        raise typer.Exit(1)
