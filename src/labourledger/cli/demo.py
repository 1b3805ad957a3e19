"""`labourledger demo`: the four-tier apparel story, end to end, in under a minute."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import next_step, out, state
from labourledger.cli.verify import print_report
from labourledger.errors import InputError


def register(app: typer.Typer) -> None:
    """Add this command to the root app."""
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Where to keep the demo workspace (default: a new temporary folder)."
        ),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the batch page on http://127.0.0.1:PORT.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --serve.")] = 8000,
) -> None:
    """Run a realistic apparel story on the embedded chain: FAIL, remediation, a new batch PASS.

    Example: labourledger demo
    """
    from labourledger.demo import run_demo

    st = state(ctx)
    given = ctx.find_root().get_parameter_source("workspace")
    if given is not None and given.name == "COMMANDLINE":
        # The demo makes a workspace of its own, beside its report and bundle.
        raise InputError("--workspace: the demo makes its own workspace; choose where with --dir")
    root = directory or Path(tempfile.mkdtemp(prefix="labourledger-demo-"))

    def say(line: str) -> None:
        if not st.json:
            out.print(f"- {line}")

    result = run_demo(root / "workspace", say=say)
    data = {
        "workspace": str(result.workspace),
        "batch": result.batch,
        "verdict_before": result.before["verdict"],
        "verdict_same_batch_after_remediation": result.still["verdict"],
        "verdict_after": result.after["verdict"],
        "bundle_verdict": result.bundle_verdict,
        "report": str(result.report),
        "bundle": str(result.bundle),
    }

    def human() -> None:
        out.print("\n[bold]Before remediation[/bold]")
        print_report(result.before)
        out.print("\n[bold]The same batch after remediation[/bold] (made while F-1 was open)")
        print_report(result.still)
        out.print("\n[bold]A batch made after remediation[/bold]")
        print_report(result.after)
        out.print(f"\ntracing report: {result.report}")
        out.print(f"bundle:         {result.bundle}")

    st.emit(data, human)
    if serve:
        from labourledger.cli.serve import run_server

        lot = result.after["batch"]["lot"]
        out.print(f"\nthe batch page: http://127.0.0.1:{port}/batches/{lot} (Ctrl-C stops)")
        run_server(result.workspace, host="127.0.0.1", port=port)
        return
    # The bundle's anchors are on the demo's embedded chain, which lives in its workspace.
    next_step(
        f"open {result.report} in a browser; try "
        f"`labourledger --workspace {result.workspace} verify --bundle {result.bundle}`"
    )
