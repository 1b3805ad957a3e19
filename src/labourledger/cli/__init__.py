"""The `labourledger` command line: a thin layer over the library (`labourledger.Ledger`
and the modules it composes). Each command parses its arguments, makes one library call
and renders the result; hints that name commands and flags live here, never in the library.

Internal: the command line is the interface, not these modules.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli import (
    audits,
    demo,
    entries,
    epcis,
    grievances,
    keys,
    products,
    roles,
    serve,
    setup,
    suppliers,
    verify,
    wallet,
)
from labourledger.cli.context import SignWith, State, err, next_step, options_for
from labourledger.cli.lazy import lazy_root
from labourledger.errors import LabourLedgerError

app = typer.Typer(
    name="labourledger",
    help=(
        "Signed, chain-anchored evidence of where a product's labour came from.\n\n"
        "Example: labourledger demo"
    ),
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version_option(value: bool) -> None:
    if value:
        from labourledger.__main__ import version_line

        sys.stdout.write(version_line())
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Annotated[
        Path, typer.Option("--workspace", envvar="LABOURLEDGER_WORKSPACE", help="Workspace folder.")
    ] = Path(".labourledger"),
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
    key: Annotated[str | None, typer.Option("--key", help="Name of the signing key.")] = None,
    sign_with: Annotated[
        SignWith,
        typer.Option("--sign-with", help="key (a keystore here) or external (a wallet signs)."),
    ] = SignWith.KEY,
    typed_data_out: Annotated[
        Path | None,
        typer.Option(
            "--typed-data-out", help="With --sign-with external: the EIP-712 JSON to sign."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what labourledger does, on stderr.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            expose_value=False,
            callback=_version_option,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    ctx.obj = State(
        workspace=workspace,
        json=json_output,
        key=key,
        sign_with=sign_with,
        typed_data_out=typed_data_out,
    )
    if verbose:
        _log_verbosely()


def _log_verbosely() -> None:
    """labourledger's log records at DEBUG through rich's handler, on stderr (stdout stays
    for results and --json)."""
    import logging

    from rich.logging import RichHandler

    from labourledger.cli.context import stderr_console

    logger = logging.getLogger("labourledger")
    logger.setLevel(logging.DEBUG)
    if not any(isinstance(h, RichHandler) for h in logger.handlers):  # main() runs again in tests
        logger.addHandler(RichHandler(console=stderr_console(), show_path=False))


for module in (
    setup,
    keys,
    roles,
    suppliers,
    audits,
    grievances,
    products,
    entries,
    epcis,
    verify,
    demo,
    serve,
    wallet,
):
    module.register(app)

_GLOBAL_WITH_VALUE = ("--workspace", "--key", "--sign-with", "--typed-data-out")
_GLOBAL_FLAGS = ("--json", "--verbose", "-v")
INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C


def _hoist_global_options(argv: list[str]) -> tuple[list[str], bool]:
    """Let global options stand anywhere, e.g. `audit sign a.json --key auditor --json`:
    the arguments with those options first, and whether --json is among them."""
    front: list[str] = []
    rest: list[str] = []
    wants_json = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in _GLOBAL_FLAGS or arg.startswith(tuple(f"{o}=" for o in _GLOBAL_WITH_VALUE)):
            front.append(arg)
            wants_json = wants_json or arg == "--json"
        elif arg in _GLOBAL_WITH_VALUE and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest, wants_json


def _hand_over(exc: LabourLedgerError) -> None:
    """An entry stopped for a wallet's signature: write its typed data, say what to run,
    and exit 0. Anything else returns to be reported as an error."""
    from labourledger.envelope import SignatureRequested
    from labourledger.wallet import WalletSigner

    if not isinstance(exc, SignatureRequested) or not isinstance(exc.signer, WalletSigner):
        return
    with options_for(typed_data_out="--typed-data-out"):
        entry_id = exc.signer.hand_over(exc)
    out_file = exc.signer.typed_data_out
    err.print(f"{exc.draft.kind} {entry_id} waits for {exc.draft.issuer}'s signature")
    next_step(
        f"sign {out_file} with eth_signTypedData_v4, then run "
        f"`labourledger sign-complete {out_file} --signature 0x…`"
    )
    raise SystemExit(0)


def _usage_error(exc: Exception, code: int, wants_json: bool) -> None:
    """A bad option or argument as one line naming it, like every other bad input; the help
    that a command given no arguments prints stays whole."""
    from rich.markup import escape

    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else ""
    if message and "\n" not in message:
        err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
        if wants_json:
            _json_error(message, None, code)
        return
    show = getattr(exc, "show", None)
    if callable(show):
        show()


def _json_error(message: str, hint: str | None, code: int) -> None:
    """Under --json, the error as JSON on stdout too, so a script reading stdout gets an
    object saying why rather than nothing."""
    import json

    sys.stdout.write(json.dumps({"error": message, "hint": hint, "exit_code": code}) + "\n")


def _with_hint(message: str, hint: str | None) -> str:
    """The remedy ends the fault's line, so a copied error keeps both; rows the fault
    lists (one per line) follow it."""
    if hint is None:
        return message
    fault, newline, rows = message.partition("\n")
    if not newline:
        return f"{message}: {hint}"
    return f"{fault.removesuffix(':')}: {hint}:\n{rows}"


def main(argv: list[str] | None = None) -> None:
    """Run the command line `argv` (the process's own by default): the errors turned into
    one line and an exit code. `labourledger.__main__.main`, the console script, calls it."""
    args, wants_json = _hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    try:
        # Outside standalone mode typer returns an Exit's code (130 for Ctrl-C) instead of raising.
        code = lazy_root(app).main(args=args, prog_name="labourledger", standalone_mode=False)
    except LabourLedgerError as exc:
        from labourledger.cli.hints import hint_for

        try:
            _hand_over(exc)
        except LabourLedgerError as unwritten:  # the typed data for the wallet
            exc = unwritten
        from rich.markup import escape

        hint = hint_for(exc)
        # Escaped: a message may hold brackets ("[chain]") that rich would take for markup.
        err.print(f"[red]error:[/red] {escape(_with_hint(str(exc), hint))}", soft_wrap=True)
        if wants_json:
            _json_error(str(exc), hint, exc.exit_code)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted: nothing was half-written")
        raise SystemExit(INTERRUPTED) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        err.print("aborted")
        raise SystemExit(1) from None
    except Exception as exc:  # typer's usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is None:
            raise
        _usage_error(exc, code, wants_json)
        raise SystemExit(code) from None
    if code == INTERRUPTED:
        err.print("interrupted: nothing was half-written")
    raise SystemExit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
