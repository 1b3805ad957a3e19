"""The read-only view of one workspace that the web app serves, with its verification cache.

The mirror is opened read-only (SQLite `mode=ro`, PostgreSQL read-only transactions) and no
key is ever loaded, so no request can change the workspace. Verification results are kept
per batch and chain head: a new block, or a `sync` that moves the mirror's bookmark, makes
the next request verify again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from labourledger.digital_link import gtin_forms
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.mirror import schema
from labourledger.mirror.store import Mirror
from labourledger.presentation import Annotations, BatchView, annotate, batch_view
from labourledger.workspace import Workspace

if TYPE_CHECKING:
    from labourledger.audits import AuditView
    from labourledger.models import FacilityView
    from labourledger.receipts import ReceiptCheck

__all__ = ["NotFound", "ReadOnlyWorkspace", "Verified", "read_only_url"]

#: Batches whose verification is kept; the oldest is dropped first.
CACHE_SIZE = 256
#: Seconds a read of the chain head is trusted: under load, one read serves every request
#: of that second instead of two node calls and a query each.
HEAD_SECONDS = 1.0


class NotFound(InputError):
    """A lot, GTIN, facility or audit this workspace does not hold."""


def read_only_url(url: str) -> str:
    """The mirror's URL, opened so that nothing can be written through it."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).resolve()
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    if backend == "postgresql":
        given = parsed.query.get("options") or ""
        # Kept beside any options already there (a search_path, say).
        kept = [given] if isinstance(given, str) else list(given)
        options = " ".join([*kept, "-c default_transaction_read_only=on"]).strip()
        return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
    raise InputError(f"mirror {parsed.render_as_string()}: cannot be opened read-only")


@dataclass
class Verified:
    """One batch's verification at one chain head, and its renderings."""

    report: dict[str, Any]
    notes: Annotations
    view: BatchView
    pages: dict[str, str] = field(default_factory=dict)


class ReadOnlyWorkspace:
    """A workspace's mirror and chain, read and never written."""

    def __init__(self, root: Path) -> None:
        workspace = Workspace.open(root)
        self.ledger = Ledger(workspace)
        self.ledger.mirror = Mirror(read_only_url(workspace.mirror_url))
        self._cache: OrderedDict[tuple[str, str], Verified] = OrderedDict()
        self._batches: dict[tuple[str, str | None, str], str] = {}
        self._head: tuple[float, str] = (-HEAD_SECONDS, "")
        # One verification at a time: 50 clients asking for a cold batch verify it once.
        self._verifying = threading.Lock()
        self._reading_head = threading.Lock()

    def check(self) -> None:
        """Reach the mirror and the chain once, so a broken workspace fails at start."""
        self.head()

    def head(self) -> str:
        """What a cached verification depends on: the chain's newest block, and how far
        `sync` has read it into the mirror (read again after HEAD_SECONDS)."""
        read_at, head = self._head
        if time.monotonic() - read_at < HEAD_SECONDS:
            return head
        with self._reading_head:  # the requests waiting when it lapses read it once
            read_at, head = self._head
            if time.monotonic() - read_at >= HEAD_SECONDS:
                chain = self.ledger.chain
                number = chain.latest_block()
                synced = self.ledger.mirror.get_sync_state("last_synced_block")
                head = f"{number}:{chain.block_hash(number).hex()}:{synced}"
                self._head = (time.monotonic(), head)
        return head

    def batch_id(self, lot: str, gtin: str | None = None) -> str:
        """The batch with this lot (of the product with this GTIN, when given); a batch found
        is remembered until the head moves, a miss is looked up again each time."""
        key = (lot, gtin, self.head())
        found = self._batches.get(key)
        if found is None:
            found = self._find_batch(lot, gtin)
            if len(self._batches) >= CACHE_SIZE:
                self._batches.clear()
            self._batches[key] = found
        return found

    def cached(self, lot: str, gtin: str | None = None) -> Verified | None:
        """The batch's verification if it can be had without reading the mirror or the chain
        (the head read recently, the lot resolved and verified at that head), else None."""
        read_at, head = self._head
        if time.monotonic() - read_at >= HEAD_SECONDS:
            return None
        batch_id = self._batches.get((lot, gtin, head))
        return None if batch_id is None else self._cache.get((batch_id, head))

    def _find_batch(self, lot: str, gtin: str | None) -> str:
        if gtin is None:
            try:
                return self.ledger.registered_batch_id(lot)
            except InputError as exc:
                raise NotFound(str(exc)) from None
        b, p = schema.batches, schema.products
        query = (
            select(b.c.batch_id)
            .join(p, p.c.product_id == b.c.product)
            .where(b.c.lot == lot, p.c.gtin.in_(gtin_forms(gtin)))
        )
        with self.ledger.mirror.transaction() as conn:
            found = sorted({str(r[0]) for r in conn.execute(query)})
        if len(found) != 1:
            raise NotFound(
                f"lot {lot} of GTIN {gtin}: "
                + ("not found here" if not found else f"matches {len(found)} batches")
            )
        return found[0]

    def gtin_of(self, batch_id: str) -> str | None:
        """The GTIN of the batch's product, if it has one."""
        mirror = self.ledger.mirror
        batch = mirror.lookup("batches", "batch_id", [batch_id]).get(batch_id) or {}
        product = mirror.lookup("products", "product_id", [batch.get("product") or ""])
        gtin = next(iter(product.values()), {}).get("gtin")
        return str(gtin) if gtin else None

    def verified(self, batch_id: str) -> Verified:
        """The batch's verification at the current head, from the cache when it is there."""
        key = (batch_id, self.head())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        with self._verifying:
            hit = self._cache.get(key)
            if hit is None:
                self.ledger.forget_chain_reads()
                report = self.ledger.verify(batch_id)
                notes = annotate(self.ledger, report)
                hit = Verified(report, notes, batch_view(report, notes))
                self._cache[key] = hit
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return hit

    def bundle(self, batch_id: str) -> dict[str, Any]:
        """The batch's self-contained bundle, as `export` writes it."""
        return self.ledger.export_bundle(batch_id).model_dump(mode="json")

    def trace(self, batch_id: str) -> dict[str, Any]:
        """The batch's upstream graph."""
        return self.ledger.trace(batch_id)

    def facility(self, ref: str) -> FacilityView:
        """A facility by id or OS ID, with its entries, links, audits and attestations."""
        facility_id = self.ledger.facility_id(ref)  # a malformed reference stays an InputError
        if self.ledger.mirror.facility(facility_id) is None:
            raise NotFound(f"facility {ref}: not registered here")
        return self.ledger.facility(facility_id)

    def receipt(self, code: str) -> ReceiptCheck:
        """What a worker's grievance receipt shows: month, anchor, status, history."""
        from labourledger.kinds.grievances import parse_receipt
        from labourledger.receipts import check_receipt

        parse_receipt(code)  # a malformed code stays an InputError
        try:
            return check_receipt(self.ledger, code)
        except InputError as exc:
            raise NotFound(str(exc)) from None

    def audit(self, audit_id: str) -> AuditView:
        """An audit with its findings and their history."""
        try:
            return self.ledger.audit(audit_id)
        except InputError as exc:
            raise NotFound(str(exc)) from None
