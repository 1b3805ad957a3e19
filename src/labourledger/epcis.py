"""GS1 EPCIS 2.0 (JSON-LD): the identifiers both directions share, and a batch's lineage out
as events.

Export: one commissioning `ObjectEvent` per batch and one `TransformationEvent` per
transformation upstream of a batch, each with its EPCIS event hash as `eventID` and
the labourledger entry id it came from. The inverse, events in as entries, is
`labourledger.epcis_import` (see README "Working with other tools" for the mapping).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote

from stdnum import ean

from labourledger.errors import InputError

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "CONTEXT",
    "NAMESPACE",
    "LotRef",
    "event_hash",
    "export_document",
    "location_uri",
    "lot_uri",
    "parse_lot_uri",
    "write_document",
]

CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: The JSON-LD namespace of labourledger's extension fields (`labourledger:entryId`, …).
NAMESPACE: Final = "urn:labourledger:epcis:"
_ENTRY_ID: Final = "labourledger:entryId"
#: Extension fields carrying the product's body and a transformation's documents whole.
PRODUCT_FIELD: Final = "labourledger:product"
DOCUMENTS_FIELD: Final = "labourledger:documents"

#: Batch units and their UN/CEFACT Recommendation 20 codes. A unit that already is a
#: code (two or three capitals or digits) is written as it is.
UNITS: Final = {
    "pcs": "H87",
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "m": "MTR",
    "m2": "MTK",
    "yd": "YRD",
    "l": "LTR",
    "lb": "LBR",
    "pair": "PR",
    "dozen": "DZN",
}
_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
#: CBV 2.0 business transaction types of the document types a transformation cites.
_BIZ_TRANSACTION: Final = {
    "purchase_order": "po",
    "invoice": "inv",
    "bill_of_lading": "bol",
    "packing_list": "desadv",
}

_DL_LOT = re.compile(r"^https://id\.gs1\.org/01/(\d{8,14})/10/([^/?#]+)$")
_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$")
_SKU = re.compile(r"^urn:labourledger:sku:([^:]+):lot:([^:]+)$")
#: bizLocation prefixes: a GLN, an Open Supply Hub facility, a labourledger facility id.
GLN_URI = "https://id.gs1.org/414/"
OS_URI = "https://opensupplyhub.org/facilities/"
FACILITY_URN = "urn:labourledger:facility:"
_BATCH_URN = "urn:labourledger:batch:"


# -- identifiers ---------------------------------------------------------------


def lot_uri(product: Mapping[str, Any], lot: str) -> str:
    """A lot of a product: GS1 Digital Link by GTIN, else labourledger's SKU URN."""
    if product.get("gtin"):
        return f"https://id.gs1.org/01/{str(product['gtin']).zfill(14)}/10/{quote(lot, safe='')}"
    return f"urn:labourledger:sku:{quote(product['sku'], safe='')}:lot:{quote(lot, safe='')}"


@dataclass(frozen=True)
class LotRef:
    """What an EPC class URI names: a product (by GTIN or SKU) and a lot."""

    lot: str
    gtin: str | None = None
    sku: str | None = None


def parse_lot_uri(uri: str) -> LotRef:
    """The product and lot of an EPC class URI; InputError when it names no lot."""
    if match := _DL_LOT.match(uri):
        return LotRef(gtin=match[1].zfill(14), lot=unquote(match[2]))
    if match := _LGTIN.match(uri):
        company, item, lot = match.groups()
        body = item[:1] + company + item[1:]
        if len(body) != 13:
            raise InputError(f"{uri}: company prefix and item reference must have 13 digits")
        return LotRef(gtin=body + ean.calc_check_digit(body), lot=unquote(lot))
    if match := _SKU.match(uri):
        return LotRef(sku=unquote(match[1]), lot=unquote(match[2]))
    raise InputError(
        f"{uri}: names no lot (expected a GS1 Digital Link with /10/, urn:epc:class:lgtin: "
        "or urn:labourledger:sku:)"
    )


def location_uri(facility_id: str, facility: Mapping[str, Any] | None) -> str:
    """A facility as bizLocation: its GLN, else its Open Supply Hub page, else its id."""
    if facility and facility.get("gln"):
        return GLN_URI + str(facility["gln"])
    if facility and facility.get("os_id"):
        return OS_URI + str(facility["os_id"])
    return FACILITY_URN + facility_id


def _unit_code(unit: str) -> str:
    if unit in UNITS:
        return UNITS[unit]
    if _CODE.match(unit):
        return unit
    raise InputError(
        f"unit {unit!r}: no UN/CEFACT code known; use one of {', '.join(UNITS)} or a code"
    )


def event_hash(event: Mapping[str, Any]) -> str:
    """The EPCIS event hash (`ni:///sha-256;…?ver=CBV2.0`) of one event, by GS1's
    reference algorithm (the epcis-event-hash-generator package)."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    # The generator rewrites the values it reads in place; it gets a copy.
    document = _document([copy.deepcopy(dict(event))], creation_date="1970-01-01T00:00:00Z")
    (hashed,) = hash_generator.epcis_hashes_from_events(
        json_to_py.event_list_from_epcis_document_json(document)
    )
    return str(hashed)


def _document(events: list[dict[str, Any]], *, creation_date: str) -> dict[str, Any]:
    return {
        "@context": [CONTEXT, {"labourledger": NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date,
        "epcisBody": {"eventList": events},
    }


def _with_id(event: dict[str, Any]) -> dict[str, Any]:
    return {"eventID": event_hash(event), **event}


# -- export --------------------------------------------------------------------


def export_document(ledger: Ledger, batch: str) -> dict[str, Any]:
    """The EPCISDocument of a batch's upstream lineage: a commissioning ObjectEvent per
    registered batch, then a TransformationEvent per transformation, each in date order."""
    graph = ledger.trace(ledger.registered_batch_id(batch))
    mirror = ledger.mirror
    batch_ids = [n["id"] for n in graph["nodes"] if n["kind"] == "batch"]
    made = list(dict.fromkeys(e["via"] for e in graph["edges"] if e["kind"] == "transformation"))
    transformations = ledger.entries(made)
    for entry in transformations.values():
        batch_ids += entry.body["inputs"]
    batches = mirror.lookup("batches", "batch_id", batch_ids)
    products = mirror.lookup("products", "product_id", [b["product"] for b in batches.values()])
    facility_ids = [b["facility"] for b in batches.values()]
    facility_ids += [t.body["facility"] for t in transformations.values()]
    facilities = mirror.lookup("facilities", "facility_id", facility_ids)
    bodies = ledger.entries([r["entry_id"] for r in (*products.values(), *facilities.values())])
    product_of = {pid: bodies[row["entry_id"]].body for pid, row in products.items()}

    def place(facility_id: str) -> dict[str, str]:
        row = facilities.get(facility_id)
        return {"id": location_uri(facility_id, bodies[row["entry_id"]].body if row else None)}

    def quantity(batch_id: str) -> dict[str, Any]:
        row = batches.get(batch_id)
        if row is None or row["product"] not in product_of:
            return {"epcClass": _BATCH_URN + batch_id}
        return {
            "epcClass": lot_uri(product_of[row["product"]], row["lot"]),
            "quantity": row["quantity"],
            "uom": _unit_code(row["unit"]),
        }

    commissioned = []
    for batch_id, row in batches.items():
        if row["product"] not in product_of:
            continue
        commissioned.append(
            {
                "type": "ObjectEvent",
                "eventTime": f"{row['produced_at']}T00:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "quantityList": [quantity(batch_id)],
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "bizLocation": place(row["facility"]),
                _ENTRY_ID: row["entry_id"],
                PRODUCT_FIELD: product_of[row["product"]],
            }
        )
    transformed = []
    for entry_id, entry in transformations.items():
        body = entry.body
        event: dict[str, Any] = {
            "type": "TransformationEvent",
            "eventTime": f"{body['date']}T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": [quantity(b) for b in body["inputs"]],
            "outputQuantityList": [quantity(body["output"])],
            "bizLocation": place(body["facility"]),
        }
        documents = body.get("documents", [])
        if documents:
            event["bizTransactionList"] = [_biz_transaction(d) for d in documents]
            event[DOCUMENTS_FIELD] = documents
        transformed.append(event | {_ENTRY_ID: entry_id})

    def order(event: dict[str, Any]) -> tuple[str, str]:
        listed = event.get("quantityList") or event["outputQuantityList"]
        return event["eventTime"], listed[0]["epcClass"]

    events = sorted(commissioned, key=order) + sorted(transformed, key=order)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _document([_with_id(e) for e in events], creation_date=now)


def write_document(ledger: Ledger, batch: str, path: Path) -> dict[str, Any]:
    """Write a batch's lineage (`export_document`) to `path`, whole or not at all; returns
    the document."""
    from labourledger.exchange import write_output

    document = export_document(ledger, batch)
    write_output(path, json.dumps(document, indent=2) + "\n")
    return document


def _biz_transaction(document: Mapping[str, Any]) -> dict[str, str]:
    reference = quote(document.get("number") or document["hash"], safe="")
    transaction = {"bizTransaction": f"urn:labourledger:document:{document['type']}:{reference}"}
    kind = _BIZ_TRANSACTION.get(document["type"])
    return {"type": kind, **transaction} if kind else transaction
