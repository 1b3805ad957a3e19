"""The workspace folder: TOML config, keys, mirror, embedded chain state, evidence."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from labourledger.errors import InputError
from labourledger.keys import KeyStore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["EMBEDDED", "ChainConfig", "Config", "PolicyConfig", "Workspace"]

EMBEDDED = "embedded"
CONFIG_FILE = "config.toml"


@dataclass
class ChainConfig:
    """Where the chain is and which contract the workspace uses."""

    url: str = EMBEDDED
    chain_id: int = 0
    contract: str = ""
    deploy_block: int = 0
    confirmations: int = 0

    @property
    def is_embedded(self) -> bool:
        """Whether this is the local development chain kept in the workspace."""
        return self.url == EMBEDDED


@dataclass
class PolicyConfig:
    """Labour provenance policy defaults; `verify` flags override them per run."""

    audit_validity_months: int = 24
    fail_severities: list[str] = field(default_factory=lambda: ["zero_tolerance", "critical"])
    attention_severities: list[str] = field(default_factory=lambda: ["major"])
    high_risk_notice: list[str] = field(default_factory=lambda: ["unannounced", "semi_announced"])
    required_tier: int = 4
    missing_audit: str = "attention"
    goods_list: str = ""
    look_ahead_months: int = 6


@dataclass
class Config:
    """The whole `config.toml`."""

    chain: ChainConfig = field(default_factory=ChainConfig)
    mirror_url: str = ""
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def to_toml(self) -> dict[str, Any]:
        """The TOML document, as a dict."""
        return {
            "chain": asdict(self.chain),
            "mirror": {"url": self.mirror_url},
            "policy": asdict(self.policy),
        }

    @classmethod
    def from_toml(cls, data: dict[str, Any], source: Path) -> Config:
        """Parse `config.toml`, naming the section of any bad value."""
        try:
            return cls(
                chain=ChainConfig(**data.get("chain", {})),
                mirror_url=str(data.get("mirror", {}).get("url", "")),
                policy=PolicyConfig(**data.get("policy", {})),
            )
        except TypeError as exc:
            raise InputError(f"{source}: unexpected setting ({exc})") from None


class Workspace:
    """One party's labourledger folder (`--workspace`, default `./.labourledger`)."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config

    @property
    def config_path(self) -> Path:
        """The TOML config file."""
        return self.root / CONFIG_FILE

    @property
    def keys(self) -> KeyStore:
        """The encrypted keystores."""
        return KeyStore(self.root / "keys")

    @property
    def chain_file(self) -> Path:
        """Persistent state of the embedded chain."""
        return self.root / "chain" / "embedded.sqlite"

    @property
    def evidence_dir(self) -> Path:
        """Evidence files, stored by their salted content hash."""
        return self.root / "evidence"

    def default_mirror_url(self) -> str:
        """SQLite mirror inside the workspace."""
        return f"sqlite:///{(self.root / 'mirror.sqlite').resolve()}"

    @classmethod
    def create(cls, root: Path, config: Config) -> Workspace:
        """Make a new workspace folder; refuses to overwrite an existing one."""
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise InputError(f"{root} is already a labourledger workspace; use another --workspace")
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("keys", "chain", "evidence"):
            (root / sub).mkdir(exist_ok=True)
        workspace = cls(root, config)
        if not config.mirror_url:
            config.mirror_url = workspace.default_mirror_url()
        workspace.save()
        return workspace

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace (InputError telling the user to run `init` if absent)."""
        root = root.resolve()
        path = root / CONFIG_FILE
        if not path.exists():
            raise InputError(
                f"no labourledger workspace at {root}: run `labourledger init` "
                "or pass --workspace DIR"
            )
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from None
        return cls(root, Config.from_toml(data, path))

    def save(self) -> None:
        """Write `config.toml` atomically."""
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(tomli_w.dumps(self.config.to_toml()))
        tmp.replace(self.config_path)
