"""`keys new|list|import|export|fund`: encrypted signing keys in the workspace."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import key_name, next_step, options_for, out, passphrase, state

keys_app = typer.Typer(help="Encrypted signing keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `keys` group to the root app."""
    app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def new(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Key name, e.g. brand.")]
) -> None:
    """Create a key, encrypted under a passphrase (prompt or LABOURLEDGER_PASSPHRASE).

    Example: labourledger keys new brand
    """
    st = state(ctx)
    keys = st.ledger.workspace.keys
    info = keys.new(name, passphrase(f"Passphrase for {name!r}", confirm=True))
    data = {"name": info.name, "address": info.address}
    st.emit(data, lambda: out.print(f"key {info.name}: {info.address}"))
    deployed = bool(st.ledger.config.chain.contract)
    next_step(_role_hint(name, info.address, deployed, held={k.name for k in keys.list()}))


def _role_hint(name: str, address: str, deployed: bool, *, held: set[str]) -> str:
    """How the new key gets its role: granted here when this workspace holds a key named
    after a role that may grant it (`authority.role_granters`), else asked of whoever may."""
    from labourledger.authority import role_granters
    from labourledger.chain.ledger_contract import ROLES

    role = next((r for r in ROLES if name.lower() in (r.lower(), key_name(r))), "ROLE")
    if role == "ADMIN" and not deployed:
        return "deploy the contract with it: `labourledger contracts deploy --key admin`"
    granters = [key_name(g) for g in role_granters(role)]
    granter = next((g for g in granters if g in held and g != name), None)
    if granter:
        return f"give it its role: `labourledger roles grant {role} {name} --key {granter}`"
    who = "a brand you supply" if granters[0] == "brand" else "the contract's admin"
    command = f"roles grant {role} {address} --key {granters[0]}"
    return f"send your address {address} to {who}, who runs `labourledger {command}`"


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """List the workspace's keys (names and addresses only).

    Example: labourledger keys list --json
    """
    st = state(ctx)
    keys = st.ledger.workspace.keys.list()
    data = [{"name": k.name, "address": k.address} for k in keys]

    def human() -> None:
        from rich.table import Table

        table = Table("name", "address")
        for k in keys:
            table.add_row(k.name, k.address)
        out.print(table)

    st.emit(data, human)


@keys_app.command("import")
def import_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name to store it under.")],
    file: Annotated[Path, typer.Argument(help="A Web3 Secret Storage (keystore) JSON file.")],
) -> None:
    """Import an encrypted keystore file after checking its passphrase.

    Example: labourledger keys import auditor ./auditor-keystore.json
    """
    st = state(ctx)
    info = st.ledger.workspace.keys.import_keystore(name, file, passphrase(f"Passphrase of {file}"))
    st.emit({"name": info.name, "address": info.address}, lambda: out.print(f"imported {name}"))


@keys_app.command("export")
def export_key(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Key to export.")]
) -> None:
    """Print the key's encrypted keystore JSON (never the private key).

    Example: labourledger keys export auditor > auditor-keystore.json
    """
    keystore = state(ctx).ledger.workspace.keys.export_keystore(name)
    sys.stdout.write(json.dumps(keystore) + "\n")


@keys_app.command("fund")
def fund(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Key to fund.")],
    amount: Annotated[str, typer.Option("--amount", help="Ether to send, e.g. 0.25.")] = "10",
) -> None:
    """Send ether from the dev node's account (embedded chain, anvil, hardhat).

    Example: labourledger keys fund brand --amount 5
    """
    from labourledger.funding import fund_key

    st = state(ctx)
    with options_for(amount="--amount"):
        funded = fund_key(st.ledger, name, amount)
    data = {"name": name, "address": funded.address, "balance_wei": funded.balance_wei}
    st.emit(
        data,
        lambda: out.print(f"{name} ({funded.address}) now holds {funded.balance_ether:f} ETH"),
    )
