"""The workspace folder: TOML config, keys, mirror, embedded chain state, evidence."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from labourledger.errors import InputError, NoWorkspace, WorkspaceExists
from labourledger.keys import KeyStore

__all__ = ["EMBEDDED", "ChainConfig", "Config", "PolicyConfig", "Workspace"]

EMBEDDED = "embedded"
CONFIG_FILE = "config.toml"
MIRROR_FILE = "mirror.sqlite"
#: A SQLite URL; after it, a path not starting with "/" is relative.
SQLITE = "sqlite:///"
#: Only the workspace's owner may read or list anything in it: keys, evidence, the mirror.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SUBDIRS = ("keys", "chain", "evidence")
#: Deeper than any chain reorganises (Ethereum finalises in under 100 blocks): more is a
#: slip that would keep every anchor pending.
MAX_CONFIRMATIONS = 1000


@dataclass
class ChainConfig:
    """Where the chain is and which contract the workspace uses."""

    url: str = EMBEDDED
    chain_id: int = 0
    contract: str = ""
    deploy_block: int = 0
    confirmations: int = 0

    def __post_init__(self) -> None:
        _check_types(self)
        if not 0 <= self.confirmations <= MAX_CONFIRMATIONS:
            raise InputError(
                f"confirmations: expected a whole number from 0 to {MAX_CONFIRMATIONS}, "
                f"got {self.confirmations!r}"
            )

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
    #: Admin accounts whose accreditations a verdict may rest on; empty: whichever one the
    #: contract has, named in the report.
    trusted_admins: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_types(self)


#: The types a setting may have, by its annotation, and how to name each in an error.
_SETTING_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    # A hand-edited config may hold true, which Python counts as an int, or "12".
    "int": (lambda v: type(v) is int, "a whole number"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "list[str]": (
        lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "a list of strings",
    ),
}


def _check_types(settings: ChainConfig | PolicyConfig) -> None:
    """InputError naming the first setting whose value is not of its annotated type."""
    for setting in fields(settings):
        value = getattr(settings, setting.name)
        holds, named = _SETTING_TYPES[str(setting.type)]
        if not holds(value):
            raise InputError(f"{setting.name}: expected {named}, got {value!r}")


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
        sections: dict[str, Any] = {}
        for name, settings in (("chain", ChainConfig), ("policy", PolicyConfig)):
            try:
                sections[name] = settings(**data.get(name, {}))
            except TypeError as exc:
                raise InputError(f"{source} [{name}]: unexpected setting ({exc})") from None
            except InputError as exc:
                raise InputError(f"{source} [{name}] {exc}") from None
        mirror_url = str(data.get("mirror", {}).get("url", ""))
        return cls(chain=sections["chain"], mirror_url=mirror_url, policy=sections["policy"])


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

    @property
    def mirror_url(self) -> str:
        """The mirror's URL. A SQLite file is named relative to the workspace when it is
        inside it, so a moved or copied workspace still opens its own mirror."""
        url = self.config.mirror_url
        path = url.removeprefix(SQLITE)
        if url.startswith(SQLITE) and path and not path.startswith("/"):
            return f"{SQLITE}{self.root / path}"
        return url

    def _stored_mirror_url(self, url: str) -> str:
        """How `url` (relative SQLite paths meaning the current directory) is kept in the
        config: a SQLite file inside the workspace by its path relative to it."""
        if not url:
            return f"{SQLITE}{MIRROR_FILE}"
        path = url.removeprefix(SQLITE)
        if not url.startswith(SQLITE) or not path or path.startswith(":memory:"):
            return url
        file, sep, query = path.partition("?")
        absolute = Path(file).resolve()
        inside = absolute.is_relative_to(self.root)
        shown = absolute.relative_to(self.root) if inside else absolute
        return f"{SQLITE}{shown.as_posix()}{sep}{query}"

    @classmethod
    def create(cls, root: Path, config: Config) -> Workspace:
        """Make a new workspace folder, readable by its owner only; refuses to overwrite an
        existing one."""
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise WorkspaceExists(str(root))
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, PRIVATE_DIR)
        for sub in SUBDIRS:
            (root / sub).mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.chmod(root / sub, PRIVATE_DIR)
        workspace = cls(root, config)
        config.mirror_url = workspace._stored_mirror_url(config.mirror_url)
        mirror_file = workspace.mirror_file
        if mirror_file is not None and not mirror_file.exists():
            # SQLite gives its journal files the database file's mode.
            os.close(os.open(mirror_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        workspace.save()
        return workspace

    @property
    def mirror_file(self) -> Path | None:
        """The SQLite mirror's file when it is inside the workspace."""
        url = self.mirror_url
        if not url.startswith(SQLITE):
            return None
        path = Path(url.removeprefix(SQLITE).partition("?")[0])
        return path if path.is_relative_to(self.root) else None

    def loose_permissions(self) -> list[str]:
        """Files and folders of the workspace that others than its owner may read, write or
        list (the workspace, its folders, keys, config and SQLite mirror)."""
        folders = [self.root, *(self.root / sub for sub in SUBDIRS)]
        files = [self.config_path, *sorted((self.root / "keys").glob("*.json"))]
        if self.mirror_file is not None:
            files += [self.mirror_file.with_name(self.mirror_file.name + s) for s in ("", "-wal")]
        loose = [p for p in [*folders, *files] if p.exists() and p.stat().st_mode & 0o077]
        return [f"{p.relative_to(self.root).as_posix() or '.'}" for p in loose]

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace (InputError telling the user to run `init` if absent)."""
        root = root.resolve()
        path = root / CONFIG_FILE
        try:
            text = path.read_text()
        except (FileNotFoundError, NotADirectoryError):
            raise NoWorkspace(str(root)) from None
        except OSError as exc:  # out of reach, or a name too long for the file system
            raise InputError(f"workspace: {path}: cannot read ({exc.strerror})") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from None
        return cls(root, Config.from_toml(data, path))

    def save(self) -> None:
        """Write `config.toml` atomically."""
        tmp = self.config_path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w") as handle:
            handle.write(tomli_w.dumps(self.config.to_toml()))
        tmp.replace(self.config_path)
