"""Errors raised by labourledger, each mapped to a CLI exit code.

An error says what is wrong and names the library's field or argument at fault; what to do
about it is a `NextStep` (or a subclass carrying facts), which each front end words in its
own terms: the CLI's are in `labourledger.cli.hints`.
"""

from __future__ import annotations

import datetime as dt
import re
import reprlib
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

# Cross-field validators lead their message with the field at fault ("output: ...");
# the reported path takes that name.
_FIELD_PREFIX = re.compile(r"([a-z_]+): (.*)", re.DOTALL)
#: pydantic's name for one choice of a union, in an error's location: "str-enum[Severity]".
_CHOICE = re.compile(r"[a-z-]+\[.*\]", re.DOTALL)


class NextStep(StrEnum):
    """A remedy an error or a check points to, left for the front end to word."""

    #: Anchor the pending entries.
    ANCHOR = "anchor"
    #: Read the chain's anchors into the mirror again (after waiting, or a reorg).
    SYNC = "sync"
    #: Deploy a contract, or attach to one already deployed.
    DEPLOY_CONTRACT = "deploy_contract"
    #: Migrate the mirror to this version's schema.
    UPGRADE_DB = "upgrade_db"
    #: Register the facility here, or import its registration.
    REGISTER_FACILITY = "register_facility"
    #: Import the signed entry file that holds the entry.
    IMPORT_ENTRY = "import_entry"
    #: Skip the invalid rows and store the valid ones.
    SKIP_INVALID = "skip_invalid"
    #: Check against a chain, by its RPC URL, that the evidence was anchored on.
    USE_CHAIN = "use_chain"
    #: Sign with a key held here, which signs many entries at once.
    SIGN_WITH_KEY = "sign_with_key"
    #: Write elsewhere, or say that the existing file may be replaced.
    OVERWRITE = "overwrite"
    #: Re-check the mirror, to list every row altered outside labourledger.
    DOCTOR = "doctor"


class LabourLedgerError(Exception):
    """Base class of every error labourledger raises on purpose."""

    exit_code = 1
    #: What to do about it, when the remedy is another step rather than other input.
    next_step: NextStep | None = None

    def __init__(self, *args: object, next_step: NextStep | None = None) -> None:
        super().__init__(*args)
        if next_step is not None:
            self.next_step = next_step


class InputError(LabourLedgerError, ValueError):
    """Bad input from the user: a field, row, file or argument that does not validate."""

    exit_code = 2


class NoSuchKey(InputError):
    """A key name the workspace holds no keystore for."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no key named {name!r}")
        self.name = name


class NoWorkspace(InputError):
    """A folder that is not a labourledger workspace."""

    def __init__(self, root: str) -> None:
        super().__init__(f"no labourledger workspace at {root}")
        self.root = root


class WorkspaceExists(InputError):
    """A folder that already holds a workspace, where a new one was to be made."""

    def __init__(self, root: str) -> None:
        super().__init__(f"{root} is already a labourledger workspace")
        self.root = root


class MirrorBehind(InputError):
    """A mirror whose schema is older than this labourledger's (or absent): migrate it."""

    next_step = NextStep.UPGRADE_DB


class WrongChain(InputError):
    """Evidence anchored on one chain, to be checked against another."""

    next_step = NextStep.USE_CHAIN

    def __init__(self, anchored_on: int, label: str, chain_id: int) -> None:
        super().__init__(
            f"bundle: anchored on chain {anchored_on}, but {label} is chain {chain_id}"
        )


class DamagedRow(InputError):
    """A mirror row changed outside labourledger (SQLite stores any value in any column),
    so that it no longer reads as one labourledger wrote: named by its table and key."""

    next_step = NextStep.DOCTOR

    def __init__(
        self, problem: str, *, table: str | None = None, key: object = None, noun: str = "entry"
    ) -> None:
        # The entry's own row is "its row"; a row derived from it (or an anchor's) names its
        # table. Without a table (a row that did not even parse), the mirror is named.
        if table is None:
            row = "mirror: a stored row"
        else:
            own = "its row" if table == "entries" else f"its {table} row"
            row = f"{noun} {key}: {own} in the mirror"
        super().__init__(
            " ".join(f"{row} was altered or damaged ({problem}); nothing can rely on it".split())
        )
        self.table, self.key, self.problem = table, key, problem


class InvalidSignature(InputError):
    """A signature that is malformed, high-s, or does not recover to the claimed issuer."""


class UnreachableError(LabourLedgerError):
    """A chain node or database that cannot be reached."""

    exit_code = 3

    def __init__(self, message: str, *, next_step: NextStep | None = None) -> None:
        # On one line, as every error: a driver's own text may hold newlines and tabs
        # (psycopg: "Connection refused\n\tIs the server running on that host…").
        super().__init__(" ".join(message.split()), next_step=next_step)


class ChainUnavailable(UnreachableError):
    """The chain's JSON-RPC endpoint (or embedded state) cannot be used."""


class DatabaseUnavailable(UnreachableError):
    """The SQL mirror cannot be reached."""


class ChainError(LabourLedgerError):
    """A transaction reverted or the chain answered something unexpected."""

    def __init__(self, message: str, *, error_name: str | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name


def parse_date(value: str, field: str) -> dt.date:
    """A date written YYYY-MM-DD; InputError naming `field` (an option, a filter) otherwise."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: expected a date such as 2026-03-01, got {value!r}") from None


def a_kind(kind: str) -> str:
    """A kind with its article, for a message: "an audit", "a grievance"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def invalid_input(exc: ValidationError, root: str) -> InputError:
    """One line naming the first field pydantic refused, under `root` ("body", a file name)."""
    errors = exc.errors()
    first = errors[0]
    path = _path(first)
    # A union reports the value once per choice: one problem, whose choices all count.
    same = [e for e in errors if _path(e) == path]
    message = first["msg"]
    where = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    if all(e["type"] in ("enum", "literal_error") for e in same):
        choices = ", ".join(_choices(e["ctx"]["expected"]) for e in same)
        message = f"{reprlib.repr(first['input'])} is not one of: {choices}"
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        if named := _FIELD_PREFIX.fullmatch(message):
            where += f".{named[1]}"
            message = named[2]
    problems = len({_path(e) for e in errors})
    more = f" (and {problems - 1} more)" if problems > 1 else ""
    # One line, whatever a value's repr or a validator's message contains.
    return InputError(" ".join(f"{where}: {message}{more}".splitlines()))


def _path(error: ErrorDetails) -> tuple[int | str, ...]:
    """Where an error is, without the names pydantic gives a union's choices."""
    return tuple(
        p
        for p in error["loc"]
        if not (isinstance(p, str) and _CHOICE.fullmatch(p) and error["type"] != "extra_forbidden")
    )


def _choices(expected: str) -> str:
    # pydantic words the values of an enum or literal as "'a', 'b' or 'c'".
    head, _, last = expected.rpartition(" or ")
    return f"{head}, {last}" if head else last
