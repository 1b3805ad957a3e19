"""Load on `labourledger serve`, on loopback only: latency and throughput of a batch page and
of the API with the verification cached, and of the page when every request misses.

    python benchmarks/serve_load.py                 # 2,000 requests each, 50 clients
    python benchmarks/serve_load.py --requests 500 --clients 10

The demo's workspace runs on a local anvil; the server is the real CLI process. Each
phase sends a fixed number of requests and stops; any non-200 answer is counted as an
error. Targets (issue 14): p50 <= 20 ms cached, no error with 50 concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from web3.types import RPCEndpoint

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("LABOURLEDGER_SCRYPT_N", "1024")

from conftest import running_anvil  # noqa: E402
from serving import running_server  # noqa: E402

from labourledger.chain import open_rpc  # noqa: E402
from labourledger.demo import run_demo  # noqa: E402
from labourledger.web.service import HEAD_SECONDS  # noqa: E402

PAGE = "/01/04006381333931/10/TEE-26-0425"
API = "/api/v1/batches/TEE-26-0425"
COLD_REQUESTS = 20


@dataclass(frozen=True)
class Phase:
    """What one phase measured."""

    name: str
    latencies: list[float]
    errors: int
    seconds: float

    def row(self) -> tuple[str, ...]:
        ms = sorted(x * 1000 for x in self.latencies)
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return (
            self.name,
            str(len(ms) + self.errors),
            f"{statistics.median(ms):.1f}",
            f"{p99:.1f}",
            f"{len(ms) / self.seconds:.0f}" if self.seconds else "-",
            str(self.errors),
        )


async def _load(url: str, total: int, clients: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    failures: set[str] = set()
    queue = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in queue:
            start = time.perf_counter()
            try:
                answer = await session.get(url)
                ok = answer.status_code == 200
                if not ok:
                    failures.add(f"HTTP {answer.status_code}: {answer.text[:200]}")
            except httpx.HTTPError as exc:
                ok = False
                failures.add(repr(exc))
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    async with httpx.AsyncClient(limits=limits, timeout=30) as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        seconds = time.perf_counter() - began
    for failure in sorted(failures):
        print(f"error: {failure}", file=sys.stderr)
    return latencies, errors, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    phases: list[Phase] = []
    with running_anvil() as chain, tempfile.TemporaryDirectory() as scratch:
        demo = run_demo(Path(scratch) / "demo", admin_passphrase="benchmark passphrase",
                        chain=chain)  # fmt: skip
        with running_server(demo.workspace) as base:
            node = open_rpc(chain).w3.provider
            cold: list[float] = []
            for _ in range(COLD_REQUESTS):
                # A new block: the next request finds nothing cached and verifies again.
                node.make_request(RPCEndpoint("anvil_mine"), [1])
                time.sleep(HEAD_SECONDS)  # until the server reads the head again
                start = time.perf_counter()
                assert httpx.get(base + PAGE, timeout=60).status_code == 200
                cold.append(time.perf_counter() - start)
            # No rate: the pauses for the head to be read again are not the server's time.
            phases.append(Phase("page, cold cache (1 client)", cold, 0, 0.0))
            for name, path in (("page, cached", PAGE), ("API verdict, cached", API)):
                for clients in (1, args.clients):
                    latencies, errors, seconds = asyncio.run(
                        _load(base + path, args.requests, clients)
                    )
                    phases.append(Phase(f"{name} ({clients} client{'s' if clients > 1 else ''})",
                                        latencies, errors, seconds))  # fmt: skip
    table = Table(title=f"labourledger serve on loopback ({os.cpu_count()} cores)")
    for column in ("phase", "requests", "p50 ms", "p99 ms", "req/s", "errors"):
        table.add_column(column)
    for phase in phases:
        table.add_row(*phase.row())
    Console().print(table)


if __name__ == "__main__":
    main()
