"""Provenance: a brand's products, batches and transformations; product and batch ids from
what people call them; and a batch's upstream graph of batches and facilities with each
facility's audit status."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger import kinds
from labourledger.envelope import to_hex
from labourledger.errors import InputError
from labourledger.grievances import counts_of
from labourledger.identifiers import is_hex_id
from labourledger.recording import checked, record, record_checked, signer_for
from labourledger.suppliers import held_as
from labourledger.upstream import upstream_graph
from labourledger.verify.lineage import contradictions
from labourledger.verify.policy import audit_status_on, production_dates

if TYPE_CHECKING:
    from labourledger.audits import AuditView
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.recording import Signer

__all__ = [
    "Document",
    "batch_id",
    "made_by_transformation",
    "product_id",
    "record_batch",
    "record_product",
    "record_transformation",
    "registered_batch_id",
    "trace",
    "trace_with_audits",
]


def record_product(
    ledger: Ledger,
    signer: Signer,
    *,
    name: str,
    brand: str,
    gtin: str | None = None,
    sku: str | None = None,
    hs_code: str | None = None,
) -> SignedEntry:
    """Register (pending) a product by its GTIN or SKU (one is needed)."""
    given = {"name": name, "brand": brand, "gtin": gtin, "sku": sku, "hs_code": hs_code}
    return record_checked(ledger, "product", given, signer)


def record_batch(
    ledger: Ledger,
    signer: Signer,
    *,
    product: str,
    lot: str,
    quantity: int,
    produced_at: dt.date,
    facility: str,
    unit: str = "pcs",
) -> SignedEntry:
    """Register (pending) a batch of `product` (its id, GTIN or SKU) made at a facility
    registered here (its id or OS id). Refused naming `lot` when a registration not revoked
    holds the same lot of the product already."""
    given = {
        "product": product_id(ledger, product, registered=True),
        "lot": lot,
        "quantity": quantity,
        "unit": unit,
        "produced_at": produced_at,
        "facility": ledger.facility_id(facility, registered=True),
    }
    body = checked("batch", given)
    batch = to_hex(kinds.subject_for("batch", kinds.parse_body("batch", body), issuer=""))
    if live := sorted(_unrevoked(ledger, "batches", "batch_id", batch)):
        # A second registration would give one batch two productions; trace keeps the first.
        raise InputError(
            f"lot: batch {lot} of this product is registered already ({live[0]}); "
            "revoke that registration first"
        )
    return record(ledger, "batch", body, signer_for(signer, "batch", body))


@dataclass(frozen=True)
class Document:
    """A business document backing a transformation: its type (purchase_order, invoice,
    bill_of_lading, packing_list or other), its number if it has one, and the file."""

    type: str
    file: Path
    number: str | None = None


def record_transformation(
    ledger: Ledger,
    signer: Signer,
    *,
    inputs: Sequence[str],
    output: str,
    facility: str,
    date: dt.date,
    documents: Sequence[Document] = (),
) -> SignedEntry:
    """Record (pending) that input batches became an output batch (ids or lots) at a
    facility registered here, with each document's file stored (call inside
    `ledger.evidence_staged()`) and its salted hash signed. Refused naming `output` when a
    transformation not revoked already makes it."""
    docs = [
        ledger.store_evidence(d.file).model_dump()
        | {"type": d.type, **({"number": d.number} if d.number else {})}
        for d in documents
    ]
    given = {
        "inputs": [
            batch_id(ledger, b, registered=True, field=f"inputs[{i}]") for i, b in enumerate(inputs)
        ],
        "output": batch_id(ledger, output, registered=True, field="output"),
        "facility": ledger.facility_id(facility, registered=True),
        "date": date,
        "documents": docs,
    }
    body = checked("transformation", given)
    _check_in_order(ledger, body, inputs, output)
    if made_by_transformation(ledger, body["output"]):
        raise InputError(
            f"output: batch {output} is already made by a transformation recorded here; "
            "revoke that one first"
        )
    return record(ledger, "transformation", body, signer_for(signer, "transformation", body))


def _check_in_order(
    ledger: Ledger, body: dict[str, Any], inputs: Sequence[str], output: str
) -> None:
    """Refuse a transformation its batches' own records contradict (`lineage.contradictions`:
    the rule verify's `lineage_in_order` applies), naming the first field at fault."""
    rows = ledger.mirror.lookup("batches", "batch_id", [*body["inputs"], body["output"]])
    found = contradictions(body, rows)
    if not found:
        return
    (field, batch), day = found[0], str(body["date"])  # a date, as ISO text like the rows
    if field == "facility":
        raise InputError(
            f"facility: batch {output} was produced at facility {batch['facility']}, "
            "where the transformation that makes it happens"
        )
    if field == "date":
        produced = batch["produced_at"]
        raise InputError(f"date: {day} is after batch {output} was produced ({produced})")
    ref = dict(zip(body["inputs"], inputs, strict=True))[batch["batch_id"]]
    raise InputError(
        f"{field}: batch {ref} was produced on {batch['produced_at']}, "
        f"after the transformation's date {day}"
    )


def made_by_transformation(ledger: Ledger, batch: str) -> bool:
    """Whether a transformation recorded here and not revoked makes `batch` (its id): a
    batch is made once, so a second would give its trace two pasts."""
    return bool(_unrevoked(ledger, "transformations", "output", batch))


def _unrevoked(ledger: Ledger, table: str, column: str, value: str) -> set[str]:
    """The entries of a projection table's rows whose `column` is `value`, less those a
    counted revocation withdrew."""
    held = ledger.mirror.ids_with(table, "entry_id", (column,), value)
    return held - ledger.revoked(held).keys()


#: Each kind `_resolve` finds: its projection table (named as the kind's plural), id column
#: and the columns naming it.
_NAMED_BY = {
    "product": ("products", "product_id", ("gtin", "sku")),
    "batch": ("batches", "batch_id", ("lot",)),
}


def _resolve(ledger: Ledger, ref: str, what: str, registered: bool, field: str | None) -> str:
    """An id from a 0x id (with `registered`, of one registered here), or from a value of
    one of the columns naming `what` that a single id has."""
    table, key, by = _NAMED_BY[what]
    named = f"{field}: {what} {ref}" if field else f"{what} {ref}"
    if is_hex_id(ref):
        found = ref.lower()
        if found not in ledger.mirror.lookup(table, key, [found]):
            # Another kind's id would otherwise be traced or verified as an unknown batch.
            if other := held_as(ledger, found):
                raise InputError(f"{named}: the id of {other} here, not of a {what}")
            # Nothing catches a typo in a 0x id before verify would.
            if registered:
                raise InputError(
                    f"{named}: not registered here; give the {', '.join(by)} or 0x id of a {what}"
                )
        return found
    matches = ledger.mirror.ids_with(table, key, by, ref)
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise InputError(f"{named}: not found here; give its 0x id or add it first")
    raise InputError(f"{named}: matches {len(matches)} {table}; give its 0x id")


def product_id(
    ledger: Ledger, ref: str, *, registered: bool = False, field: str | None = None
) -> str:
    """A product id from its 0x id, GTIN or SKU; with `registered`, of a product registered
    here. A `field` names the input in errors."""
    return _resolve(ledger, ref, "product", registered, field)


def batch_id(
    ledger: Ledger, ref: str, *, registered: bool = False, field: str | None = None
) -> str:
    """A batch id from its 0x id or its lot (when only one batch has that lot); with
    `registered`, of a batch registered here. A `field` names the input in errors."""
    return _resolve(ledger, ref, "batch", registered, field)


def registered_batch_id(ledger: Ledger, ref: str) -> str:
    """`batch_id`, of a batch registered here: what is exported or served must exist, where
    a trace or verify of an id nobody registered reports it so."""
    return batch_id(ledger, ref, registered=True)


def trace(ledger: Ledger, batch: str) -> dict[str, Any]:
    """The upstream graph of a batch: nodes (batches and facilities, with tier and
    audit status), edges to inputs and suppliers, and problems (cycles, gaps).
    Supply links count when valid on the batch's production date."""
    return trace_with_audits(ledger, batch)[0]


def trace_with_audits(
    ledger: Ledger, batch: str
) -> tuple[dict[str, Any], dict[str, list[AuditView]]]:
    """`trace`, and the audits of its registered facilities as `audits_of` gives them,
    read once for callers that need both."""
    root_id = batch_id(ledger, batch)
    root = ledger.mirror.lookup("batches", "batch_id", [root_id]).get(root_id)
    on = root["produced_at"] if root else time.strftime("%Y-%m-%d", time.gmtime())
    rows = ledger.mirror.walk_upstream(root_id, on=on, counted=ledger.revoked)
    batches = ledger.mirror.lookup(
        "batches", "batch_id", [r["id"] for r in rows if r["kind"] == "batch"]
    )
    facility_ids = [
        batches[r["id"]]["facility"] if r["id"] in batches else r["id"]
        for r in rows
        if r["kind"] == "facility" or r["id"] in batches
    ]
    facilities = ledger.mirror.lookup("facilities", "facility_id", facility_ids)
    graph = upstream_graph(root_id, rows, batches, facilities)
    nodes = {n["id"]: n for n in graph["nodes"]}
    registered = [n["facility"] for n in nodes.values() if "facility_name" in n]
    audits = ledger.audits_of(registered)
    grievances = counts_of(ledger, registered)
    made = production_dates(list(nodes.values()), dt.date.fromisoformat(on))
    policy = ledger.policy()
    for node in nodes.values():
        if "facility_name" in node:
            node["audit_status"] = audit_status_on(
                audits.get(node["facility"], []), made[node["facility"]], policy
            )
            node["grievances"] = grievances[node["facility"]].to_dict()
    return graph, audits
