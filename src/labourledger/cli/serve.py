"""`serve` the verification pages and API, and print a batch's `qr` code."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path
from typing import Annotated

import typer

from labourledger.cli.context import next_step, options_for, out, state
from labourledger.errors import InputError


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("serve")(serve)
    app.command("qr")(qr)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 8000,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Public address for links and QR codes (default: as asked)."
        ),
    ] = None,
) -> None:
    """Serve read-only batch pages (GS1 Digital Link /01/GTIN/10/LOT) and the JSON API.

    Opens the mirror read-only and loads no key. Example: labourledger serve --port 8000
    """
    run_server(state(ctx).workspace, host=host, port=port, base_url=base_url)


def run_server(root: Path, *, host: str, port: int, base_url: str | None = None) -> None:
    """Serve the workspace at `root` until interrupted."""
    import gc

    import uvicorn

    from labourledger.web.app import API_VERSION, create_app
    from labourledger.web.service import ReadOnlyWorkspace

    if not 0 <= port <= 65535:
        raise InputError(f"--port: expected 0 to 65535, got {port}")
    if base_url is not None:
        from labourledger.digital_link import check_base_url

        with options_for(base_url="--base-url"):
            check_base_url(base_url)
    workspace = ReadOnlyWorkspace(root)
    workspace.check()
    # Bound before saying where: a port in use is refused first, and port 0's pick is named.
    listening = _listening(host, port)
    port = listening.getsockname()[1]
    if not _loopback(host):
        out.print(f"[yellow]listening on {host}: reachable from other machines[/yellow]")
    out.print(
        f"serving {workspace.ledger.workspace.root} read-only on http://{host}:{port} "
        f"(API: /api/{API_VERSION}/, OpenAPI: /api/{API_VERSION}/openapi.json)"
    )
    # Long-lived, unlike the other commands (see labourledger.__main__): collect again,
    # skipping what start-up loaded, which lives as long as the server.
    gc.freeze()
    gc.enable()
    config = uvicorn.Config(
        create_app(workspace, base_url=base_url),
        host=host,
        port=port,
        log_level="warning",
        server_header=False,
        # Long enough that a client reusing a connection under load does not find it closed.
        timeout_keep_alive=20,
        limit_concurrency=200,
        h11_max_incomplete_event_size=16 * 1024,
    )
    uvicorn.Server(config).run(sockets=[listening])


def _listening(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port`; InputError naming the option at fault."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host: cannot listen on {host!r} ({exc})") from None
    listening = socket.socket(family, kind, proto)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind(address)
        listening.listen(2048)
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"--port: {port} is in use; choose another (0 picks a free one)"
            ) from None
        raise InputError(f"--host: cannot listen on {host}:{port} ({exc.strerror})") from None
    return listening


def qr(
    ctx: typer.Context,
    lot: Annotated[str, typer.Argument(help="Batch lot or 0x id.")],
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="Where `labourledger serve` is reachable, e.g. https://verify.example.com",
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="File to write: .svg, .png or .pdf.")
    ],
) -> None:
    """Write the QR code of the batch's GS1 Digital Link: {base}/01/{GTIN}/10/{lot}.

    Example: labourledger qr TEE-26-0425 --base-url https://verify.example.com -o qr.svg
    """
    from labourledger.digital_link import write_batch_qr

    st = state(ctx)
    with options_for(base_url="--base-url", path="-o"):
        link = write_batch_qr(st.workspace, lot, base_url, output)
    url = link.url
    data = {"file": str(output), "url": url}
    st.emit(data, lambda: out.print(f"wrote {output}: {url}"))
    if link.gtin is None:
        next_step("the product has no GTIN, so the code links to /batches/LOT, not a Digital Link")
