"""Products, batches and transformations (the brand's records), and `trace`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labourledger.cli.context import State, options_for, out, pending_hint, role_warning, state
from labourledger.errors import InputError, parse_date

if TYPE_CHECKING:
    from rich.tree import Tree

    from labourledger.envelope import SignedEntry

product_app = typer.Typer(help="Products a brand sells.", no_args_is_help=True)
batch_app = typer.Typer(help="Batches (lots) of products and materials.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.add_typer(product_app, name="product")
    app.add_typer(batch_app, name="batch")
    app.command("transform")(transform)
    app.command("trace")(trace)


def _recorded(st: State, entry: SignedEntry) -> None:
    data = entry.to_json_dict() | {"id": "0x" + entry.subject.hex()}
    st.emit(data, lambda: out.print(f"{entry.kind} {data['id']} recorded as {data['entry_id']}"))
    role_warning(st, [entry])
    pending_hint(st)


@product_app.command("add")
def product_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Product name.")],
    brand: Annotated[str, typer.Option("--brand", help="Brand name.")],
    gtin: Annotated[str | None, typer.Option("--gtin", help="GS1 GTIN-8, -12, -13 or -14.")] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="The brand's SKU.")] = None,
    hs_code: Annotated[
        str | None, typer.Option("--hs-code", help="Customs HS code, 6 to 10 digits.")
    ] = None,
) -> None:
    """Register a product by GTIN or SKU.

    Example: labourledger product add --gtin 4006381333931 --name "Organic tee" --brand Acme
    """
    from labourledger.provenance import record_product

    st = state(ctx)
    entry = record_product(
        st.ledger, st.signer_as, name=name, brand=brand, gtin=gtin, sku=sku, hs_code=hs_code
    )
    _recorded(st, entry)


@batch_app.command("add")
def batch_add(
    ctx: typer.Context,
    *,
    product: Annotated[str, typer.Option("--product", help="Product id, GTIN or SKU.")],
    lot: Annotated[str, typer.Option("--lot", help="Lot number.")],
    quantity: Annotated[int, typer.Option("--quantity", help="How many units.")],
    unit: Annotated[str, typer.Option("--unit", help="Unit: pcs, kg, m, ...")] = "pcs",
    produced_at: Annotated[
        str, typer.Option("--produced-at", help="Production date (YYYY-MM-DD).")
    ],
    facility: Annotated[str, typer.Option("--facility", help="Facility id or OS id.")],
) -> None:
    """Register a batch made at a facility (a raw-material batch needs no inputs).

    Example: labourledger batch add --product TEE-01 --lot L-7 --quantity 1200
    --produced-at 2026-05-01 --facility BD2024001KNTR4D
    """
    from labourledger.provenance import record_batch

    st = state(ctx)
    entry = record_batch(
        st.ledger,
        st.signer_as,
        product=product,
        lot=lot,
        quantity=quantity,
        unit=unit,
        produced_at=parse_date(produced_at, "--produced-at"),
        facility=facility,
    )
    _recorded(st, entry)


def transform(
    ctx: typer.Context,
    inputs: Annotated[
        list[str], typer.Option("--input", metavar="BATCH", help="Input batch (id or lot). Repeat.")
    ],
    output: Annotated[str, typer.Option("--output", help="Output batch (id or lot).")],
    facility: Annotated[str, typer.Option("--facility", help="Where it happened (id or OS id).")],
    date: Annotated[str, typer.Option("--date", help="When (YYYY-MM-DD).")],
    documents: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            metavar="TYPE[:NUMBER]=FILE",
            help="A document, e.g. invoice:INV-9=inv.pdf. Repeat.",
        ),
    ] = None,
) -> None:
    """Record that input batches became an output batch (an EPCIS TransformationEvent).

    Example: labourledger transform --input YARN-1 --output FAB-1 --facility IN2024002CTNM1H
    --date 2026-04-02 --document invoice:INV-9=invoice.pdf
    """
    from labourledger.provenance import Document, record_transformation

    st = state(ctx)
    docs = []
    for item in documents or []:
        spec, sep, file = item.partition("=")
        if not sep:
            raise InputError(f"--document {item}: expected TYPE[:NUMBER]=FILE")
        doc_type, _, number = spec.partition(":")
        docs.append(Document(doc_type, Path(file), number or None))
    named = {"date": "--date", "facility": "--facility", "output": "--output"}
    with st.ledger.evidence_staged(), options_for(**named):
        entry = record_transformation(
            st.ledger,
            st.signer_as,
            inputs=inputs,
            output=output,
            facility=facility,
            date=parse_date(date, "--date"),
            documents=docs,
        )
    _recorded(st, entry)


def trace(
    ctx: typer.Context, batch: Annotated[str, typer.Argument(help="Batch id or lot.")]
) -> None:
    """The batch's upstream graph by tier: facilities, countries, audit status; gaps and cycles.

    Example: labourledger trace TEE-L7 --json
    """
    st = state(ctx)
    graph = st.ledger.trace(batch)

    def human() -> None:
        from rich.tree import Tree

        nodes = {n["id"]: n for n in graph["nodes"]}
        children: dict[str, list[str]] = {}
        for edge in graph["edges"]:
            children.setdefault(edge["from"], []).append(edge["to"])

        def label(node: dict[str, Any]) -> str:
            lot = node.get("lot")  # None for a batch not registered here
            what = f"lot {lot}" if lot is not None else str(node["kind"])
            where = node.get("facility_name") or node.get("facility") or node["id"]
            tier = node.get("tier", "?")
            status = node.get("audit_status", "not registered here")
            if node.get("grievances", {}).get("total"):
                status += "; " + node["grievances"]["summary"]
            return (
                f"[bold]tier {tier}[/bold] {what}: {where} ({node.get('country', '?')})"
                f" [dim]{status}[/dim]"
            )

        def grow(branch: Tree, node_id: str, seen: frozenset[str]) -> None:
            for child in sorted(children.get(node_id, [])):
                if child in seen:
                    branch.add(f"[red]cycle back to {child}[/red]")
                    continue
                grow(branch.add(label(nodes[child])), child, seen | {child})

        root = Tree(label(nodes[graph["batch"]]))
        grow(root, graph["batch"], frozenset({graph["batch"]}))
        out.print(root)
        for problem in graph["problems"]:
            out.print(f"[yellow]{problem['kind']}[/yellow]: {problem['reason']}")

    st.emit(graph, human)
