"""`labourledger serve` as its own process on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from conftest import _free_port

#: A deadline, not a timing target: on a loaded machine the server process takes over 30 s
#: to import its web stack, and a slow start is not a failure.
START_SECONDS = 120.0


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer within START_SECONDS."""


@contextmanager
def running_server(workspace: Path) -> Iterator[str]:
    """Serve `workspace` on 127.0.0.1 until the block ends; yields the base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "labourledger", "--workspace", str(workspace),
         "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise ServerDidNotStart(f"the server did not start: {server.communicate()[0]}")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)
