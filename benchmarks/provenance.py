"""Large supply chains for the verify and trace benchmarks, built through the library.

A tree of facilities (one tier-1 factory, its tier-2 suppliers, their tier-3
suppliers, tier-4 farms at the leaves), each facility with one batch made from
its suppliers' batches, supply links along the tree, and, for the verify
benchmark, audits, finding updates and attestations for every facility.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from clihelp import PROFILES  # noqa: E402

from labourledger.envelope import SignedEntry  # noqa: E402
from labourledger.facility_csv import facility_body_from_row  # noqa: E402
from labourledger.identifiers import make_os_id  # noqa: E402
from labourledger.ledger import Ledger  # noqa: E402

TODAY = dt.date.today()
#: Suppliers per facility at tiers 1, 2 and 3: 1 + 9 + 90 + 900 = 1,000 facilities a tree.
FANOUT = (9, 10, 10)


def day(offset: int) -> str:
    """An ISO date `offset` days from today."""
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def _hex(entry: SignedEntry) -> str:
    return "0x" + bytes(entry.subject).hex()


@dataclass
class Parties:
    """The keys that sign a benchmark ledger's entries."""

    admin: LocalAccount
    brand: LocalAccount
    auditor: LocalAccount
    supplier: LocalAccount


def parties(ledger: Ledger, admin: LocalAccount) -> Parties:
    """A funded brand, auditor and supplier, with their roles granted."""
    keys = [Account.create() for _ in range(3)]
    for key in keys:
        ledger.chain.fund(key.address, 10**20)
    brand, auditor, supplier = keys
    ledger.grant_role(admin, "BRAND", brand.address)
    ledger.grant_role(admin, "AUDITOR", auditor.address)
    ledger.grant_role(brand, "SUPPLIER", supplier.address)
    return Parties(admin, brand, auditor, supplier)


def facility_row(n: int, tier: int) -> dict[str, str]:
    """An Open Supply Hub row for facility number `n` (unique up to 10 million)."""
    country, facility_type, processing, _ = PROFILES[tier - 1]
    return {
        "os_id": make_os_id(country, f"{n:07d}", "BENCH"),
        "name": f"{facility_type.split()[0]} works {n}",
        "address": f"Plot {n}, Industrial Area",
        "country_code": country,
        "facility_type": facility_type,
        "processing_type": processing,
        "number_of_workers": str(50 + n % 900),
        "tier": str(tier),
    }


def _tree_rows(trees: int, start: int, fanout: Sequence[int]) -> list[list[dict[str, str]]]:
    per_tier = [1, fanout[0], fanout[0] * fanout[1], fanout[0] * fanout[1] * fanout[2]]
    tiers = [t for t in (1, 2, 3, 4) for _ in range(per_tier[t - 1])]
    return [
        [facility_row(start + t * len(tiers) + i, tier) for i, tier in enumerate(tiers)]
        for t in range(trees)
    ]


@dataclass
class Tree:
    """One supply tree as stored: facility ids and batch ids in tier order, the top batch."""

    facilities: list[str]
    batches: list[str]
    entries: list[SignedEntry]

    @property
    def top(self) -> str:
        """The tier-1 batch, whose trace covers the whole tree."""
        return self.batches[0]


def build_trees(
    ledger: Ledger,
    who: Parties,
    trees: int,
    *,
    links_only: int = 0,
    fanout: Sequence[int] = FANOUT,
) -> list[Tree]:
    """`trees` supply trees (1,000 facilities each with the default `fanout`):
    registrations, one batch each, supply links, and transformations along the tree,
    except in the last `links_only` trees, whose trace must fall back to supply links."""

    def sign(kind: str, bodies: Sequence[dict[str, Any]], key: LocalAccount) -> list[SignedEntry]:
        return [ledger.sign(kind, b, key) for b in bodies]  # type: ignore[arg-type]

    product = sign("product", [{"sku": "BENCH-TEE", "name": "T-shirt", "brand": "Bench"}],
                   who.brand)  # fmt: skip
    product_id = _hex(product[0])
    built = []
    for t, rows in enumerate(_tree_rows(trees, 0, fanout)):
        # Every facility names the supplier key, whose self-declarations `evidence` signs.
        bodies = [facility_body_from_row(r) | {"operators": [who.supplier.address]} for r in rows]
        registrations = sign("facility", bodies, who.brand)
        ids = [_hex(e) for e in registrations]
        parent = _parents(len(ids), fanout)
        # Raw material first: each tier's lot is made 15 days before its buyer's, so every
        # transformation is in step with its batches (`lineage_in_order`).
        offsets = [-10 - 15 * (int(r["tier"]) - 1) for r in rows]
        batches = sign(
            "batch",
            [{"product": product_id, "lot": f"T-{t}-{i}", "quantity": 100, "unit": "kg",
              "produced_at": day(offsets[i]), "facility": ids[i]} for i in range(len(ids))],
            who.brand,
        )  # fmt: skip
        batch_ids = [_hex(e) for e in batches]
        links = sign(
            "supply_link",
            [{"supplier": ids[i], "buyer": ids[p], "material": "input", "valid_from": day(-900)}
             for i, p in enumerate(parent) if p is not None],
            who.brand,
        )  # fmt: skip
        made = []
        if t < trees - links_only:
            children: dict[int, list[int]] = {}
            for i, p in enumerate(parent):
                if p is not None:
                    children.setdefault(p, []).append(i)
            made = sign(
                "transformation",
                [{"inputs": [batch_ids[c] for c in kids], "output": batch_ids[p],
                  "facility": ids[p], "date": day(offsets[p])} for p, kids in children.items()],
                who.brand,
            )  # fmt: skip
        entries = (product if t == 0 else []) + registrations + batches + links + made
        built.append(Tree(ids, batch_ids, entries))
    return built


def _parents(count: int, fanout: Sequence[int]) -> list[int | None]:
    """Each facility's buyer in tier order: index 0 is the factory."""
    parent: list[int | None] = [None]
    level, first = [0], 1
    for suppliers in fanout:
        nxt = []
        for p in level:
            for _ in range(suppliers):
                if first < count:
                    parent.append(p)
                    nxt.append(first)
                    first += 1
        level = nxt
    return parent


def evidence(ledger: Ledger, who: Parties, tree: Tree, audits_each: int) -> list[SignedEntry]:
    """Per facility: `audits_each` audits a half-year apart, each with a forced labour
    finding closed by a later onsite update, a supplier declaration and a certificate."""
    audits = [
        ledger.sign(
            "audit",
            {"facility": f, "standard": "SMETA 4-pillar", "audit_type": "periodic",
             "notice": "unannounced", "start_date": day(-62 - 180 * k),
             "end_date": day(-60 - 180 * k), "workers_interviewed": 30, "result": "conditional",
             "findings": [{"id": "F-1", "severity": "major",
                           "ilo_indicators": ["excessive_overtime"],
                           "description": "Overtime above 60 hours a week"},
                          {"id": "F-2", "severity": "minor", "description": "First-aid kit"}]},
            who.auditor,
        )
        for f in tree.facilities
        for k in range(audits_each)
    ]  # fmt: skip
    updates = [
        ledger.sign(
            "finding_update",
            {"audit": "0x" + a.entry_id.hex(), "finding_id": "F-1", "status": "closed",
             "verification_method": "onsite", "verified_on": a.body["end_date"]},
            who.auditor,
        )
        for a in audits
    ]  # fmt: skip
    attestations = [
        ledger.sign(kind_key[0], body, kind_key[1])
        for f in tree.facilities
        for kind_key, body in (
            (("attestation", who.supplier),
             {"facility": f, "claim": "no_recruitment_fees", "valid_from": day(-400),
              "valid_until": day(300)}),
            (("attestation", who.auditor),
             {"facility": f, "claim": "certificate", "standard": "SA8000",
              "certificate_number": f"SA-{f[2:10]}", "valid_from": day(-400),
              "valid_until": day(300)}),
        )
    ]  # fmt: skip
    return audits + updates + attestations
