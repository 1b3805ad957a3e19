"""A bundle: every entry a batch's verdict depends on, with salts, signatures and proofs, so
that anyone with access to the chain can verify the batch (`verify --bundle`).

The model is strict about shape (a malformed bundle is refused with one line naming the
field, before anything is checked) and says nothing about truth: hashes, signatures,
proofs and authority are verification's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from labourledger import kinds
from labourledger.envelope import SignedEntry, to_hex
from labourledger.errors import InputError
from labourledger.exchange import read_json
from labourledger.models import Anchor, Hex32, Proof

__all__ = ["BUNDLE_FORMAT", "Bundle", "BundleEntry", "read_bundle"]

BUNDLE_FORMAT = "labourledger-bundle/1"


class BundleEntry(SignedEntry):
    """A signed entry as a bundle carries it, with its proof and anchor once anchored."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    proof: Proof | None = None
    anchor: Anchor | None = None

    @model_validator(mode="after")
    def _body_follows_kind(self) -> BundleEntry:
        # A kind changed after signing fails the entry id check later; refusing a body
        # that is not of its kind here keeps it out of every projection.
        read = kinds.canonical_body(self.kind, self.body)
        # So is a value its kind would rewrite (an id in upper case, lower-cased when
        # signed): checks read bodies as labourledger writes them. A field left out for its
        # default is no such value: the entry's hash judges it.
        for field, value in self.body.items():
            if value is not None and read.get(field) != value:
                raise ValueError(
                    f"body.{field}: {_shown(value)} is not as labourledger writes it "
                    f"({_shown(read.get(field))})"
                )
        return self

    def fields(self) -> dict[str, Any]:
        """The body as its kind reads it, defaults filled in (a signed body may leave out a
        field that has a default): what projections of a bundle are built from."""
        return kinds.canonical_body(self.kind, self.body)

    def signed(self) -> SignedEntry:
        """Just the signed entry."""
        return SignedEntry.model_validate(self.model_dump(include=set(SignedEntry.model_fields)))


class Bundle(BaseModel):
    """A batch's evidence for verification by anyone with access to the chain."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    format: Literal["labourledger-bundle/1"] = "labourledger-bundle/1"
    chain_id: int = Field(ge=1)
    contract: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
    #: Where the verifier starts reading role grants; a later block hides grants, so an
    #: issuer then traces to no admin and fails.
    deploy_block: int = Field(default=0, ge=0)
    batch: Hex32
    entries: list[BundleEntry]

    @model_validator(mode="after")
    def _consistent(self) -> Bundle:
        seen: set[str] = set()
        for number, entry in enumerate(self.entries):
            if entry.id_hex in seen:
                raise ValueError(f"entries[{number}]: entry {entry.id_hex} appears twice")
            seen.add(entry.id_hex)
        batches = {to_hex(e.subject) for e in self.entries if e.kind == "batch"}
        if self.batch.lower() not in batches:
            raise ValueError(f"batch: no batch entry in the bundle has id {self.batch}")
        return self


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_bundle(path: Path) -> Bundle:
    """Read and validate a bundle file; InputError with one line naming the file and field."""
    raw: Any = read_json(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: not a labourledger bundle (expected a JSON object)")
    try:
        return Bundle.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Validators' messages come prefixed by pydantic ("Value error, ...").
        message = str(first["msg"]).removeprefix("Value error, ").splitlines()[0]
        # The bundle's own validators name the field in their message.
        where = _where(first["loc"])
        raise InputError(
            f"{path}: not a valid bundle: {f'{where}: ' if where else ''}{message}"
        ) from None
