"""Shared CLI state: global options, the opened ledger, signing keys, output."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from labourledger.errors import InputError, LabourLedgerError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from rich.console import Console

    from labourledger.chain import LedgerChain
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.progress import Progress

PASSPHRASE_ENV = "LABOURLEDGER_PASSPHRASE"

# Options of the commands that sign one entry (see `deliver` and `parse_when`).
RecordOption = Annotated[
    bool,
    typer.Option(
        "--record",
        help="Store the entry in this workspace (pending) as well as, or instead of, a file.",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write the signed entry file here (default: KIND-ID.json unless --record).",
    ),
]
IssuedAtOption = Annotated[
    str | None,
    typer.Option(
        "--issued-at",
        help="When it was signed, if not now: Unix seconds or ISO date (offline work).",
    ),
]


class _LazyConsole:
    """A rich Console made on first use: `--help` and `--version` print through click, and
    importing rich's console would cost a fifth of their start-up time."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The Console itself, for rich objects that need one (a live progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


_stderr = _LazyConsole(stderr=True)
#: Rich output goes to stdout unless --json claims it; messages go to stderr.
out = cast("Console", _LazyConsole(stderr=False))
err = cast("Console", _stderr)


def stderr_console() -> Console:
    """The Console behind `err` (rich's live displays use the console protocol itself)."""
    return _stderr.console


class SignWith(StrEnum):
    """What signs entries: a keystore in the workspace, or an external wallet."""

    KEY = "key"
    EXTERNAL = "external"


@dataclass
class State:
    """Global options (`--workspace`, `--json`, `--key`) and lazily opened resources."""

    workspace: Path
    json: bool = False
    key: str | None = None
    #: "key" (a keystore here) or "external" (a wallet handed EIP-712 typed data).
    sign_with: SignWith = SignWith.KEY
    typed_data_out: Path | None = None
    opened: Ledger | None = field(default=None, repr=False)
    #: The key this command signed with, so hints can speak to the party it belongs to.
    signed_with: str | None = None

    @property
    def ledger(self) -> Ledger:
        """The workspace's ledger, opened on first use."""
        if self.opened is None:
            from labourledger.ledger import Ledger

            self.opened = Ledger.open(self.workspace)
        return self.opened

    def signer(self, default: str | None = None, *, purpose: str = "sign") -> HashSigner:
        """What signs an entry: the `--key` key (or `default`), unlocked with its passphrase;
        under `--sign-with external`, that key's address (or `--key 0x…`) as a wallet that
        is handed the typed data instead."""
        name = self.key or default
        if name is None:
            raise InputError(f"--key: name the key to {purpose} with, e.g. --key brand")
        if self.sign_with is SignWith.EXTERNAL:
            return self._wallet(name)
        return self.sender(name, purpose=purpose)

    def signer_as(self, role: str) -> HashSigner:
        """`signer`, defaulting to the key named after `role` (`key_name`)."""
        return self.signer(key_name(role))

    def _wallet(self, name: str) -> HashSigner:
        from labourledger.kinds import checksum_address
        from labourledger.wallet import DRAFTS, WalletSigner

        if self.typed_data_out is None:
            raise InputError("--typed-data-out: --sign-with external needs a file to write")
        if name.startswith("0x"):
            address = checksum_address(name, "--key")
        else:
            address = self.ledger.workspace.keys.address(name)  # only its address is used
        return WalletSigner(address, self.typed_data_out, self.ledger.workspace.root / DRAFTS)

    def sender(self, default: str | None = None, *, purpose: str) -> LocalAccount:
        """The `--key` key (or `default`) unlocked, for what only a key held here can do:
        send a transaction."""
        name = self.key or default
        if name is None:
            raise InputError(f"--key: name the key to {purpose} with, e.g. --key brand")
        if self.sign_with is not SignWith.KEY:
            raise InputError(f"--sign-with external: to {purpose} needs a key held here")
        keys = self.ledger.workspace.keys
        keys.address(name)  # fails with a helpful message before any prompt
        account = keys.unlock(name, passphrase(f"Passphrase for key {name!r}"))
        self.signed_with = name
        return account

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        """Print `data` as JSON under --json, else call `human` to draw rich output."""
        if self.json:
            # Indented for a person at a terminal; compact down a pipe, where the stdlib's
            # C encoder writes a large report ten times faster than its indenting one, and
            # without the spaces after separators (6% of a large report).
            if sys.stdout.isatty():
                sys.stdout.write(json.dumps(data, indent=2, default=str))
            else:
                _write_compact(data)
            sys.stdout.write("\n")
        else:
            human()


def _write_compact(data: Any) -> None:
    """`data` as compact JSON on stdout, a dict a member at a time: a large report's text
    is then never held whole (as text, then bytes, 5 MB each, at the top of verify's peak)."""
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        sys.stdout.write(json.dumps(data, separators=(",", ":"), default=str))
        return
    sys.stdout.write("{")
    for n, (key, value) in enumerate(data.items()):
        sys.stdout.write(("," if n else "") + json.dumps(key) + ":")
        sys.stdout.write(json.dumps(value, separators=(",", ":"), default=str))
    sys.stdout.write("}")


def key_name(role: str) -> str:
    """The name a key holding `role` has by convention: auditor for AUDITOR, channel for
    GRIEVANCE_CHANNEL."""
    return role.rsplit("_", 1)[-1].lower()


@contextmanager
def progress_bar(st: State, what: str) -> Iterator[Progress]:
    """A bar on stderr that the library's `(done, total)` calls move (none under --json)."""
    from rich.progress import Progress as Bar

    # No refresh thread: verification forks a process pool only when it is the sole thread,
    # so the bar redraws from the calls, at most ten times a second.
    with Bar(console=stderr_console(), disable=st.json, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(what, total=None)
        drawn = 0.0

        def report(done: int, total: int) -> None:
            nonlocal drawn
            bar.update(task, completed=done, total=total)
            if time.monotonic() - drawn >= 0.1 or done == total:
                drawn = time.monotonic()
                bar.refresh()

        yield report


def state(ctx: typer.Context) -> State:
    """The State stored on the root context."""
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def passphrase(prompt: str, *, confirm: bool = False) -> str:
    """The passphrase from LABOURLEDGER_PASSPHRASE, else a hidden prompt (never echoed)."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise InputError(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


@contextmanager
def options_for(**fields: str) -> Iterator[None]:
    """Library errors name the field at fault (`amount: ...`); this command's user knows it
    as an option (`--amount: ...`): reword the error's lead, keeping its type and exit code."""
    try:
        yield
    except InputError as exc:
        message = str(exc)
        for name, option in fields.items():
            if message.startswith(f"{name}:"):
                exc.args = (option + message[len(name) :], *exc.args[1:])
                break
        raise


def next_step(message: str) -> None:
    """A hint about what to run next (stderr, so --json stdout stays clean), on one line for
    the terminal to wrap: commands and paths in it must survive a copy and paste."""
    err.print(f"[dim]→ {message}[/dim]", soft_wrap=True)


def pending_hint(st: State, *, wrote_file: bool = False) -> None:
    """When entries are waiting: anchor them with the key just used if it can pay for the
    transaction; else, for a command that writes signed entry files (`wrote_file`: an
    auditor or supplier often holds no ether), send the file to a brand; else anchor with a
    key that holds ether, or fund this one."""
    pending = st.ledger.mirror.counts()["pending"]
    if not pending:
        return
    name = st.signed_with or "brand"
    if st.signed_with is None or _holds_ether(st, name):
        next_step(f"{pending} entries pending: run `labourledger anchor --key {name}`")
        return
    short = f"{pending} entries pending here, and key {name} holds no ether to anchor them"
    if wrote_file:
        next_step(
            f"{short}: send the signed entry file (-o FILE) to the brand, who runs "
            "`labourledger import FILE` and anchors it"
        )
    else:
        next_step(
            f"{short}: anchor with a key that holds some (`labourledger anchor --key KEY`), "
            f"or, on a development chain, run `labourledger keys fund {name}`"
        )


def role_warning(st: State, entries: Sequence[SignedEntry]) -> None:
    """Warn when the contract's roles, now, would not let a signed entry's issuer issue it:
    a brand importing it refuses it, and verify counts it only if the role is held when it
    is anchored. Silent when the chain cannot be asked: signing works offline."""
    from rich.markup import escape

    from labourledger.authority import role_granters, roles_allowed
    from labourledger.importing import eligibility

    asked: set[tuple[str, str, tuple[str, ...]]] = set()
    for entry in entries:
        roles = roles_allowed(entry.kind, entry.body)
        if (entry.kind, entry.issuer, roles) in asked:
            continue  # one question per signer and kind, not per row of an import
        asked.add((entry.kind, entry.issuer, roles))
        try:
            refusals = eligibility(st.ledger, entry)
        except LabourLedgerError:
            return
        for refusal in refusals:
            err.print(
                f"[yellow]warning:[/yellow] {escape(refusal)}: a brand importing the entry "
                "refuses it, and verify counts it only if the role is held when it is anchored",
                soft_wrap=True,
            )
        if refusals and entry.kind != "revocation":
            granter = role_granters(roles[0])[0]
            next_step(
                f"before it is imported or anchored, ask the holder of {granter} to run "
                f"`labourledger roles grant {roles[0]} {entry.issuer} --key {key_name(granter)}`"
            )


def _holds_ether(st: State, name: str) -> bool:
    """Whether key `name` can pay for an anchor (False when the chain cannot be asked:
    signing works offline, anchoring does not)."""
    try:
        return st.ledger.chain.balance(st.ledger.workspace.keys.address(name)) > 0
    except LabourLedgerError:
        return False


def parse_when(value: str | None) -> int | None:
    """`--issued-at`: Unix seconds, an ISO date (midnight UTC) or an ISO date-time."""
    if value is None:
        return None
    from labourledger.envelope import LAST_READABLE_SECOND

    seconds: int | None
    if value.isdecimal():
        # More digits are past year 9999, and int() refuses over 4,300 of them.
        seconds = int(value) if len(value.lstrip("0")) <= 12 else None
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                "--issued-at: expected Unix seconds or an ISO date such as 2026-03-01, "
                f"got {value!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = int(moment.timestamp())
    if seconds is None or not 0 <= seconds <= LAST_READABLE_SECOND:
        raise InputError(
            f"--issued-at: {value[:40]!r} is not between 1970-01-01 and 9999-12-31, "
            "the times an entry can be signed at"
        )
    return seconds


def chain_at(st: State, url: str | None) -> LedgerChain:
    """`--chain`: the chain at that RPC URL, else this workspace's."""
    if url is None:
        return st.ledger.chain
    from labourledger.chain import open_rpc

    return open_rpc(url)


def _send_or_import(st: State, entry: SignedEntry, output: Path, stored: bool) -> str | None:
    """Where a signed entry file goes next: to the brand that anchors it, unless its signer
    is a brand, which imports it here itself (None: `stored` here already)."""
    try:
        brand = st.ledger.chain.has_role("BRAND", entry.issuer)
    except LabourLedgerError:  # offline: the usual case, a supplier or auditor sending it
        brand = False
    if brand:
        return None if stored else f"store it here with `labourledger import {output}`"
    return f"send {output} to the brand, who runs `labourledger import {output}`"


def deliver(st: State, entry: SignedEntry, output: Path | None, record: bool) -> None:
    """Write the signed entry file and/or store the entry, then say what happened."""
    data = entry.to_json_dict()
    entry_id = data["entry_id"]
    if output is None and not record:
        output = Path(f"{entry.kind}-{entry_id[2:12]}.json")
    if output is not None:
        st.ledger.write_entries(output, [entry])
    if record:
        st.ledger.store([entry])
    data["file"] = str(output) if output else None

    def human() -> None:
        out.print(f"signed {entry.kind} {entry_id}")
        if output:
            out.print(f"wrote {output}")

    st.emit(data, human)
    role_warning(st, [entry])
    if output and (hint := _send_or_import(st, entry, output, record)):
        next_step(hint)
    if record:
        pending_hint(st, wrote_file=True)
