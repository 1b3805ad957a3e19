"""`roles grant|revoke|list`: who may anchor and issue which kinds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from labourledger.cli.context import State, next_step, options_for, out, state
from labourledger.errors import InputError, parse_date
from labourledger.vocabulary import Role

roles_app = typer.Typer(help=f"Contract roles: {', '.join(Role)}.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `roles` group to the root app."""
    app.add_typer(roles_app, name="roles")


def _address(st: State, who: str) -> str:
    """An address given directly, or the address of a local key of that name."""
    from labourledger.kinds import checksum_address

    if who.startswith("0x"):
        return checksum_address(who, "WHO")
    return st.ledger.workspace.keys.address(who)


@roles_app.command("grant")
def grant(
    ctx: typer.Context,
    role: Annotated[Role, typer.Argument(help="The role (any case).", case_sensitive=False)],
    who: Annotated[str, typer.Argument(help="An address or a local key name.")],
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Organisation the account belongs to: records an accreditation."
        ),
    ] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Its accreditation number.")
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="First day the accreditation holds (default today)."),
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="Last day it holds (default open-ended).")
    ] = None,
) -> None:
    """Grant a role (sent by --key, default admin; SUPPLIER is granted by a BRAND key, the
    others by an ADMIN); with --name, the admin also signs an accreditation naming the
    organisation (anchor it to publish it).

    Example: labourledger roles grant AUDITOR 0x12…ab --name "Bureau Veritas" --number BV-IN-0117
    """
    if name is None and (number or valid_from or valid_until):
        raise InputError("--name: --number, --valid-from and --valid-until need --name")
    if name is None:
        _change(ctx, role, who, grant=True)
        return
    from labourledger.envelope import to_hex
    from labourledger.roles import Naming, grant_named

    naming = Naming(
        name,
        number,
        parse_date(valid_from, "--valid-from") if valid_from else None,
        parse_date(valid_until, "--valid-until") if valid_until else None,
    )
    st = state(ctx)
    address = _address(st, who)
    with options_for(sender="--key"):
        granted = grant_named(
            st.ledger,
            lambda: st.sender("admin", purpose="send the role transaction"),
            role,
            address,
            naming,
        )
    data = {
        "role": granted.role,
        "account": granted.account,
        "action": "granted" if granted.tx_hash else "named",
        "tx_hash": granted.tx_hash,
        "accreditation": to_hex(granted.accreditation.entry_id),
    }

    def human() -> None:
        if granted.tx_hash:
            out.print(f"granted {granted.role} for {granted.account} (tx {granted.tx_hash})")
        else:
            out.print(f"{granted.account} holds {granted.role} already: named only")
        out.print(f"accreditation {data['accreditation']}: {naming.organisation}")

    st.emit(data, human)
    next_step("run `labourledger anchor` so reports name the organisation")


@roles_app.command("revoke")
def revoke(
    ctx: typer.Context,
    role: Annotated[Role, typer.Argument(help="The role (any case).", case_sensitive=False)],
    who: Annotated[str, typer.Argument(help="An address or a local key name.")],
) -> None:
    """Revoke a role.

    Example: labourledger roles revoke SUPPLIER 0x1234…abcd --key brand
    """
    _change(ctx, role, who, grant=False)


def _change(ctx: typer.Context, role: str, who: str, *, grant: bool) -> None:
    st = state(ctx)
    address = _address(st, who)
    sender = st.sender("admin", purpose="send the role transaction")
    change = st.ledger.grant_role if grant else st.ledger.revoke_role
    with options_for(sender="--key"):
        tx_hash = change(sender, role, address)
    verb = "granted" if grant else "revoked"
    data = {"role": role.upper(), "account": address, "action": verb, "tx_hash": tx_hash}
    st.emit(data, lambda: out.print(f"{verb} {role.upper()} for {address} (tx {tx_hash})"))


@roles_app.command("list")
def list_roles(ctx: typer.Context) -> None:
    """Current members of every role, from the contract's role events.

    Example: labourledger roles list --json
    """
    from labourledger.roles import role_holders

    st = state(ctx)
    data = [asdict(holder) for holder in role_holders(st.ledger)]

    def human() -> None:
        from rich.table import Table

        table = Table("role", "organisation", "account", "local key")
        for row in data:
            table.add_row(row["role"], row["organisation"] or "unnamed account", row["account"],
                          row["key"] or "")  # fmt: skip
        out.print(table)

    st.emit(data, human)
