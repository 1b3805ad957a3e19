"""Shared pytest fixtures.

Chains: `anvil_url` (one anvil node on loopback for the session) and `chain`
(a fresh LabourLedger deployment with a funded admin, on the embedded chain and
on anvil).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from clihelp import FAST_ENV
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger import keys
from labourledger.chain import LedgerChain, open_embedded, open_rpc

REPO = Path(__file__).resolve().parents[1]
ANVIL = REPO / "tools" / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ANVIL_START_SECONDS = 30.0
ADMIN_FUNDS_WEI = 100 * 10**18
ACCOUNT_FUNDS_WEI = 10 * 10**18


# Keys


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throwaway test keys encrypted at a low scrypt cost (subprocesses: clihelp.FAST_KEYS)."""
    monkeypatch.setattr(keys, "SCRYPT_N", 2**10)


@pytest.fixture
def passphrase_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passphrase in the environment, where a script's CLI run reads it."""
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)


# Chains


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1
        ).raise_for_status()
    except requests.RequestException:
        return False
    return True


@contextmanager
def running_anvil(*args: str) -> Iterator[str]:
    """Run anvil (binary: env LABOURLEDGER_ANVIL) on a free loopback port; yield its URL."""
    binary = Path(os.environ.get("LABOURLEDGER_ANVIL", ANVIL))
    if not binary.is_file():
        pytest.fail(
            f"anvil not found at {binary}: run `npm ci` in tools/ or set LABOURLEDGER_ANVIL",
            pytrace=False,
        )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--silent", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as node:
        try:
            deadline = time.monotonic() + ANVIL_START_SECONDS
            while not _answers(url):
                if node.poll() is not None:
                    assert node.stderr is not None
                    pytest.fail(f"anvil exited with {node.returncode}: {node.stderr.read()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"anvil did not answer on {url} within {ANVIL_START_SECONDS:.0f} s")
                time.sleep(0.05)
            yield url
        finally:
            node.terminate()


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    """One anvil node with its default funded dev accounts, for the whole session."""
    with running_anvil() as url:
        yield url


@dataclass(frozen=True)
class DeployedLedger:
    """A chain with a freshly deployed LabourLedger and its funded admin."""

    chain: LedgerChain
    admin: LocalAccount
    deploy_block: int

    def new_account(self, wei: int = ACCOUNT_FUNDS_WEI) -> LocalAccount:
        """A fresh key, funded with `wei` from the chain's dev account."""
        account: LocalAccount = Account.create()
        self.chain.fund(account.address, wei)
        return account


@pytest.fixture(params=["embedded", "anvil"])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> DeployedLedger:
    """A fresh LabourLedger deployment on each kind of chain, with a funded admin key."""
    if request.param == "embedded":
        ledger_chain = open_embedded(tmp_path / "chain" / "embedded.sqlite")
    else:
        ledger_chain = open_rpc(request.getfixturevalue("anvil_url"))
    admin: LocalAccount = Account.create()
    ledger_chain.fund(admin.address, ADMIN_FUNDS_WEI)
    deployed = ledger_chain.deploy(admin)
    return DeployedLedger(ledger_chain, admin, deployed.block_number)


# Databases

PG_URL = os.environ.get("LABOURLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test, dropped afterwards."""
    import psycopg

    schema = f"ll_test_{os.getpid()}_{time.monotonic_ns()}"
    try:
        admin = psycopg.connect(PG_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}", pytrace=False)
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def mirror_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database for one test: a SQLite file, or a fresh schema in PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mirror.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url
