"""GS1 EPCIS 2.0 (JSON-LD): a batch's lineage out as events, and events in as entries.

Export: one commissioning `ObjectEvent` per batch and one `TransformationEvent` per
transformation upstream of a batch, each with its EPCIS event hash as `eventID` and
the labourledger entry id it came from. Import: the inverse, for the events that say
what labourledger records (see README "Working with other tools" for the mapping).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from stdnum import ean

from labourledger import kinds
from labourledger.envelope import HashSigner, Kind, SignedEntry
from labourledger.errors import InputError, invalid_input
from labourledger.identifiers import facility_id_from_os_id

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "CONTEXT",
    "NAMESPACE",
    "EpcisImport",
    "SkippedEvent",
    "event_hash",
    "export_document",
    "import_document",
]

CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: The JSON-LD namespace of labourledger's extension fields (`labourledger:entryId`, …).
NAMESPACE: Final = "urn:labourledger:epcis:"
_ENTRY_ID: Final = "labourledger:entryId"
_PRODUCT: Final = "labourledger:product"
_DOCUMENTS: Final = "labourledger:documents"

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
_UNIT_OF: Final = {code: unit for unit, code in UNITS.items()}
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
_GLN_URI = "https://id.gs1.org/414/"
_OS_URI = "https://opensupplyhub.org/facilities/"
_FACILITY_URN = "urn:labourledger:facility:"
_BATCH_URN = "urn:labourledger:batch:"
_COMMISSIONING = {
    "commissioning",
    "https://ref.gs1.org/cbv/BizStep-commissioning",
    "urn:epcglobal:cbv:bizstep:commissioning",
}


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
        return _GLN_URI + str(facility["gln"])
    if facility and facility.get("os_id"):
        return _OS_URI + str(facility["os_id"])
    return _FACILITY_URN + facility_id


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
    graph = ledger.trace(batch)
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
                _PRODUCT: product_of[row["product"]],
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
            event[_DOCUMENTS] = documents
        transformed.append(event | {_ENTRY_ID: entry_id})

    def order(event: dict[str, Any]) -> tuple[str, str]:
        listed = event.get("quantityList") or event["outputQuantityList"]
        return event["eventTime"], listed[0]["epcClass"]

    events = sorted(commissioned, key=order) + sorted(transformed, key=order)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _document([_with_id(e) for e in events], creation_date=now)


def _biz_transaction(document: Mapping[str, Any]) -> dict[str, str]:
    reference = quote(document.get("number") or document["hash"], safe="")
    transaction = {"bizTransaction": f"urn:labourledger:document:{document['type']}:{reference}"}
    kind = _BIZ_TRANSACTION.get(document["type"])
    return {"type": kind, **transaction} if kind else transaction


# -- import --------------------------------------------------------------------


class _Quantity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epc_class: str = Field(alias="epcClass")
    quantity: float | None = None
    uom: str | None = None


class _Event(BaseModel):
    """The fields of an EPCIS event that the import reads; the rest are kept aside."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str
    event_time: dt.datetime = Field(alias="eventTime")
    action: str | None = None
    biz_step: str | None = Field(default=None, alias="bizStep")
    biz_location: dict[str, Any] | None = Field(default=None, alias="bizLocation")
    epc_list: list[str] = Field(default=[], alias="epcList")
    quantity_list: list[_Quantity] = Field(default=[], alias="quantityList")
    input_epcs: list[str] = Field(default=[], alias="inputEPCList")
    output_epcs: list[str] = Field(default=[], alias="outputEPCList")
    inputs: list[_Quantity] = Field(default=[], alias="inputQuantityList")
    outputs: list[_Quantity] = Field(default=[], alias="outputQuantityList")
    event_id: str | None = Field(default=None, alias="eventID")


class _Document(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["EPCISDocument"]
    schema_version: Literal["2.0"] = Field(alias="schemaVersion")
    epcis_body: dict[str, Any] = Field(alias="epcisBody")


@dataclass(frozen=True)
class SkippedEvent:
    """An event not turned into entries, and why."""

    index: int
    type: str
    event_id: str | None
    reason: str


@dataclass
class EpcisImport:
    """What one EPCIS document became: entries recorded, events skipped."""

    entries: list[SignedEntry] = field(default_factory=list)
    skipped: list[SkippedEvent] = field(default_factory=list)


class _Skip(Exception):
    """One event cannot be mapped; its message is the reason."""


def _events(document: Any) -> list[Any]:
    try:
        parsed = _Document.model_validate(document)
    except ValidationError as exc:
        raise invalid_input(exc, "EPCIS document") from None
    events = parsed.epcis_body.get("eventList")
    if not isinstance(events, list):
        raise InputError("EPCIS document: epcisBody.eventList: expected a list of events")
    return events


class _Importer:
    """Plans the entries of one document against one workspace, signing as one key."""

    def __init__(self, ledger: Ledger, signer: HashSigner) -> None:
        self.ledger = ledger
        self.signer = signer
        self.result = EpcisImport()
        self.products: dict[str, None] = {}  # product ids recorded or planned, in order
        self.batches: set[str] = set()
        self.outputs: set[str] = set()
        self._glns: dict[str, str] | None = None

    def sign(self, kind: Kind, body: Mapping[str, Any]) -> str:
        entry = self.ledger.sign(kind, body, self.signer)
        self.result.entries.append(entry)
        return "0x" + entry.subject.hex()

    def facility(self, event: _Event) -> str:
        uri = (event.biz_location or {}).get("id")
        if not isinstance(uri, str):
            raise _Skip("no bizLocation: labourledger needs the facility where it happened")
        if uri.startswith(_OS_URI):
            try:
                return "0x" + facility_id_from_os_id(uri[len(_OS_URI) :]).hex()
            except InputError as exc:
                raise _Skip(f"bizLocation {uri}: {exc}") from None
        if uri.startswith(_FACILITY_URN):
            return uri[len(_FACILITY_URN) :].lower()
        if uri.startswith(_GLN_URI):
            found = self.glns().get(uri[len(_GLN_URI) :])
            if found is None:
                raise _Skip(f"bizLocation {uri}: no facility with this GLN is registered here")
            return found
        raise _Skip(f"bizLocation {uri}: not a GLN, Open Supply Hub or labourledger facility")

    def glns(self) -> dict[str, str]:
        if self._glns is None:
            rows = self.ledger.mirror.facilities()
            bodies = self.ledger.entries([r["entry_id"] for r in rows])
            self._glns = {
                bodies[r["entry_id"]].body["gln"]: r["facility_id"]
                for r in rows
                if bodies[r["entry_id"]].body.get("gln")
            }
        return self._glns

    def product(self, ref: LotRef, given: Any) -> str:
        if isinstance(given, Mapping):
            body = dict(given)
        elif ref.gtin:
            body = {"gtin": ref.gtin, "name": f"GTIN {ref.gtin}", "brand": "unknown"}
        else:
            body = {"sku": ref.sku, "name": f"SKU {ref.sku}", "brand": "unknown"}
        try:
            model = kinds.parse_body("product", body)
        except InputError as exc:
            raise _Skip(f"{_PRODUCT}: {exc}") from None
        named = (model.model_dump().get("gtin") or "").zfill(14), model.model_dump().get("sku")
        if (ref.gtin and named[0] != ref.gtin) or (not ref.gtin and named[1] != ref.sku):
            raise _Skip(f"{_PRODUCT} names another product than the event's epcClass")
        product_id = "0x" + kinds.subject_for("product", model, issuer=self.signer.address).hex()
        if product_id not in self.products:
            if not self.ledger.mirror.lookup("products", "product_id", [product_id]):
                self.sign("product", body)
            self.products[product_id] = None
        return product_id

    def batch_id(self, product_id: str, lot: str) -> str:
        # A batch's id follows from its product and lot alone; the rest only fills the model.
        model = kinds.parse_body(
            "batch",
            {
                "product": product_id,
                "lot": lot,
                "quantity": 1,
                "produced_at": "2000-01-01",
                "facility": "0x" + "00" * 32,
            },
        )
        return "0x" + kinds.subject_for("batch", model, issuer=self.signer.address).hex()

    def existing_batch(self, quantity: _Quantity) -> str:
        try:
            ref = parse_lot_uri(quantity.epc_class)
        except InputError as exc:
            raise _Skip(str(exc)) from None
        key = f"gtin:{ref.gtin}" if ref.gtin else f"sku:{ref.sku}"
        known = self.ledger.mirror.lookup(
            "products", "gtin" if ref.gtin else "sku", _spellings(ref)
        )
        candidates = [*self.products] + [r["product_id"] for r in known.values()]
        for product_id in dict.fromkeys(candidates):
            batch_id = self.batch_id(product_id, ref.lot)
            if batch_id in self.batches or self.ledger.mirror.lookup(
                "batches", "batch_id", [batch_id]
            ):
                return batch_id
        raise _Skip(
            f"{quantity.epc_class}: no batch of {key} lot {ref.lot} here and no commissioning "
            "event for it before this one"
        )

    def commission(self, event: _Event, raw: Mapping[str, Any]) -> None:
        if event.action != "ADD" or event.biz_step not in _COMMISSIONING:
            raise _Skip("an ObjectEvent other than commissioning (action ADD): not mapped")
        if not event.quantity_list:
            raise _Skip(
                "commissions serialised instances (epcList) only; labourledger "
                "records lots by quantity (quantityList)"
            )
        facility = self.facility(event)
        for quantity in event.quantity_list:
            try:
                ref = parse_lot_uri(quantity.epc_class)
            except InputError as exc:
                raise _Skip(str(exc)) from None
            product_id = self.product(ref, raw.get(_PRODUCT))
            batch_id = self.batch_id(product_id, ref.lot)
            if batch_id in self.batches or self.ledger.mirror.lookup(
                "batches", "batch_id", [batch_id]
            ):
                raise _Skip(f"{quantity.epc_class}: this batch is already recorded")
            self.sign(
                "batch",
                {
                    "product": product_id,
                    "lot": ref.lot,
                    "quantity": _count(quantity),
                    "unit": _UNIT_OF.get(quantity.uom or "H87", quantity.uom or "pcs"),
                    "produced_at": event.event_time.date().isoformat(),
                    "facility": facility,
                },
            )
            self.batches.add(batch_id)

    def transform(self, event: _Event, raw: Mapping[str, Any]) -> None:
        if event.input_epcs or event.output_epcs:
            raise _Skip(
                "transforms serialised instances (inputEPCList/outputEPCList); "
                "labourledger records lots by quantity"
            )
        if len(event.outputs) != 1 or not event.inputs:
            raise _Skip("needs input quantities and exactly one output quantity")
        facility = self.facility(event)
        inputs = [self.existing_batch(q) for q in event.inputs]
        output = self.existing_batch(event.outputs[0])
        if output in self.outputs or self.ledger.mirror.lookup(
            "transformations", "output", [output]
        ):
            raise _Skip(f"{event.outputs[0].epc_class}: a transformation making it is recorded")
        body = {
            "inputs": inputs,
            "output": output,
            "facility": facility,
            "date": event.event_time.date().isoformat(),
            "documents": raw.get(_DOCUMENTS, []),
        }
        try:
            kinds.parse_body("transformation", body)
        except InputError as exc:
            raise _Skip(str(exc)) from None
        self.sign("transformation", body)
        self.outputs.add(output)


def _spellings(ref: LotRef) -> list[str]:
    """The ways a product may have stored the reference's GTIN (8 to 14 digits), or its SKU."""
    if ref.gtin is None:
        return [ref.sku or ""]
    return [ref.gtin[cut:] for cut in (0, 1, 2, 6) if set(ref.gtin[:cut]) <= {"0"}]


def _count(quantity: _Quantity) -> int:
    if quantity.quantity is None or quantity.quantity != int(quantity.quantity):
        raise _Skip(f"{quantity.epc_class}: quantity must be a whole number")
    return int(quantity.quantity)


def import_document(ledger: Ledger, document: Any, signer: HashSigner) -> EpcisImport:
    """Record an EPCIS document's commissioning ObjectEvents (products and batches), then
    its TransformationEvents, signed by `signer`; other events are skipped with a reason.
    Nothing is stored unless the whole document is well formed."""
    raw_events = _events(document)
    importer = _Importer(ledger, signer)
    parsed: list[tuple[int, _Event, Mapping[str, Any]]] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, Mapping):
            raise InputError(f"EPCIS document: event {index}: expected a JSON object")
        try:
            parsed.append((index, _Event.model_validate(raw), raw))
        except ValidationError as exc:
            raise invalid_input(exc, f"EPCIS document: event {index}") from None
    handlers = {"ObjectEvent": importer.commission, "TransformationEvent": importer.transform}
    # Batches first, so a transformation finds the lots commissioned anywhere in the file.
    for index, event, raw in sorted(parsed, key=lambda p: p[1].type != "ObjectEvent"):
        handler = handlers.get(event.type)
        # An event is mapped whole or not at all: drop what it planned before it failed.
        planned = (len(importer.result.entries), set(importer.products), set(importer.batches))
        try:
            if handler is None:
                raise _Skip(
                    f"{event.type}: not mapped (labourledger records commissioning "
                    "ObjectEvents and TransformationEvents)"
                )
            handler(event, raw)
        except _Skip as skip:
            del importer.result.entries[planned[0] :]
            importer.products = dict.fromkeys(planned[1])
            importer.batches = planned[2]
            importer.result.skipped.append(
                SkippedEvent(
                    index=index, type=event.type, event_id=event.event_id, reason=str(skip)
                )
            )
    importer.result.skipped.sort(key=lambda s: s.index)
    ledger.store(importer.result.entries, source="epcis")
    return importer.result
