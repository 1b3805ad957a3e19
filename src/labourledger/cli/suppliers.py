"""`supplier add|operators|import|list|show` and `link add`: brands register their supply chain."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import (
    options_for,
    out,
    pending_hint,
    progress_bar,
    role_warning,
    state,
)
from labourledger.errors import InputError, parse_date
from labourledger.vocabulary import FacilityType


class ListFormat(StrEnum):
    """What `supplier list` prints or writes."""

    TABLE = "table"
    OSH_CSV = "osh-csv"


supplier_app = typer.Typer(help="Facilities (suppliers) in the supply chain.", no_args_is_help=True)
link_app = typer.Typer(help="Supply links between facilities.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `supplier` and `link` groups to the root app."""
    app.add_typer(supplier_app, name="supplier")
    app.add_typer(link_app, name="link")


@supplier_app.command("add")
def add(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Option("--name", help="Facility name.")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 code, e.g. BD.")],
    address: Annotated[str, typer.Option("--address", help="Street address.")],
    facility_type: Annotated[
        FacilityType | None,
        typer.Option("--type", help="Open Supply Hub facility type."),
    ] = None,
    tier: Annotated[
        int, typer.Option("--tier", help="1 assembly, 2 material, 3 processing, 4 raw.")
    ],
    os_id: Annotated[
        str | None,
        typer.Option(
            "--os-id",
            help="Open Supply Hub id: 15 characters, country code, 7 digits, 5 Crockford base32 "
            "characters and a check character, e.g. BD2024001KNTR4D (hyphens and spaces ignored).",
        ),
    ] = None,
    gln: Annotated[str | None, typer.Option("--gln", help="GS1 Global Location Number.")] = None,
    lei: Annotated[str | None, typer.Option("--lei", help="Legal Entity Identifier.")] = None,
    processing: Annotated[
        list[str] | None, typer.Option("--processing", help="Processing type (repeat).")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Number of workers.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent company.")] = None,
    operators: Annotated[
        list[str] | None,
        typer.Option("--operator", help="Address of a SUPPLIER that speaks for it (repeat)."),
    ] = None,
) -> None:
    """Register one facility (signed by --key, default brand).

    Only the --operator keys' self-declarations and transformations count for it.

    Example: labourledger supplier add --name "Dhaka Knit" --country BD
    --address "Plot 7, Gazipur" --type "Final Product Assembly" --tier 1 --os-id BD2024001KNTR4D
    --operator 0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db
    """
    st = state(ctx)
    entry = st.ledger.register_facility(
        st.signer_as,
        name=name,
        country=country,
        address=address,
        facility_type=facility_type,
        tier=tier,
        os_id=os_id,
        gln=gln,
        lei=lei,
        processing_types=processing or [],
        worker_count=workers,
        parent_company=parent,
        operators=operators or [],
    )
    data = entry.to_json_dict()
    st.emit(
        data, lambda: out.print(f"facility 0x{entry.subject.hex()} recorded as {data['entry_id']}")
    )
    role_warning(st, [entry])
    pending_hint(st)


@supplier_app.command("operators")
def set_operators(
    ctx: typer.Context,
    facility: Annotated[str, typer.Argument(help="Facility id or OS id.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="SUPPLIER address to name (repeat).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="SUPPLIER address to drop (repeat).")
    ] = None,
) -> None:
    """Name the SUPPLIER accounts that speak for a facility, by registering it again.

    A supplier's self-declarations and transformations count only for facilities whose
    latest registration by a brand names its key. With neither flag, lists them.

    Example: labourledger supplier operators IN2024002CTNM1H
    --add 0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db
    """
    st = state(ctx)
    if not (add or remove):
        named = st.ledger.operators(facility)
        st.emit({"operators": named}, lambda: out.print("\n".join(named) or "no operators named"))
        return
    signer = st.signer("brand")
    with options_for(add="--add", remove="--remove"):
        entry = st.ledger.change_operators(facility, signer, add=add or [], remove=remove or [])
    data = entry.to_json_dict()
    named = data["body"].get("operators", [])
    st.emit(
        data,
        lambda: out.print(
            f"facility {data['subject']} registered again as {data['entry_id']}; your operators: "
            + (", ".join(named) or "none")
        ),
    )
    role_warning(st, [entry])
    pending_hint(st)


@supplier_app.command("import")
def import_csv(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Open Supply Hub download CSV (plus optional tier).")
    ],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Store the valid rows.")
    ] = False,
) -> None:
    """Register every facility of an Open Supply Hub CSV, all or nothing.

    Rows your registrations already say are left as they are, so importing the same list
    again signs nothing new.

    Example: labourledger supplier import facilities.csv --key brand
    """
    st = state(ctx)
    signer = st.signer("brand")
    with progress_bar(st, f"importing {file.name}") as progress:
        result = st.ledger.import_facilities(
            file, signer, skip_invalid=skip_invalid, progress=progress
        )
    data = {
        "imported": len(result.entries),
        "unchanged": result.unchanged,
        "skipped": [{"line": e.line, "reason": e.reason} for e in result.errors],
    }

    def human() -> None:
        out.print(f"imported {data['imported']} facilities from {file}")
        if result.unchanged:
            out.print(
                f"{len(result.unchanged)} row(s) left as they are: your registrations say "
                "them already"
            )
        for e in result.errors:
            out.print(f"[yellow]skipped[/yellow] {e}")

    st.emit(data, human)
    role_warning(st, result.entries)
    pending_hint(st)


@supplier_app.command("list")
def list_suppliers(
    ctx: typer.Context,
    country: Annotated[str | None, typer.Option("--country", help="ISO country code.")] = None,
    tier: Annotated[int | None, typer.Option("--tier", help="1 to 4.")] = None,
    facility_type: Annotated[
        FacilityType | None, typer.Option("--type", help="Facility type.")
    ] = None,
    form: Annotated[
        ListFormat,
        typer.Option("--format", help="table, or osh-csv: Open Supply Hub's upload columns (-o)."),
    ] = ListFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File for --format osh-csv.")
    ] = None,
    osh_only: Annotated[
        bool,
        typer.Option(
            "--osh-only", help="osh-csv without the os_id, tier, gln, lei, operators columns."
        ),
    ] = False,
) -> None:
    """List registered facilities, filtered by country, tier and type; or write them as an
    Open Supply Hub upload CSV that `supplier import` reads back.

    Example: labourledger supplier list --tier 3 --country IN
    Example: labourledger supplier list --format osh-csv -o facilities.csv
    """
    st = state(ctx)
    with options_for(tier="--tier"):
        if form is ListFormat.OSH_CSV:
            if output is None:
                raise InputError("-o: --format osh-csv needs a file to write")
            from labourledger.suppliers import export_facility_csv

            written = export_facility_csv(
                st.ledger,
                output,
                country=country,
                tier=tier,
                facility_type=facility_type,
                osh_only=osh_only,
            )
            data = {"file": str(output), "format": "osh-csv", "facilities": written}
            st.emit(data, lambda: out.print(f"wrote {output}: {_facilities(written)}"))
            return
        if output is not None or osh_only:  # else a table, and no file where one was asked for
            given = "-o" if output is not None else "--osh-only"
            raise InputError(f"{given}: only with --format osh-csv (writes the CSV file)")
        rows = st.ledger.facilities(country=country, tier=tier, facility_type=facility_type)

    def human() -> None:
        from rich.table import Table

        # The OS id is what people copy into other commands: it never wraps, and the name and
        # type fold rather than lose letters. The whole facility id is in --json.
        table = Table("facility id", "name", "country", "tier", "type", "OS id")
        for column in table.columns:
            column.overflow = "fold"
        table.columns[-1].no_wrap = True
        table.columns[-1].min_width = 15
        for r in rows:
            table.add_row(
                r.facility_id[:10] + "…",
                r.name + (" [red](revoked)[/red]" if r.revoked_by else ""),
                r.country,
                str(r.tier),
                r.facility_type,
                r.os_id or "",
            )
        out.print(table)
        out.print(_facilities(len(rows)))

    st.emit([r.model_dump(mode="json") for r in rows], human)


@supplier_app.command("show")
def show(
    ctx: typer.Context, facility: Annotated[str, typer.Argument(help="Facility id or OS id.")]
) -> None:
    """A facility, every entry about it with its anchor status, and its supply links.

    Example: labourledger supplier show IN2024002CTNM1H --json
    """
    st = state(ctx)
    view = st.ledger.facility(facility)

    def human() -> None:
        from rich.table import Table

        f = view.facility
        out.print(f"[bold]{f.name}[/bold]  ({f.country}, tier {f.tier}, {f.facility_type})")
        out.print(f"id {view.facility_id}" + (f"  OS id {f.os_id}" if f.os_id else ""))
        table = Table("entry", "kind", "issuer", "status", "tx", "block")
        for e in view.entries:
            table.add_row(
                e.id_hex,
                e.kind,
                e.issuer,
                "revoked" if e.revoked_by else e.status,
                (e.anchor and e.anchor.tx_hash) or "",
                str((e.anchor and e.anchor.block_number) or ""),
            )
        out.print(table)
        if view.audits:
            audits = Table("audit", "standard", "notice", "ended", "open findings", title="audits")
            for a in view.audits:
                still_open = [f"{f.id} ({f.severity})" for f in a.open_findings]
                audits.add_row(
                    a.entry_id,
                    a.body.standard,
                    a.body.notice,
                    a.body.end_date.isoformat(),
                    ", ".join(still_open) or "none",
                )
            out.print(audits)
        if view.attestations:
            attestations = Table("attestation", "claim", "valid", "state", title="attestations")
            for t in view.attestations:
                state_text = (
                    "revoked" if t.revoked_by else ("in force" if t.in_force else "not in force")
                )
                attestations.add_row(
                    t.entry_id, t.claim, f"{t.valid_from} to {t.valid_until}", state_text
                )
            out.print(attestations)
        for link in view.links:
            out.print(f"link: {link.supplier[:12]}… → {link.buyer[:12]}… ({link.material})")

    st.emit(view.model_dump(mode="json"), human)


@link_app.command("add")
def link_add(
    ctx: typer.Context,
    supplier: Annotated[str, typer.Option("--supplier", help="Supplying facility (id or OS id).")],
    buyer: Annotated[str, typer.Option("--buyer", help="Buying facility (id or OS id).")],
    material: Annotated[str, typer.Option("--material", help="What flows, e.g. 'cotton yarn'.")],
    valid_from: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD; default today).")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
) -> None:
    """Record that one facility supplies another.

    Example: labourledger link add --supplier IN2024002CTNM1H --buyer BD2024001KNTR4D
    --material "cotton yarn"
    """
    from labourledger.links import record_link

    st = state(ctx)
    entry = record_link(
        st.ledger,
        st.signer_as,
        supplier=supplier,
        buyer=buyer,
        material=material,
        valid_from=parse_date(valid_from, "--from") if valid_from else None,
        valid_to=parse_date(valid_to, "--to") if valid_to else None,
    )
    data = entry.to_json_dict()
    st.emit(data, lambda: out.print(f"link recorded as {data['entry_id']}"))
    role_warning(st, [entry])
    pending_hint(st)


def _facilities(count: int) -> str:
    return f"{count} facility" if count == 1 else f"{count} facilities"
