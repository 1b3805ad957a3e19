"""Errors raised by labourledger, each mapped to a CLI exit code."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

# Cross-field validators lead their message with the field at fault ("output: ...");
# the reported path takes that name.
_FIELD_PREFIX = re.compile(r"([a-z_]+): (.*)", re.DOTALL)


class LabourLedgerError(Exception):
    """Base class of every error labourledger raises on purpose."""

    exit_code = 1


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


class InvalidSignature(InputError):
    """A signature that is malformed, high-s, or does not recover to the claimed issuer."""


class UnreachableError(LabourLedgerError):
    """A chain node or database that cannot be reached."""

    exit_code = 3


class ChainUnavailable(UnreachableError):
    """The chain's JSON-RPC endpoint (or embedded state) cannot be used."""


class DatabaseUnavailable(UnreachableError):
    """The SQL mirror cannot be reached."""


class ChainError(LabourLedgerError):
    """A transaction reverted or the chain answered something unexpected."""

    def __init__(self, message: str, *, error_name: str | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name


def invalid_input(exc: ValidationError, root: str) -> InputError:
    """One line naming the first field pydantic refused, under `root` ("body", a file name)."""
    errors = exc.errors()
    first = errors[0]
    loc = [root, *map(str, first["loc"])]
    message = first["msg"]
    if first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        if named := _FIELD_PREFIX.fullmatch(message):
            loc.append(named[1])
            message = named[2]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    # One line, whatever a value's repr or a validator's message contains.
    return InputError(" ".join(f"{'.'.join(loc)}: {message}{more}".splitlines()))
