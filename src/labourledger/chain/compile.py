"""Compile `contracts/LabourLedger.sol` with py-solc-x into the artifact the package ships.

solc comes from, in order: `LABOURLEDGER_SOLC` (any solc executable), a
version py-solc-x has installed, or solc-js from npm driven through its
`compile()` API by a few lines of node (its CLI prints a banner before the
JSON, which py-solc-x cannot parse). OpenZeppelin sources come from a
`node_modules` folder and are passed to solc by content, so the compile does
not depend on where they sit on disk.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import solcx
from solcx.exceptions import SolcError, SolcNotInstalled

from labourledger.errors import InputError

__all__ = [
    "CONTRACT",
    "SETTINGS",
    "BuiltArtifact",
    "build_artifact",
    "build_contract",
    "find_node_modules",
    "write_artifact",
]

CONTRACT = "LabourLedger"
SOURCE_KEY = "contracts/LabourLedger.sol"
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    # cancun: supported by py-evm, anvil and today's public chains and L2s.
    "evmVersion": "cancun",
    # The IR pipeline trims about 400 gas of ABI decoding from anchorIndexed's fixed cost,
    # which keeps a root within its 50,000-gas budget (benchmarks/run.py prints the figures).
    "viaIR": True,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}
_IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*\sfrom\s+)?["\']([^"\']+)["\']', re.MULTILINE)
_SOLCJS_DRIVER = """\
#!/usr/bin/env node
// Runs solc-js as a solc executable for py-solc-x: --version, and --standard-json on stdin.
const solc = require(%s);
if (process.argv.includes("--version")) {
  console.log("solc, the solidity compiler commandline interface\\nVersion: " + solc.version());
  process.exit(0);
}
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => { process.stdout.write(solc.compile(input)); });
"""


def find_node_modules(start: Path) -> Path:
    """The `node_modules` holding OpenZeppelin: `tools/node_modules` at or above `start`."""
    for folder in (start, *start.parents):
        for candidate in (folder / "tools" / "node_modules", folder / "node_modules"):
            if (candidate / "@openzeppelin" / "contracts").is_dir():
                return candidate
    raise InputError(
        "node_modules: no @openzeppelin/contracts found; run "
        "`npm install --prefix tools --no-package-lock` in the labourledger checkout"
    )


def _sources(contract: Path, node_modules: Path) -> dict[str, dict[str, str]]:
    """The contract and every file it imports, keyed as solc sees them."""
    sources: dict[str, dict[str, str]] = {}
    pending = [(SOURCE_KEY, contract)]
    while pending:
        key, path = pending.pop()
        if key in sources:
            continue
        text = path.read_text("utf-8")
        sources[key] = {"content": text}
        for imported in _IMPORT.findall(text):
            if imported.startswith("."):
                resolved = os.path.normpath(str(PurePosixPath(key).parent / imported))
                imported_key = PurePosixPath(resolved).as_posix()
            else:
                imported_key = imported
            if imported_key.startswith("contracts/"):
                pending.append(
                    (imported_key, contract.parent / imported_key.removeprefix("contracts/"))
                )
            else:
                pending.append((imported_key, node_modules / imported_key))
    return dict(sorted(sources.items()))


def _configured_solc(configured: str) -> Path:
    """LABOURLEDGER_SOLC's solc, once it answers `--version` as solc does: a path that is
    wrong is then refused naming the variable, not found out half-way through a build."""
    try:
        solcx.wrapper.get_solc_version(configured)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except subprocess.CalledProcessError as exc:
        reason = f"asked its version, it exited with status {exc.returncode}"
    except (SolcError, ValueError):
        reason = "asked its version, it named none"
    else:
        return Path(configured)
    raise InputError(f"LABOURLEDGER_SOLC: cannot run {configured} as solc ({reason})")


def _solc_binary(node_modules: Path, workdir: Path) -> Path:
    configured = os.environ.get("LABOURLEDGER_SOLC")
    if configured:
        return _configured_solc(configured)
    try:
        return Path(solcx.install.get_executable())
    except SolcNotInstalled:
        pass
    solcjs = node_modules / "solc"
    node = shutil.which("node")
    if not (solcjs / "package.json").is_file() or node is None:
        raise InputError(
            "solc: none found; set LABOURLEDGER_SOLC, install one with py-solc-x, or install "
            "solc-js with `npm install --prefix tools --no-package-lock` (needs node)"
        )
    driver = workdir / "solc"
    driver.write_text(_SOLCJS_DRIVER % json.dumps(str(solcjs)), "utf-8")
    driver.chmod(driver.stat().st_mode | stat.S_IXUSR)
    return driver


def build_artifact(contract: Path, node_modules: Path) -> dict[str, Any]:
    """Compile `contract` and return the artifact: ABI, bytecodes, compiler version, settings."""
    standard_input = {
        "language": "Solidity",
        "sources": _sources(contract, node_modules),
        "settings": SETTINGS,
    }
    with tempfile.TemporaryDirectory(prefix="labourledger-solc-") as workdir:
        binary = _solc_binary(node_modules, Path(workdir))
        try:
            output = solcx.compile_standard(standard_input, solc_binary=binary)
            compiler = str(solcx.wrapper.get_solc_version(binary, with_commit_hash=True))
        except SolcError as exc:
            raise InputError(f"solc: {contract} did not compile: {exc}") from exc
    compiled = output["contracts"][SOURCE_KEY][CONTRACT]
    return {
        "contractName": CONTRACT,
        "compiler": compiler,
        "settings": SETTINGS,
        "abi": compiled["abi"],
        "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
    }


def write_artifact(artifact: dict[str, Any], path: Path) -> Path:
    """Write `artifact` as stable, diff-friendly JSON to `path`; returns it."""
    path.write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n", "utf-8")
    return path


@dataclass(frozen=True)
class BuiltArtifact:
    """An artifact just compiled and written: where, and by which solc."""

    path: Path
    compiler: str


def build_contract(source: Path, output: Path) -> BuiltArtifact:
    """Compile the contract at `source` (in a labourledger checkout, whose tools/node_modules
    holds OpenZeppelin) and write its artifact to `output`, making its folder if need be."""
    try:
        contract = source.resolve()
        found = contract.is_file()
    except OSError as exc:  # a name too long for the file system, say
        raise InputError(f"source: {source}: cannot read ({exc.strerror})") from None
    if not found:
        raise InputError(f"source: {contract} not found; run this in a labourledger checkout")
    artifact = build_artifact(contract, find_node_modules(contract.parent))
    output.parent.mkdir(parents=True, exist_ok=True)
    return BuiltArtifact(write_artifact(artifact, output), artifact["compiler"])
