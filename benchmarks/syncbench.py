"""`sync` from anvil against raw `eth_getLogs` over the same blocks, and its RPC calls.

Anvil mines each `anchor` transaction in its own block, as a busy chain would. The
timed syncs talk to anvil directly; a separate sync goes through a counting proxy,
so the count of JSON-RPC calls (batch members counted one each) costs no time.
"""

from __future__ import annotations

import json
import statistics
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from goals import Goal, timed
from web3 import HTTPProvider, Web3

from labourledger.chain import open_rpc
from labourledger.ledger import Ledger


@contextmanager
def counting_proxy(upstream: str) -> Iterator[tuple[str, Counter[str]]]:
    """A loopback HTTP proxy to `upstream`; yields its URL and a live count per method."""
    calls: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = json.loads(body)
            for call in request if isinstance(request, list) else [request]:
                calls[call["method"]] += 1
            forward = urllib.request.Request(
                upstream, data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(forward) as answer:
                data = answer.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def anchored_chain(url: str, events: int) -> str:
    """Deploy the contract on the node at `url` and anchor `events` roots, one per block;
    returns the contract's address."""
    chain = open_rpc(url)
    admin = Account.create()
    chain.fund(admin.address, 10**20)
    chain.deploy(admin)
    chain.grant_role(admin, "BRAND", admin.address)
    for i in range(events):
        chain.anchor(admin, keccak(text=f"sync benchmark root {i}"), 1 + i % 5000)
    assert chain.contract_address is not None
    return chain.contract_address


def sync_goal(tmp: Path, url: str, events: int, runs: int) -> Goal:
    """Median `Ledger.sync` of a fresh workspace (events/s) against web3's `eth_getLogs` of
    the contract over the same blocks; RPC calls of a first and of a second, no-op sync."""
    contract = anchored_chain(url, events)
    times, synced, latest = [], 0, 0
    for run in range(runs):
        ledger = Ledger.init(tmp / f"sync-{run}", chain=url, contract=contract, confirmations=0)
        box = []
        times.append(timed(lambda: box.append(ledger.sync())))  # noqa: B023
        synced, latest = box[0].anchors, box[0].to_block
    start = Ledger.open(tmp / "sync-0").config.chain.deploy_block
    w3 = Web3(HTTPProvider(url))
    logs: list[object] = []
    raw = statistics.median(
        timed(lambda: logs.extend(w3.eth.get_logs(
            {"address": contract, "fromBlock": start, "toBlock": latest}
        )))
        for _ in range(runs)
    )  # fmt: skip
    with counting_proxy(url) as (proxy, calls):
        ledger = Ledger.init(tmp / "sync-counted", chain=proxy, contract=contract, confirmations=0)
        calls.clear()
        ledger.sync()
        first = dict(calls)
        calls.clear()
        ledger.sync()
        second = dict(calls)
    rate, reference = synced / statistics.median(times), synced / raw
    return Goal(
        value=rate, reference=reference, ratio=rate / reference, unit="events/s", goal=0.5,
        op=">=",
        detail={"anchor_events": synced, "blocks": latest - start + 1, "runs": runs,
                "rpc_calls_first_sync": sum(first.values()), "rpc_calls_by_method": first,
                "rpc_calls_second_sync": sum(second.values())},
    )  # fmt: skip
