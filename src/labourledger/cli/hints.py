"""What to run next after a library error or check, in this command line's terms.

The library's errors and checks say what is wrong and carry the facts (a key's name, a
folder, a `NextStep`); only the CLI knows its commands and flags, so it words the remedy
here (sigstore-python's `Error.diagnostics()` is the model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labourledger.errors import (
    LabourLedgerError,
    NextStep,
    NoSuchKey,
    NoWorkspace,
    WorkspaceExists,
)

if TYPE_CHECKING:
    from labourledger.importing import NotOperator

__all__ = ["hint_for", "not_operator", "step"]

_STEPS = {
    NextStep.ANCHOR: "run `labourledger anchor`",
    NextStep.SYNC: "run `labourledger sync`",
    NextStep.DEPLOY_CONTRACT: (
        "run `labourledger contracts deploy --key admin` or `labourledger init --contract ADDRESS`"
    ),
    NextStep.UPGRADE_DB: "run `labourledger db upgrade`",
    NextStep.REGISTER_FACILITY: (
        "register it with `labourledger supplier add`, or import its registration"
    ),
    NextStep.IMPORT_ENTRY: "check the id, or `labourledger import` the signed entry file",
    NextStep.SKIP_INVALID: "fix them, or pass --skip-invalid",
    NextStep.USE_CHAIN: "pass --chain with an RPC URL of that chain",
    NextStep.SIGN_WITH_KEY: "sign them with a key held here (--key NAME)",
    NextStep.OVERWRITE: "choose another path, or pass --force to overwrite it",
    NextStep.DOCTOR: "run `labourledger doctor` to list every row that was altered",
}


def step(next_step: NextStep) -> str:
    """A `NextStep` as the command or flag that takes it."""
    return _STEPS[next_step]


def hint_for(exc: LabourLedgerError) -> str | None:
    """The remedy for `exc` as a command to run or a flag to pass, if there is one."""
    if isinstance(exc, NoSuchKey):
        return f"create it with `labourledger keys new {exc.name}`"
    if isinstance(exc, NoWorkspace):
        return "run `labourledger init` or pass --workspace DIR"
    if isinstance(exc, WorkspaceExists):
        return "use another --workspace"
    return step(exc.next_step) if exc.next_step else None


def not_operator(warning: NotOperator) -> str:
    """An imported entry whose issuer a brand has yet to name as an operator, and the
    command that names it."""
    return (
        f"{warning}; a brand can run "
        f"`labourledger supplier operators {warning.facility} --add {warning.issuer}`"
    )
