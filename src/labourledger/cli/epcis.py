"""`import-epcis`: a GS1 EPCIS 2.0 document's lots and transformations as entries."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import out, pending_hint, role_warning, state


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("import-epcis")(import_epcis)


def import_epcis(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON-LD document.")],
) -> None:
    """Record an EPCIS document's commissioning ObjectEvents as products and batches and its
    TransformationEvents as transformations, signed with --key (default brand). Other events
    are listed with the reason they were skipped; nothing is stored from an invalid document.

    Example: labourledger import-epcis lineage.jsonld --key brand
    """
    from labourledger.epcis_import import import_document
    from labourledger.exchange import read_json

    st = state(ctx)
    document = read_json(file)
    result = import_document(st.ledger, document, st.signer("brand"))
    data = {
        "file": str(file),
        "recorded": [
            {"kind": e.kind, "id": "0x" + e.subject.hex(), "entry_id": "0x" + e.entry_id.hex()}
            for e in result.entries
        ],
        "skipped": [asdict(s) for s in result.skipped],
    }

    def human() -> None:
        out.print(f"{file}: recorded {len(result.entries)} entries")
        for skipped in result.skipped:
            out.print(
                f"[yellow]skipped[/yellow] event {skipped.index} ({skipped.type}): {skipped.reason}"
            )

    st.emit(data, human)
    role_warning(st, result.entries)
    pending_hint(st)
