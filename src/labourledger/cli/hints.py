"""What to run next after a library error, in this command line's terms.

The library's errors say what is wrong and carry the facts (a key's name, a folder); only
the CLI knows its commands and flags, so it words the remedy here (sigstore-python's
`Error.diagnostics()` is the model).
"""

from __future__ import annotations

from labourledger.errors import (
    LabourLedgerError,
    MirrorBehind,
    NoSuchKey,
    NoWorkspace,
    WorkspaceExists,
)

__all__ = ["hint_for"]


def hint_for(exc: LabourLedgerError) -> str | None:
    """The remedy for `exc` as a command to run or a flag to pass, if there is one."""
    if isinstance(exc, NoSuchKey):
        return f"create it with `labourledger keys new {exc.name}`"
    if isinstance(exc, NoWorkspace):
        return "run `labourledger init` or pass --workspace DIR"
    if isinstance(exc, WorkspaceExists):
        return "use another --workspace"
    if isinstance(exc, MirrorBehind):
        return "run `labourledger db upgrade`"
    return None
