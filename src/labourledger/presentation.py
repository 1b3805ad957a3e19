"""What a reader sees of a verification report: the one adapter between `verify`'s report
and the HTML report, the served batch page and its API.

Every other module that shows a report reads it through `batch_view`, so a change to the
report's shape touches this module alone. Views are plain frozen dataclasses of display
strings; escaping is the templates' job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from labourledger.check_words import HEADLINES, PER_BATCH, PER_FACILITY, check_title
from labourledger.errors import InputError
from labourledger.tier_graph import GraphView, tier_graph
from labourledger.verify.verdict import REPORT_FORMAT

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "DEV_CHAIN_IDS",
    "AnchorGroup",
    "Annotations",
    "BatchView",
    "ChainView",
    "FacilityCard",
    "Party",
    "Reason",
    "annotate",
    "batch_view",
    "check_title",
    "is_development_chain",
]

#: Chain ids that local development nodes (anvil, hardhat, ganache) use.
DEV_CHAIN_IDS = frozenset({31337, 1337})
_ORDER = {"fail": 0, "attention": 1, "pass": 2}


@dataclass(frozen=True)
class Party:
    """An account as a reader sees it: the organisation accredited for it, or none."""

    address: str
    organisation: str | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        """The organisation's name, or "unnamed account 0x…"."""
        if self.organisation:
            return self.organisation
        return f"unnamed account {self.address}" if self.address else "no signer recorded"


@dataclass(frozen=True)
class Reason:
    """One line of the verdict's reasons."""

    outcome: str
    check: str
    title: str
    text: str
    where: str
    count: int = 1


@dataclass(frozen=True)
class FindingCard:
    """An audit finding and the history of its status."""

    id: str
    severity: str
    indicators: str
    description: str
    status: str
    history: list[str]


@dataclass(frozen=True)
class AuditCard:
    """One audit of a facility, its firm named."""

    summary: str
    firm: Party
    anchored: str
    withdrawn: list[str]
    findings: list[FindingCard]
    #: Its findings counted by status, when only the open ones are listed.
    unlisted: str = ""


@dataclass(frozen=True)
class FacilityCard:
    """One production stage: the facility, its batches, records, audits and certificates."""

    tier: str
    name: str
    country: str
    outcome: str
    description: str
    identifiers: str
    facility_id: str
    batches: list[tuple[str, str, str, str]]
    documents: list[tuple[str, str, str]]
    audits: list[AuditCard]
    attestations: list[tuple[str, str, str, Party]]
    extra: list[tuple[str, str]] = field(default_factory=list)
    #: How many of its audits the report counts without listing them.
    audits_not_listed: int = 0
    #: Counts of worker grievances by status and category, and when received: never more.
    grievances: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AnchorGroup:
    """A Merkle root, how many entries relied on it anchors, and those the report lists."""

    root: str
    tx_hash: str
    block: str
    count: int
    entries: list[tuple[str, str, Party]]


@dataclass(frozen=True)
class ChainView:
    """The chain the evidence is anchored on."""

    label: str
    chain_id: str
    contract: str
    development: bool


@dataclass(frozen=True)
class BatchView:
    """Everything the batch page and the HTML report show, in reading order."""

    verdict: str
    headline: str
    lot: str
    gtin: str
    product: str
    made: str
    batch_id: str
    generated_at: str
    reasons: list[Reason]
    passed: int
    total: int
    cards: list[FacilityCard]
    graph: GraphView
    goods_list: list[tuple[str, str]]
    chain: ChainView
    anchors: list[AnchorGroup]
    #: The entries not anchored: how many, and those the report lists.
    unanchored: AnchorGroup
    problems: list[str]


def is_development_chain(chain: Mapping[str, Any]) -> bool:
    """The embedded chain, a dev node's chain id, or a node on this machine's loopback."""
    if chain.get("embedded") or chain.get("chain_id") in DEV_CHAIN_IDS:
        return True
    host = urlparse(str(chain.get("label") or "")).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _when(anchor: Mapping[str, Any] | None) -> str:
    if not anchor:
        return "not anchored"
    moment = ""
    if anchor.get("timestamp"):
        stamp = dt.datetime.fromtimestamp(anchor["timestamp"], tz=dt.UTC)
        moment = ", " + stamp.strftime("%Y-%m-%d")
    return f"block {anchor.get('block_number')}{moment}"


class _Names:
    """Accounts to parties, from whatever accreditations the caller found."""

    def __init__(self, known: Mapping[str, Party]) -> None:
        self._known = {k.lower(): v for k, v in known.items()}

    def __call__(self, address: object) -> Party:
        text = _s(address)
        return self._known.get(text.lower()) or Party(text)


def _product_line(batch: Mapping[str, Any]) -> str:
    product = batch.get("product") or {}
    ids = [f"GTIN {product['gtin']}" if product.get("gtin") else ""]
    ids.append(f"SKU {product['sku']}" if product.get("sku") else "")
    brand = [_s(product.get("brand")), *ids]
    inner = ", ".join(p for p in brand if p)
    name = _s(product.get("name")) or "Unnamed product"
    return f"{name} ({inner})" if inner else name


def _counted(check: str, total: int, facilities: int) -> tuple[str, str]:
    """Where and what a line of passes counted per check says, by what the check is about."""
    if check in PER_FACILITY:
        of = "all" if total == facilities else f"{total} of"
        return "Upstream facilities", f"{of} {facilities} facilit{'ies' if facilities > 1 else 'y'}"
    if check in PER_BATCH:
        return "Batch and evidence", "passed" if total == 1 else f"passed ({total} checks)"
    pieces = "the one piece" if total == 1 else f"all {total} pieces"
    return "Batch and evidence", f"{pieces} of evidence"


def _reasons(
    checks: Iterable[Mapping[str, Any]],
    passed: Mapping[str, int],
    names: Mapping[str | None, str],
    withdrawn: Mapping[str, str],
) -> list[Reason]:
    """Fail, then attention, then pass; passes about single entries, listed, and passes
    counted in `passed` fold into one line per check. A withdrawal's reason is quoted where
    the revocation is named."""
    shown: list[Reason] = []
    folded: dict[str, list[Mapping[str, Any]]] = {check: [] for check in passed}
    for c in checks:
        check, outcome = _s(c.get("check")), _s(c.get("outcome"))
        if outcome == "pass" and c.get("entry_id"):
            folded.setdefault(check, []).append(c)
            continue
        where = names.get(c.get("facility"), "Batch and evidence")
        # The place is shown beside the reason; reasons that begin with it need not repeat it.
        text = _s(c.get("reason")).removeprefix(f"{where}: ")
        quoted = [f'"{why}"' for rid, why in withdrawn.items() if rid in text]
        if quoted:
            text += " (reason given: " + "; ".join(quoted) + ")"
        shown.append(Reason(outcome, check, check_title(check), text, where))
    # What the facilities showed first, then the batch and chain, then single entries.
    order = sorted(folded.items(), key=lambda f: (f[0] not in PER_FACILITY, f[0] not in PER_BATCH))
    for check, items in order:
        total = len(items) + passed.get(check, 0)
        if total == 1 and items:
            where, text = "Batch and evidence", _s(items[0]["reason"])
        else:
            where, text = _counted(check, total, len(names))
        shown.append(Reason("pass", check, check_title(check), text, where, total))
    return sorted(shown, key=lambda r: _ORDER.get(r.outcome, 0))


def _headline(
    verdict: str, reasons: list[Reason], stages: list[Mapping[str, Any]], lot: str
) -> str:
    worst = next((r for r in reasons if r.outcome != "pass"), None)
    if verdict == "PASS" or worst is None:
        tiers = [int(s["tier"]) for s in stages if s.get("tier")]
        deepest = f", traced to tier {max(tiers)}" if tiers else ""
        count = len(stages)
        facilities = f"{count} facilit{'y' if count == 1 else 'ies'}"
        return f"{verdict} — no forced-labour indicator open at {facilities}{deepest}"
    phrase = HEADLINES.get(worst.check, f"{worst.title.lower()}: {worst.text}")
    line = phrase.format(where=worst.where)
    made = next(
        (
            b.get("lot")
            for s in stages
            if (s.get("facility") or {}).get("name") == worst.where
            for b in s.get("batches") or []
            if b.get("lot")
        ),
        None,
    )
    if made and "{where}" in phrase:
        line += f" when lot {made} was made"
    elif "{where}" not in phrase and lot:
        line += f" (lot {lot})"
    return f"{verdict} — {line}"


def _card(stage: Mapping[str, Any], party: _Names, withdrawn: Mapping[str, str]) -> FacilityCard:
    f = stage.get("facility") or {}
    ids = ", ".join(f"{k.upper()} {f[k]}" for k in ("os_id", "gln", "lei") if f.get(k))
    description = "; ".join(p for p in (_s(f.get("facility_type")), _s(f.get("address"))) if p)
    audits = []
    for audit in stage.get("audits") or []:
        body = audit.get("body") or {}
        # A summary lists the open findings only; `--all-checks` lists every one.
        listed = audit["findings"] if "findings" in audit else audit.get("open_findings") or []
        by_status = audit.get("findings_by_status") or {}
        unlisted = ""
        if len(listed) < sum(by_status.values()):
            counts = ", ".join(f"{_s(k).replace('_', ' ')} {_s(n)}" for k, n in by_status.items())
            unlisted = (
                f"Findings by status: {counts}; only the open findings the policy weighs "
                "(with a forced-labour indicator, or at a failing or attention severity) "
                "are listed."
            )
        findings = [
            FindingCard(
                id=_s(x.get("id")),
                severity=_s(x.get("severity")),
                indicators=", ".join(x.get("ilo_indicators") or []),
                description=_s(x.get("description")),
                status=_s(x.get("status")),
                history=[
                    f"{h.get('status')} ({h.get('state')}, {_when(h.get('anchor'))})"
                    for h in x.get("history") or []
                ],
            )
            for x in listed
        ]
        audits.append(
            AuditCard(
                summary=f"{_s(body.get('standard'))}, {_s(body.get('notice'))}, "
                f"{_s(body.get('start_date'))} to {_s(body.get('end_date'))}, "
                f"result {_s(body.get('result'))}",
                firm=party(audit.get("issuer")),
                anchored=_when(audit.get("anchor")),
                withdrawn=[withdrawn.get(r, r) for r in audit.get("revoked_by") or []],
                findings=findings,
                unlisted=unlisted,
            )
        )
    extra = [(_s(k), _s(v)) for k, v in (stage.get("extra") or {}).items()]
    return FacilityCard(
        tier=_s(stage.get("tier") or "?"),
        name=_s(f.get("name")),
        country=_s(f.get("country")),
        outcome=_s(stage.get("outcome")),
        description=description,
        identifiers=ids,
        facility_id=_s(f.get("facility_id")),
        batches=[
            (
                _s(b.get("batch_id")),
                _s(b.get("lot")),
                _s(b.get("produced_at")),
                f"{_s(b.get('quantity'))} {_s(b.get('unit'))}".strip(),
            )
            for b in stage.get("batches") or []
        ],
        documents=[
            (_s(d.get("type")), _s(d.get("number")), _s(d.get("hash")))
            for d in stage.get("documents") or []
        ],
        audits=audits,
        attestations=[
            (
                _s(a.get("claim")),
                f"{_s(a.get('valid_from'))} to {_s(a.get('valid_until'))}",
                "yes" if a.get("in_force") else "no",
                party(a.get("issuer")),
            )
            for a in stage.get("attestations") or []
        ],
        extra=extra,
        audits_not_listed=int(stage.get("audits_not_listed") or 0),
        grievances=_grievance_counts(stage.get("grievances") or {}),
    )


def _grievance_counts(counts: Mapping[str, Any]) -> list[tuple[str, str]]:
    if not counts.get("total"):
        return []

    def listed(by: Mapping[str, Any]) -> str:
        return ", ".join(f"{_s(k).replace('_', ' ')} {_s(n)}" for k, n in by.items())

    first, last = _s(counts.get("received_from")), _s(counts.get("received_to"))
    return [
        ("grievances", _s(counts["total"])),
        ("by status", listed(counts.get("by_status") or {})),
        ("by category", listed(counts.get("by_category") or {})),
        ("received", first if first == last else f"{first} to {last}"),
    ]


def _anchors(report: Mapping[str, Any], party: _Names) -> tuple[list[AnchorGroup], AnchorGroup]:
    """Each root with the listed entries under it, in the report's (block) order, and the
    entries not anchored."""
    groups = {
        _s(a.get("root")): AnchorGroup(
            _s(a.get("root")), _s(a.get("tx_hash")), _s(a.get("block_number")),
            int(a.get("entries") or 0), [],
        )
        for a in report.get("anchors") or []
    }  # fmt: skip
    relied_on = sum((report.get("entry_counts") or {}).values())
    loose = AnchorGroup("", "", "", relied_on - sum(g.count for g in groups.values()), [])
    for e in report.get("entries") or []:
        row = (_s(e.get("entry_id")), _s(e.get("kind")), party(e.get("issuer")))
        groups.get(_s(e.get("root")), loose).entries.append(row)
    return list(groups.values()), loose


def batch_view(report: Mapping[str, Any], notes: Annotations | None = None) -> BatchView:
    """The report as a reader sees it, with the names and withdrawal reasons in `notes`."""
    if report.get("format") != REPORT_FORMAT:
        raise InputError(
            f"report format: expected {REPORT_FORMAT}, got {report.get('format')!r}; "
            "verify the batch again for a current report"
        )
    notes = notes or Annotations()
    party = _Names(notes.names)
    why = {k: f"withdrawn by {k}: {v}" for k, v in notes.withdrawn.items()}
    verdict = _s(report.get("verdict") or "FAIL")
    batch = report.get("batch") or {}
    stages = list(report.get("stages") or [])
    names_by_id = {(s.get("facility") or {}).get("facility_id"): _s(s["facility"]["name"])
                   for s in stages if s.get("facility")}  # fmt: skip
    checks = list(report.get("checks") or [])
    reasons = _reasons(checks, report.get("passed") or {}, names_by_id, notes.withdrawn)
    chain = report.get("chain") or {}
    goods = report.get("goods_list") or {}
    anchors, loose = _anchors(report, party)
    counts = report.get("counts") or {}
    return BatchView(
        verdict=verdict,
        headline=_headline(verdict, reasons, stages, _s(batch.get("lot"))),
        lot=_s(batch.get("lot")),
        gtin=_s((batch.get("product") or {}).get("gtin")),
        product=_product_line(batch),
        made=", ".join(
            p
            for p in (
                f"{_s(batch.get('quantity'))} {_s(batch.get('unit'))}".strip(),
                f"produced {batch['produced_at']}" if batch.get("produced_at") else "",
            )
            if p
        ),
        batch_id=_s(batch.get("batch_id")),
        generated_at=_s(report.get("generated_at")),
        reasons=reasons,
        passed=int(counts.get("pass") or 0),
        total=sum(int(n) for n in counts.values()),
        cards=[_card(s, party, why) for s in stages],
        graph=tier_graph(report.get("graph") or {}),
        goods_list=[
            (label, _s(goods.get(key)))
            for key, label in (
                ("title", "List"),
                ("edition", "Edition"),
                ("coverage", "Coverage"),
                ("source", "Source"),
            )
            if goods.get(key)
        ],
        chain=ChainView(
            label=_s(chain.get("label")),
            chain_id=_s(chain.get("chain_id")),
            contract=_s(chain.get("contract")),
            development=is_development_chain(chain),
        ),
        anchors=anchors,
        unanchored=loose,
        problems=[
            f"{_s(p.get('kind'))}: {_s(p.get('reason'))}" for p in report.get("problems") or []
        ],
    )


@dataclass(frozen=True)
class Annotations:
    """What a report names only by id, looked up for its reader: organisations accredited
    for accounts, and the reasons given for withdrawals."""

    names: Mapping[str, Party] = field(default_factory=dict)
    withdrawn: Mapping[str, str] = field(default_factory=dict)


def annotate(ledger: Ledger, report: Mapping[str, Any]) -> Annotations:
    """Look up, in `ledger`, the organisations accredited for the report's accounts and the
    reasons given for the withdrawals it mentions."""
    from labourledger.accreditations import accredited

    stages = report.get("stages") or []
    signed = [
        *(report.get("entries") or []),
        *(a for s in stages for a in (s.get("audits") or []) + (s.get("attestations") or [])),
    ]
    revocations = {r for item in signed for r in item.get("revoked_by") or []}
    found = ledger.mirror.get_entries(sorted(revocations)) if revocations else {}
    names = accredited(ledger, {_s(item.get("issuer")) for item in signed if item.get("issuer")})
    return Annotations(
        names={account: Party(a.account, a.organisation, a.detail) for account, a in names.items()},
        withdrawn={
            k: _s((row.get("body") or {}).get("reason"))
            for k, row in found.items()
            if row.get("kind") == "revocation"
        },
    )
