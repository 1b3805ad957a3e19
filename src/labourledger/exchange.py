"""Signed entry files: how auditors and suppliers hand entries to the brand that anchors them.

A file holds one or more signed entries and the EIP-712 domain (chain id and
contract) they were signed for. Importing re-checks everything before storing
anything: the domain, the signature, the content hash, the entry id, the
kind's schema, that subject and refs follow from the body, and that the
issuer holds a role allowed to issue the kind (`labourledger.authority`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from labourledger import kinds
from labourledger.envelope import Domain, SignedEntry
from labourledger.errors import InputError, invalid_input
from labourledger.models import Anchor, Proof
from labourledger.verify.integrity import (
    ContentHashMatches,
    EntryCheck,
    EntryIdMatches,
    SignatureMatchesIssuer,
)

__all__ = [
    "FORMAT",
    "EntryFile",
    "entry_from_file",
    "parse_json",
    "read_entry_file",
    "read_json",
    "shape_problems",
    "write_entry_file",
    "write_output",
]

FORMAT = "labourledger-entries/1"


class EntryFile(BaseModel):
    """Signed entries and the chain and contract they were signed for."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    format: Literal["labourledger-entries/1"] = "labourledger-entries/1"
    chain_id: int
    contract: str
    entries: list[dict[str, Any]]

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain the entries claim."""
        return Domain(chain_id=self.chain_id, verifying_contract=self.contract)


def write_entry_file(
    path: Path,
    domain: Domain,
    entries: Sequence[SignedEntry],
    proofs: Mapping[str, tuple[Proof, Anchor]] | None = None,
) -> Path:
    """Write signed entries to `path` as an entry file; returns the path. `proofs` (by entry
    id) travel with entries their signer anchored, so the importer need not anchor them
    again."""
    carried = proofs or {}

    def written(entry: SignedEntry) -> dict[str, Any]:
        data = entry.to_json_dict()
        if entry.id_hex in carried:
            proof, anchor = carried[entry.id_hex]
            data |= {"proof": proof.model_dump(), "anchor": anchor.model_dump()}
        return data

    data = EntryFile(
        chain_id=domain.chain_id,
        contract=domain.verifying_contract,
        entries=[written(e) for e in entries],
    )
    return write_output(path, json.dumps(data.model_dump(), indent=2) + "\n")


def _output_target(path: Path) -> Path:
    """The file to write for `path`: the file a link points at, so the link stays a link;
    InputError when `path` names no file, or names one that is not a regular file (a FIFO
    or device would be replaced by a regular file)."""
    target = path
    try:
        if path.is_symlink():
            target = path.resolve()
        mode = target.stat().st_mode
    except RuntimeError:  # a loop of links (Python < 3.13 raises this, not OSError)
        raise InputError(f"{path}: cannot write (a loop of symbolic links)") from None
    except OSError:  # absent, or out of reach: writing it says why
        mode = stat.S_IFREG
    if not target.name:
        raise InputError(f"{path}: cannot write (not a file name)")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError(f"{path}: cannot write (not a regular file)")
    return target


def write_output(path: Path, data: str | bytes) -> Path:
    """Write a file the user asked for (-o), text as UTF-8, whole or not at all: InputError
    naming the path when it cannot be written, and no partial file when writing stops
    half-way. A link is followed: the file it points at is written."""
    target = _output_target(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data.encode() if isinstance(data, str) else data)
        partial.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    return path


#: Larger JSON files are refused unread, before they fill the memory.
MAX_JSON_BYTES = 256 * 2**20
#: Deeper nesting is refused before parsing; the deepest labourledger file nests 7 levels,
#: and a few hundred thousand levels crash the interpreter's parser.
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = re.compile(r"[^][{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON `text` (0 for a scalar), without parsing it."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=0))


def read_json(path: Path) -> Any:
    """A JSON file's content; InputError naming the file when it cannot be read, or as
    `parse_json`."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError:  # a NUL in the name, which no file name holds
        raise InputError(f"{str(path)!r}: cannot read (not a file name)") from None
    return parse_json(raw, str(path))


def parse_json(raw: bytes, name: str) -> Any:
    """The JSON in the bytes of file `name`; InputError naming it when they are too many or
    too deeply nested, are not UTF-8 text or are not JSON."""
    if len(raw) > MAX_JSON_BYTES:
        raise InputError(f"{name}: larger than {MAX_JSON_BYTES // 2**20} MiB, not read")
    try:
        text = raw.decode("utf-8-sig")  # Windows tools start a file with a byte-order mark
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start}), so not JSON") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InputError(f"{name}: JSON nested more than {MAX_JSON_DEPTH} levels deep, not read")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError:  # an integer of more digits than Python converts (4,300 by default)
        raise InputError(f"{name}: a number in it has too many digits, not read") from None
    except RecursionError:  # nesting hidden from json_depth, e.g. by an unbalanced quote
        raise InputError(f"{name}: JSON nested too deeply, not read") from None


def read_entry_file(path: Path) -> EntryFile:
    """Parse an entry file; InputError naming the file and what is wrong."""
    raw = read_json(path)
    try:
        return EntryFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{path}: not a labourledger entry file ({where}: {first['msg']})"
        ) from None


#: What an entry of a file holds: the stored fields, the readable time derived from one, and
#: the proof and anchor of an entry its signer anchored (checked against the chain on import).
_ENTRY_FIELDS = frozenset(SignedEntry.model_fields) | {"issued_at_iso", "proof", "anchor"}


def entry_from_file(raw: Mapping[str, Any]) -> SignedEntry:
    """One entry of an entry file, refused (InputError) when it holds a field that would not
    be stored, or a readable time that is not its `issued_at`: what was handed over must be
    exactly what is kept."""
    unknown = sorted(set(raw) - _ENTRY_FIELDS)
    if unknown:
        raise InputError(f"unknown field(s) {', '.join(map(repr, unknown))}")
    try:
        entry = SignedEntry.model_validate(
            {k: v for k, v in raw.items() if k not in ("issued_at_iso", "proof", "anchor")}
        )
    except ValidationError as exc:
        raise invalid_input(exc, "entry") from None
    if "issued_at_iso" in raw and raw["issued_at_iso"] != entry.issued_at_iso:
        raise InputError(
            f"issued_at_iso {raw['issued_at_iso']!r} is not issued_at {entry.issued_at} "
            f"({entry.issued_at_iso})"
        )
    return entry


def shape_problems(entry: SignedEntry, domain: Domain) -> list[str]:
    """What is wrong with an entry on its own: cryptography, schema, subject and refs."""
    checks: list[EntryCheck] = [
        ContentHashMatches(),
        EntryIdMatches(domain),
        SignatureMatchesIssuer(domain),
    ]
    problems = [r.reason for r in (check(entry) for check in checks) if not r.passed]
    if problems:
        return problems
    try:
        model = kinds.parse_body(entry.kind, entry.body)
    except InputError as exc:
        return [f"body does not follow the {entry.kind} schema: {exc}"]
    if model.model_dump(mode="json", exclude_none=True) != entry.body:
        problems.append("body is not in canonical form (it was not made by labourledger)")
    if kinds.subject_for(entry.kind, model, issuer=entry.issuer) != entry.subject:
        problems.append("subject does not follow from the body")
    if kinds.refs_for(entry.kind, model) != list(entry.refs):
        problems.append("refs do not follow from the body")
    return problems
