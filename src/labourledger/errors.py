"""Errors raised by labourledger, each mapped to a CLI exit code."""

from __future__ import annotations


class LabourLedgerError(Exception):
    """Base class of every error labourledger raises on purpose."""

    exit_code = 1


class InputError(LabourLedgerError, ValueError):
    """Bad input from the user: a field, row, file or argument that does not validate."""

    exit_code = 2


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
