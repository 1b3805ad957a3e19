"""Worker voice: `grievance record | update | list` for accredited channels, and
`receipt check` for the worker holding a receipt code.

A channel records in its own workspace and anchors its own entries
(`labourledger anchor --key channel`), so no brand can keep a grievance off
the chain; `grievance export` then writes them with their proofs for brands to
import (`-o FILE` on record and update writes an entry before it is anchored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import (
    IssuedAtOption,
    chain_at,
    next_step,
    options_for,
    out,
    parse_when,
    role_warning,
    state,
)
from labourledger.errors import InputError
from labourledger.vocabulary import (
    CATEGORIES,
    ChannelType,
    GrievanceStatus,
    Severity,
    WorkersBand,
)

grievance_app = typer.Typer(
    help="Grievances from accredited channels (hotlines, apps, unions, NGOs).",
    no_args_is_help=True,
)
receipt_app = typer.Typer(help="A worker's grievance receipt.", no_args_is_help=True)

EntryFileOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Also write the signed entry file here, for a brand to `labourledger import`.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.add_typer(grievance_app, name="grievance")
    app.add_typer(receipt_app, name="receipt")


@grievance_app.command("record")
def grievance_record(
    ctx: typer.Context,
    facility: Annotated[str, typer.Option("--facility", help="Facility id or OS id.")],
    received: Annotated[
        str, typer.Option("--received", help="Month received, YYYY-MM (never a day).")
    ],
    channel: Annotated[ChannelType, typer.Option("--channel", help="How the worker reached you.")],
    category: Annotated[
        list[str], typer.Option("--category", help="Repeat. " + ", ".join(CATEGORIES) + ".")
    ],
    severity: Annotated[Severity, typer.Option("--severity", help="As the channel assesses it.")],
    workers: Annotated[WorkersBand, typer.Option("--workers", help="Workers affected.")],
    report: Annotated[
        Path,
        typer.Option(
            "--report", help="The report; only its salted hash is signed, the file stays here."
        ),
    ],
    output: EntryFileOption = None,
    issued_at: IssuedAtOption = None,
) -> None:
    """Sign and store a grievance (with --key, default channel) and print the worker's
    receipt code, once: it is stored nowhere.

    Example: labourledger grievance record --facility VN0063025KNT03S --received 2026-11
    --channel hotline --category withholding_of_wages --severity major --workers 2-5
    --report report.txt --key channel
    """
    from labourledger import grievances

    st = state(ctx)
    try:
        content = report.read_bytes()
    except OSError as exc:
        raise InputError(f"--report {report}: cannot read ({exc.strerror})") from None
    # Its receipt is made for this one signing and shown once, so a wallet cannot sign later.
    signer = st.sender("channel", purpose="record a grievance")
    received_at = {"received_month": "--received", "body.received_month": "--received"}
    with options_for(**received_at, output="--output"):
        recorded = grievances.record(
            st.ledger,
            signer,
            facility=facility,
            received_month=received,
            channel=channel,
            categories=category,
            severity=severity,
            workers=workers,
            report=content,
            issued_at=parse_when(issued_at),
            output=output,
        )
    entry_id = "0x" + recorded.entry.entry_id.hex()
    data = {
        "entry_id": entry_id,
        "receipt": recorded.receipt,
        "report_salt": recorded.report_salt,
        "file": str(output) if output else None,
    }

    def human() -> None:
        out.print(f"recorded grievance {entry_id}")
        out.print(f"receipt code for the worker: [bold]{recorded.receipt}[/bold]")
        out.print("  read it out once; it is stored nowhere and cannot be shown again")
        out.print(f"report salt (keep it with the report): {recorded.report_salt}")
        if output:
            out.print(f"wrote {output}")

    st.emit(data, human)
    role_warning(st, [recorded.entry])
    next_step(
        "anchor it yourself, so no one can keep it off the chain: "
        f"`labourledger anchor --key {st.signed_with}`"
    )


@grievance_app.command("update")
def grievance_update(
    ctx: typer.Context,
    grievance_id: Annotated[str, typer.Argument(help="The grievance's entry id.")],
    status: Annotated[GrievanceStatus, typer.Option("--status", help="The new status.")],
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM (default this month).")
    ] = None,
    evidence: Annotated[
        list[Path] | None,
        typer.Option(
            "--evidence",
            metavar="FILE",
            help="Evidence file, hashed with a fresh salt; it stays here. Repeat.",
        ),
    ] = None,
    output: EntryFileOption = None,
    issued_at: IssuedAtOption = None,
) -> None:
    """Sign and store a grievance's new status (by its channel, or an AUDITOR who
    investigated it; with --key, default channel).

    Example: labourledger grievance update 0x3f2a… --status substantiated --month 2026-11
    --key channel
    """
    from labourledger import grievances

    st = state(ctx)
    commitments = [grievances.evidence_commitment(path) for path in evidence or []]
    signer = st.signer("channel")
    month_at = {"month": "--month", "body.month": "--month"}
    with options_for(status="--status", **month_at, signer="--key", output="--output"):
        entry = grievances.update(
            st.ledger,
            signer,
            grievance_id,
            status=status,
            month=month,
            evidence=commitments,
            issued_at=parse_when(issued_at),
            output=output,
        )
    data = {
        "entry_id": "0x" + entry.entry_id.hex(),
        "grievance": entry.body["grievance"],
        "status": entry.body["status"],
        "month": entry.body["month"],
        "evidence": [vars(c) for c in commitments],
        "file": str(output) if output else None,
    }

    def human() -> None:
        out.print(f"grievance {data['grievance']}: {data['status']} ({data['month']})")
        out.print(f"update {data['entry_id']}")
        for c in commitments:
            out.print(f"evidence {c.file}: hash {c.hash}, salt {c.salt} (keep both)")

    st.emit(data, human)
    role_warning(st, [entry])
    next_step(f"`labourledger anchor --key {st.signed_with or 'channel'}`")


@grievance_app.command("list")
def grievance_list(
    ctx: typer.Context,
    facility: Annotated[
        str | None, typer.Option("--facility", help="Facility id or OS id.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Current status, or revoked.")
    ] = None,
    each: Annotated[
        bool, typer.Option("--each", help="One row per grievance, not counts.")
    ] = False,
) -> None:
    """Grievances by facility: counts by status and category (or --each grievance).

    Example: labourledger grievance list --facility VN0063025KNT03S --status substantiated --json
    """
    from labourledger import grievances

    st = state(ctx)
    with options_for(status="--status"):
        found = grievances.listing(st.ledger, facility=facility, status=status)
    names = found.names
    if each:
        rows = [v.to_dict() for v in found.each]

        def each_table() -> None:
            from rich.table import Table

            table = Table("grievance", "facility", "received", "categories", "severity", "status")
            for r in rows:
                name = names.get(r["facility"]) or r["facility"][:14] + "…"
                table.add_row(
                    r["entry_id"][:14] + "…",
                    name,
                    r["received_month"],
                    ", ".join(r["categories"]),
                    r["severity"],
                    f"{r['status']} ({r['state']})",
                )
            out.print(table)

        st.emit(rows, each_table)
        return
    counts = found.counts

    def count_table() -> None:
        from rich.table import Table

        if not counts:
            out.print("no grievances")
            return
        table = Table("facility", "grievances", "received", "by status", "by category")
        for c in counts:
            table.add_row(
                c.name or c.facility[:14] + "…",
                str(c.total),
                f"{c.received_from} to {c.received_to}",
                ", ".join(f"{k} {n}" for k, n in c.by_status.items()),
                ", ".join(f"{k} {n}" for k, n in c.by_category.items()),
            )
        out.print(table)

    st.emit([c.to_dict() for c in counts], count_table)


@grievance_app.command("export")
def grievance_export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="Entry file to write.")],
    facility: Annotated[
        list[str] | None, typer.Option("--facility", help="Facility id or OS id. Repeat.")
    ] = None,
) -> None:
    """Write grievances and their updates, with the proofs of those anchored, to an entry
    file a brand imports (`labourledger import FILE`) as anchored.

    Example: labourledger grievance export --facility VN0063025KNT03S -o grievances.json
    """
    from labourledger import grievances

    st = state(ctx)
    ids = [st.ledger.facility_id(f) for f in facility] if facility else None
    with options_for(path="--output"):
        written = grievances.export(st.ledger, output, ids)
    data = {"file": str(output), "entries": written}
    st.emit(data, lambda: out.print(f"wrote {output}: {written} entries"))
    next_step(f"send {output} to the brand, who runs `labourledger import {output}`")


@receipt_app.command("check")
def receipt_check(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The receipt code, e.g. XXXX-XXXX-XXXX-XXXX.")],
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Look in this bundle instead of the workspace's mirror."),
    ] = None,
    chain: Annotated[
        str | None,
        typer.Option("--chain", help="RPC URL of the bundle's chain (with --bundle)."),
    ] = None,
) -> None:
    """Check a grievance receipt: the month it was received, the block it is anchored in
    (its proof checked against the chain), its status and history; nothing else.

    Example: labourledger receipt check XXXX-XXXX-XXXX-XXXX --bundle tee.json --chain
    http://127.0.0.1:8545
    """
    from labourledger.receipts import check_receipt

    st = state(ctx)
    if bundle is None:
        if chain is not None:
            raise InputError("--chain: give it with --bundle; a workspace has its own chain")
        result = check_receipt(st.ledger, code)
    else:
        from labourledger.bundle import read_bundle
        from labourledger.ledger import Ledger

        ledger = Ledger.from_bundle(read_bundle(bundle), chain_at(st, chain))
        result = check_receipt(ledger, code)

    def human() -> None:
        from rich.table import Table

        out.print(f"recorded in month {result.received_month}")
        if result.anchored:
            verdict = (
                "proof checked against the chain"
                if result.proof_verified
                else ("[red]the proof does NOT check against the chain[/red]")
            )
            out.print(f"anchored in block {result.block_number} ({verdict})")
        else:
            out.print("not anchored yet")
        if result.channel_accredited is False:
            out.print(
                "[red]the channel that recorded it held no GRIEVANCE_CHANNEL role when it was "
                "anchored, so verify does not accept it[/red]"
            )
        out.print(f"status: [bold]{result.status}[/bold]")
        table = Table("status", "month", "state", "block")
        for h in result.history:
            table.add_row(h["status"], h["month"], h["state"], str(h["block_number"] or ""))
        out.print(table)

    st.emit(result.to_dict(), human)
