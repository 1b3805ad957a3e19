"""`sign-complete`: the signature a wallet made for `--sign-with external` typed data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import deliver, options_for, state


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("sign-complete")(sign_complete)


def sign_complete(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The typed-data file --typed-data-out wrote.")],
    signature: Annotated[str, typer.Option("--signature", help="The wallet's 65-byte signature.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Signed entry file.")
    ] = None,
    record: Annotated[bool, typer.Option("--record", help="Store it here as pending.")] = False,
) -> None:
    """Finish an entry begun with --sign-with external: check the wallet's signature (v may
    be 0/1 or 27/28; low s only) against the issuer, then write the signed entry file
    and/or store it.

    Example: labourledger sign-complete audit.typed.json --signature 0x… --record
    """
    from labourledger.exchange import read_json
    from labourledger.wallet import DRAFTS, complete_signature

    st = state(ctx)
    ledger = st.ledger
    with options_for(signature="--signature"):
        entry, draft = complete_signature(
            ledger.workspace.root / DRAFTS, read_json(file), signature, ledger.domain
        )
    deliver(st, entry, output, record)
    draft.unlink()
