"""`roles grant|revoke|list`: who may anchor and issue which kinds."""

from __future__ import annotations

import typer

from labourledger.cli.context import State, out, state

roles_app = typer.Typer(
    help="Contract roles: ADMIN, BRAND, AUDITOR, SUPPLIER.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `roles` group to the root app."""
    app.add_typer(roles_app, name="roles")


def _address(st: State, who: str) -> str:
    """An address given directly, or the address of a local key of that name."""
    return who if who.startswith("0x") else st.ledger.workspace.keys.address(who)


@roles_app.command("grant")
def grant(
    ctx: typer.Context,
    role: str = typer.Argument(..., help="BRAND, AUDITOR, SUPPLIER or ADMIN."),
    who: str = typer.Argument(..., help="An address or a local key name."),
) -> None:
    """Grant a role (sent by --key, default admin; a BRAND key may grant SUPPLIER).

    Example: labourledger roles grant BRAND brand --key admin
    """
    _change(ctx, role, who, grant=True)


@roles_app.command("revoke")
def revoke(
    ctx: typer.Context,
    role: str = typer.Argument(..., help="BRAND, AUDITOR, SUPPLIER or ADMIN."),
    who: str = typer.Argument(..., help="An address or a local key name."),
) -> None:
    """Revoke a role.

    Example: labourledger roles revoke SUPPLIER 0x1234…abcd --key brand
    """
    _change(ctx, role, who, grant=False)


def _change(ctx: typer.Context, role: str, who: str, *, grant: bool) -> None:
    st = state(ctx)
    address = _address(st, who)
    sender = st.signer("admin", purpose="send the role transaction")
    change = st.ledger.grant_role if grant else st.ledger.revoke_role
    tx_hash = change(sender, role, address)
    verb = "granted" if grant else "revoked"
    data = {"role": role.upper(), "account": address, "action": verb, "tx_hash": tx_hash}
    st.emit(data, lambda: out.print(f"{verb} {role.upper()} for {address} (tx {tx_hash})"))


@roles_app.command("list")
def list_roles(ctx: typer.Context) -> None:
    """Current members of every role, from the contract's role events.

    Example: labourledger roles list --json
    """
    st = state(ctx)
    members = st.ledger.role_members()
    names = st.ledger.workspace.keys.by_address()
    data = [
        {"role": role, "account": account, "key": names.get(account)}
        for role, accounts in members.items()
        for account in accounts
    ]

    def human() -> None:
        from rich.table import Table

        table = Table("role", "account", "local key")
        for row in data:
            table.add_row(row["role"], row["account"], row["key"] or "")
        out.print(table)

    st.emit(data, human)
