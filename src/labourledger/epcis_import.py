"""GS1 EPCIS 2.0 events in as entries: the inverse of `labourledger.epcis`'s export, for
the events that say what labourledger records (commissioning `ObjectEvent`s become
products and batches, `TransformationEvent`s transformations); any other event is
skipped with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from labourledger import kinds
from labourledger.envelope import HashSigner, Kind, SignedEntry, to_hex
from labourledger.epcis import (
    DOCUMENTS_FIELD,
    FACILITY_URN,
    GLN_URI,
    OS_URI,
    PRODUCT_FIELD,
    UNITS,
    LotRef,
    parse_lot_uri,
)
from labourledger.errors import InputError, invalid_input
from labourledger.identifiers import facility_id_from_os_id
from labourledger.provenance import made_by_transformation

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["EpcisImport", "SkippedEvent", "import_document"]

#: UN/CEFACT codes back to the units labourledger records.
_UNIT_OF: Final = {code: unit for unit, code in UNITS.items()}
#: The spellings of the commissioning business step (bare CBV 2.0, its URI, CBV 1.x URN).
_COMMISSIONING = {
    "commissioning",
    "https://ref.gs1.org/cbv/BizStep-commissioning",
    "urn:epcglobal:cbv:bizstep:commissioning",
}


class _Quantity(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    epc_class: str = Field(alias="epcClass")
    # Strict and finite: JSON's true is no number, and Infinity, NaN or 1e400 no count.
    quantity: float | None = Field(default=None, strict=True, allow_inf_nan=False)
    uom: str | None = None


class _Event(BaseModel):
    """The fields of an EPCIS event that the import reads; the rest are kept aside."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

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
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

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
        return to_hex(entry.subject)

    def facility(self, event: _Event) -> str:
        uri = (event.biz_location or {}).get("id")
        if not isinstance(uri, str):
            raise _Skip("no bizLocation: labourledger needs the facility where it happened")
        if uri.startswith(OS_URI):
            try:
                return "0x" + facility_id_from_os_id(uri[len(OS_URI) :]).hex()
            except InputError as exc:
                raise _Skip(f"bizLocation {uri}: {exc}") from None
        if uri.startswith(FACILITY_URN):
            return uri[len(FACILITY_URN) :].lower()
        if uri.startswith(GLN_URI):
            found = self.glns().get(uri[len(GLN_URI) :])
            if found is None:
                raise _Skip(f"bizLocation {uri}: no facility with this GLN is registered here")
            return found
        raise _Skip(f"bizLocation {uri}: not a GLN, Open Supply Hub or labourledger facility")

    def glns(self) -> dict[str, str]:
        if self._glns is None:
            rows = [f for f in self.ledger.facilities() if not f.revoked_by]
            bodies = self.ledger.entries([f.entry_id for f in rows])
            self._glns = {
                bodies[f.entry_id].body["gln"]: f.facility_id
                for f in rows
                if bodies[f.entry_id].body.get("gln")
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
            raise _Skip(f"{PRODUCT_FIELD}: {exc}") from None
        named = (model.model_dump().get("gtin") or "").zfill(14), model.model_dump().get("sku")
        if (ref.gtin and named[0] != ref.gtin) or (not ref.gtin and named[1] != ref.sku):
            raise _Skip(f"{PRODUCT_FIELD} names another product than the event's epcClass")
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
            product_id = self.product(ref, raw.get(PRODUCT_FIELD))
            batch_id = self.batch_id(product_id, ref.lot)
            if batch_id in self.batches or self.ledger.mirror.lookup(
                "batches", "batch_id", [batch_id]
            ):
                raise _Skip(f"{quantity.epc_class}: this batch is already recorded")
            body = {
                "product": product_id,
                "lot": ref.lot,
                "quantity": _count(quantity),
                "unit": _UNIT_OF.get(quantity.uom or "H87", quantity.uom or "pcs"),
                "produced_at": event.event_time.date().isoformat(),
                "facility": facility,
            }
            try:  # a quantity or unit labourledger cannot record skips the event, as 2.5 does
                kinds.parse_body("batch", body)
            except InputError as exc:
                raise _Skip(f"{quantity.epc_class}: {str(exc).removeprefix('body.')}") from None
            self.sign("batch", body)
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
        if output in self.outputs or made_by_transformation(self.ledger, output):
            raise _Skip(f"{event.outputs[0].epc_class}: a transformation making it is recorded")
        body = {
            "inputs": inputs,
            "output": output,
            "facility": facility,
            "date": event.event_time.date().isoformat(),
            "documents": raw.get(DOCUMENTS_FIELD, []),
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
