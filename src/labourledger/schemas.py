"""Published, versioned JSON Schemas of what labourledger writes for other tools: the signed
entry file, the bundle, `verify --json` and `trace --json`.

Each schema's `$id` names its format and version; a change that could break a reader
bumps the version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from labourledger.audits import AnchorView
from labourledger.envelope import SignedEntry
from labourledger.errors import InputError
from labourledger.exchange import FORMAT
from labourledger.models import Anchor, Proof

__all__ = [
    "PUBLISHED",
    "GrievanceCounts",
    "TraceEdge",
    "TraceGraph",
    "TraceNode",
    "TraceProblem",
    "published",
    "schema_of",
]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_HEX32 = r"^0x[0-9a-f]{64}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class GrievanceCounts(_Closed):
    """A facility's worker grievances as counts (never a report or a receipt)."""

    facility: str = Field(pattern=_HEX32)
    total: int = Field(ge=0)
    by_status: dict[str, int]
    by_category: dict[str, int]
    received_from: str | None
    received_to: str | None
    name: str | None = None
    summary: str


class TraceNode(_Closed):
    """A batch or facility upstream of the traced batch."""

    id: str = Field(pattern=_HEX32)
    kind: Literal["batch", "facility"]
    depth: int = Field(ge=0)
    #: None for a batch that is referenced but not registered here.
    lot: str | None = None
    product: str | None = Field(default=None, pattern=_HEX32)
    quantity: int | None = None
    unit: str | None = None
    produced_at: str | None = None
    facility: str | None = Field(default=None, pattern=_HEX32)
    facility_name: str | None = None
    country: str | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    os_id: str | None = None
    audit_status: str | None = None
    grievances: GrievanceCounts | None = None


class TraceEdge(_Closed):
    """From a batch to an input batch (a transformation), or from a buyer to a supplier."""

    from_: str = Field(alias="from", pattern=_HEX32)
    to: str = Field(pattern=_HEX32)
    via: str = Field(pattern=_HEX32, description="The entry id of the edge.")
    kind: Literal["transformation", "supply_link"]


class TraceProblem(_Closed):
    """A gap or cycle in the trace."""

    kind: Literal["cycle", "unknown_batch", "missing_link"]
    node: str = Field(pattern=_HEX32)
    reason: str


class TraceGraph(_Closed):
    """`labourledger trace BATCH --json`."""

    batch: str = Field(pattern=_HEX32)
    nodes: list[TraceNode]
    edges: list[TraceEdge]
    problems: list[TraceProblem]


def _entry(**extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A signed entry as `SignedEntry` serialises it, with a readable `issued_at_iso`, its
    proof and anchor once anchored, and `extra` properties (all required); and its $defs."""
    entry = SignedEntry.model_json_schema(mode="serialization")
    definitions = entry.pop("$defs", {})
    for model in (Proof, Anchor):
        definitions[model.__name__] = model.model_json_schema()
    entry["properties"] |= {
        "issued_at_iso": {"type": "string", "format": "date-time"},
        "proof": {"anyOf": [{"$ref": "#/$defs/Proof"}, {"type": "null"}]},
        "anchor": {"anyOf": [{"$ref": "#/$defs/Anchor"}, {"type": "null"}]},
        **extra,
    }
    entry["required"] = [*entry["required"], "issued_at_iso", *extra]
    entry["additionalProperties"] = False
    return entry, definitions


def _document(title: str, doc: str | None, format_name: str, **fields: Any) -> dict[str, Any]:
    entry, definitions = _entry(**fields.pop("entry_extra", {}))
    return {
        "title": title,
        "description": " ".join((doc or "").split()),
        "type": "object",
        "properties": {
            "format": {"const": format_name},
            "chain_id": {"type": "integer", "minimum": 1},
            "contract": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"},
            **fields,
            "entries": {"type": "array", "items": entry},
        },
        "required": ["format", "chain_id", "contract", *fields, "entries"],
        "additionalProperties": False,
        "$defs": definitions,
    }


def _entry_file() -> dict[str, Any]:
    """A signed entry file (`audit sign`, `attest`, … and `labourledger import`): signed
    entries, with the proof and anchor of those their signer anchored."""
    return _document("EntryFile", _entry_file.__doc__, FORMAT)


def _bundle() -> dict[str, Any]:
    """`labourledger export BATCH` (a bundle): every entry a batch's verdict depends on and
    every revocation of them that counts, each with its proof and anchor, for `verify
    --bundle`. The model `verify --bundle` reads it with is the schema."""
    from labourledger.bundle import Bundle

    return Bundle.model_json_schema(mode="serialization")


class CheckView(_Closed):
    """One named check: what it found, about which entry or facility."""

    check: str
    outcome: Literal["pass", "attention", "fail"]
    reason: str
    entry_id: str | None
    facility: str | None


class ReportBatch(_Closed):
    """The verified batch."""

    batch_id: str = Field(pattern=_HEX32)
    lot: str | None
    quantity: int | None
    unit: str | None
    produced_at: str | None
    facility: str | None
    product: dict[str, Any] | None


class ReportChain(_Closed):
    """The chain and contract the anchors were checked on."""

    label: str
    chain_id: int
    contract: str | None
    embedded: bool


class StageAudit(_Closed):
    """An audit as both forms show it: who signed it when, its signed top-level fields
    (`body`, without the findings), its anchor, the revocations that count against it,
    its state, and its findings counted by their current status."""

    entry_id: str = Field(pattern=_HEX32)
    issuer: str
    issued_at: int
    body: dict[str, Any]
    anchor: AnchorView | None
    revoked_by: list[str]
    state: Literal["revoked", "pending", "submitted", "final"]
    findings_by_status: dict[str, int]


class AuditSummary(StageAudit):
    """An audit by default (its `body` without the facility, the stage's): in full, each
    with its history, the findings still open that the policy weighs (with an ILO forced
    labour indicator, or at a severity the policy fails or flags); the other open ones are
    only counted in `findings_by_status`."""

    open_findings: list[dict[str, Any]]


class FullAudit(StageAudit):
    """An audit with `--all-checks`: every finding in full, each with its history."""

    facility: str = Field(pattern=_HEX32)
    findings: list[dict[str, Any]]


class Stage(_Closed):
    """One upstream facility: its registration, batches, documents, audits, attestations,
    grievance counts and worst outcome. By default its audits are summaries of those the
    verdict weighs (ended in the validity window before the production date or the
    look-ahead after it) and of those that do not count (revoked, pending, failing a
    check), the others counted in `audits_not_listed`; with `--all-checks` every audit in
    full."""

    tier: int | None
    facility: dict[str, Any]
    batches: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    audits: list[AuditSummary] | list[FullAudit]
    #: Counted audits outside the window the verdict weighs (0 with `--all-checks`).
    audits_not_listed: int = Field(ge=0)
    attestations: list[dict[str, Any]]
    grievances: GrievanceCounts
    outcome: Literal["pass", "attention", "fail"]


class GraphNode(_Closed):
    """A node of the report's tier graph."""

    id: str = Field(pattern=_HEX32)
    kind: Literal["batch", "facility"]
    label: str | None
    facility_name: str | None
    country: str | None
    tier: int | None


class ReportGraph(_Closed):
    """The tier graph drawn in reports."""

    nodes: list[GraphNode]
    edges: list[TraceEdge]


class ReportTrust(_Closed):
    """Whose word the verdict rests on: the contract, its code, the admins behind every
    counted issuer, and those the verifier named as trusted (none: the report's admins)."""

    contract: str
    admins: list[str]
    runtime_code_matches: bool
    trusted_admins: list[str]


class ReportAnchor(_Closed):
    """A root the entries are anchored under: the transaction the evidence names, the
    block the chain holds it in (None: the chain lacks it), and how many of the entries
    the verdict relies on it holds."""

    root: str = Field(pattern=_HEX32)
    tx_hash: str | None
    block_number: int | None
    entries: int = Field(ge=1)


class ReportEntry(_Closed):
    """An entry the verdict relies on: who signed which kind, its worst check, and the
    root it is anchored under (see `anchors`; never its body or salt)."""

    entry_id: str = Field(pattern=_HEX32)
    kind: str
    issuer: str
    outcome: Literal["pass", "attention", "fail"]
    revoked_by: list[str]
    root: str | None = Field(pattern=_HEX32)


class VerifyReport(_Closed):
    """`labourledger verify BATCH --json`: the verdict, the checks, and the evidence. By
    default every check that is not a pass is listed in full and the passes are counted
    per check name, audits summarised (see `Stage`), and only the entries a reader must
    look at listed (revoked, or with a check that is not a pass); with `--all-checks`
    (`all_checks`) every check, audit and entry."""

    format: Literal["labourledger-report/3"]
    all_checks: bool
    generated_at: str
    batch: ReportBatch
    verdict: Literal["PASS", "ATTENTION", "FAIL"]
    chain: ReportChain
    goods_list: dict[str, Any]
    #: Every check made, by outcome.
    counts: dict[Literal["pass", "attention", "fail"], int]
    #: Passes counted per check name instead of listed (none with `--all-checks`).
    passed: dict[str, int]
    checks: list[CheckView]
    stages: list[Stage]
    graph: ReportGraph
    anchors: list[ReportAnchor]
    #: Every entry the verdict relies on, by kind.
    entry_counts: dict[str, int]
    entries: list[ReportEntry]
    problems: list[TraceProblem]
    #: Failed checks on revocations that do not count, outside the verdict.
    ignored: list[CheckView]
    trust: ReportTrust


def _verify_report() -> dict[str, Any]:
    return VerifyReport.model_json_schema(by_alias=True, mode="serialization")


#: Format name -> (its schema, version).
_SCHEMAS: dict[str, tuple[Callable[[], dict[str, Any]], int]] = {
    "entry-file": (_entry_file, 1),
    "bundle": (_bundle, 1),
    "verify-report": (_verify_report, 3),
    "trace": (lambda: TraceGraph.model_json_schema(by_alias=True, mode="serialization"), 1),
}
PUBLISHED = tuple(_SCHEMAS)


def published(name: str) -> dict[str, Any]:
    """The JSON Schema of a published format, with its `$id` and version."""
    try:
        build, version = _SCHEMAS[name]
    except KeyError:
        raise InputError(f"schema: expected one of {', '.join(PUBLISHED)}, got {name!r}") from None
    schema = build()
    return {
        "$schema": _DRAFT,
        "$id": f"urn:labourledger:schema:{name}:{version}",
        "version": version,
        **schema,
    }


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema of a published format (`published`), else of the body of the entry
    kind `name`; InputError listing both when it is neither."""
    from labourledger import kinds

    if name in _SCHEMAS:
        return published(name)
    if name in kinds.KINDS:
        return kinds.json_schema(name)
    raise InputError(
        f"schema: expected a published format ({', '.join(PUBLISHED)}) "
        f"or an entry kind ({', '.join(kinds.KINDS)}), got {name!r}"
    )
