"""Opening: a new workspace set up with its mirror, key and contract, and a workspace's
chain connected and checked against the one it was set up for."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from labourledger.chain import LedgerChain, open_embedded, open_rpc
from labourledger.errors import InputError
from labourledger.keys import KeyStore
from labourledger.mirror import Mirror
from labourledger.redaction import redact_url
from labourledger.workspace import EMBEDDED, ChainConfig, Config, Workspace

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["connect", "create", "makes_admin_key"]


def _connect(url: str, chain_file: Path) -> LedgerChain:
    return open_embedded(chain_file) if url == EMBEDDED else open_rpc(url)


def connect(workspace: Workspace) -> LedgerChain:
    """The workspace's chain with its contract attached; InputError if the chain's id is not
    the one the workspace was set up for."""
    cfg = workspace.config.chain
    connected = _connect(cfg.url, workspace.chain_file)
    if cfg.chain_id and connected.chain_id != cfg.chain_id:
        raise InputError(
            f"chain {connected.label} has chain id {connected.chain_id}, but this workspace "
            f"was set up for {cfg.chain_id}"
        )
    if cfg.contract:
        connected.attach(cfg.contract)
    return connected


def makes_admin_key(chain: str, contract: str | None) -> bool:
    """Whether `create` makes (and so needs a passphrase for) the `admin` key: on the
    embedded chain, where it deploys the contract, unless it attaches to one."""
    return chain == EMBEDDED and not contract


def create(
    ledger_type: type[Ledger],
    root: Path,
    *,
    chain: str = EMBEDDED,
    contract: str | None = None,
    db: str | None = None,
    confirmations: int | None = None,
    admin_passphrase: str | None = None,
) -> Ledger:
    """Create a workspace, migrate its mirror and connect its chain.

    On the embedded chain this also creates the `admin` key (encrypted with
    `admin_passphrase`), funds it from a dev account and deploys the
    contract. On a URL chain it records the chain and, with `contract`,
    attaches to an existing deployment."""
    chain_config = ChainConfig(
        url=chain,
        confirmations=confirmations
        if confirmations is not None
        else (0 if chain == EMBEDDED else 12),
    )
    if chain != EMBEDDED and not chain.startswith(("http://", "https://")):
        raise InputError(f"chain: expected 'embedded' or an http(s) URL, got {redact_url(chain)!r}")
    try:
        nearest = next(p for p in (root, *root.absolute().parents) if p.exists())
    except OSError as exc:  # out of reach, or a name too long for the file system
        raise InputError(f"workspace: {root}: cannot create ({exc.strerror})") from None
    if not nearest.is_dir():
        raise InputError(f"workspace: {nearest} is a file, not a folder")
    if makes_admin_key(chain, contract):
        if admin_passphrase is None:
            raise InputError("the embedded chain needs a passphrase for the admin key")
        KeyStore.check_passphrase(admin_passphrase)
    # Reach the chain and database before writing anything; a failure later (a node that
    # stops answering, a full disk) removes what was made, so init can simply run again.
    Mirror(db).check() if db else None
    made = not root.exists()
    try:
        return _make(ledger_type, root, chain_config, contract, db, admin_passphrase)
    except BaseException:
        if made:
            shutil.rmtree(root, ignore_errors=True)
        raise


def _make(
    ledger_type: type[Ledger],
    root: Path,
    chain_config: ChainConfig,
    contract: str | None,
    db: str | None,
    admin_passphrase: str | None,
) -> Ledger:
    chain = chain_config.url
    connected = _connect(chain, root.resolve() / "chain" / "embedded.sqlite")
    chain_config.chain_id = connected.chain_id
    if contract:
        connected.attach(contract)
        chain_config.contract = connected.contract_address or contract
    workspace = Workspace.create(root, Config(chain=chain_config, mirror_url=db or ""))
    ledger = ledger_type(workspace)
    ledger.__dict__["chain"] = connected
    ledger.mirror.upgrade()
    if makes_admin_key(chain, contract):
        assert admin_passphrase is not None
        info = workspace.keys.new("admin", admin_passphrase)
        connected.fund(info.address, 100 * 10**18)
        ledger.deploy(workspace.keys.unlock("admin", admin_passphrase))
    return ledger
