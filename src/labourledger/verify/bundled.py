"""A bundle as an `EvidenceSource`, held in memory: no workspace, no database.

What the bundle claims about the chain is asked of the chain again: anchored roots,
roles, the completeness index, and where the contract was deployed (its `deploy_block`,
from which role grants and index events are read). Revocations inside the bundle count
only when `labourledger.revocations` says so, also where they would cut the trace.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from labourledger.bundle import Bundle, BundleEntry
from labourledger.envelope import Domain, SignedEntry, to_hex
from labourledger.errors import InputError, WrongChain
from labourledger.identifiers import is_hex_id
from labourledger.redaction import redact_url
from labourledger.revocations import RevocationFacts, Revocations, judge_revocations
from labourledger.upstream import Edge, walk_upstream
from labourledger.verify.integrity import AnchoredRoot
from labourledger.verify.results import CheckResult, Outcome
from labourledger.verify.source import ChainFacts, Registered, StoredProof, anchored_root_on

if TYPE_CHECKING:
    from labourledger.chain import LedgerChain
    from labourledger.chain.ledger_contract import IndexEvent, RoleEvent

__all__ = ["BundleEvidence"]

#: Confirmations a bundle's anchors need on a chain reached by URL.
URL_CONFIRMATIONS = 12
#: Where a kind's subject goes in its lookup row.
_ID_COLUMN = {"batch": "batch_id", "product": "product_id", "facility": "facility_id"}


class BundleEvidence:
    """A bundle's entries and proofs, checked against `chain` (whose id must be the
    bundle's; the contract is the bundle's)."""

    def __init__(self, bundle: Bundle, chain: LedgerChain) -> None:
        if chain.chain_id != bundle.chain_id:
            raise WrongChain(bundle.chain_id, chain.label, chain.chain_id)
        chain.attach(bundle.contract)
        self._chain = chain
        self.bundle = bundle
        self._entries: dict[str, BundleEntry] = {e.id_hex: e for e in bundle.entries}
        self._signed: dict[str, SignedEntry] = {}
        self._targets: dict[str, list[str]] = {}
        for entry in bundle.entries:
            if entry.kind == "revocation":
                self._targets.setdefault(str(entry.body["target"]).lower(), []).append(entry.id_hex)
        self.chain = ChainFacts(
            chain_id=bundle.chain_id,
            contract=chain.contract_address or bundle.contract,
            deploy_block=bundle.deploy_block,
            confirmations=0 if chain.is_embedded else URL_CONFIRMATIONS,
            label=redact_url(chain.label),
            embedded=chain.is_embedded,
        )
        self.domain = Domain(chain_id=bundle.chain_id, verifying_contract=bundle.contract)
        # Read here, before any worker forks: what the workers read of the chain is cached.
        self._transactions = self._anchoring_transactions()

    # -- evidence ------------------------------------------------------------

    def batch_id(self, ref: str) -> str:
        """The bundle's batch by 0x id, or by its lot when one batch in it has that lot."""
        if is_hex_id(ref):
            return ref.lower()
        matches = {
            to_hex(e.subject)
            for e in self.bundle.entries
            if e.kind == "batch" and e.body.get("lot") == ref
        }
        if len(matches) != 1:
            raise InputError(f"batch {ref}: {len(matches)} batches in the bundle have this lot")
        return matches.pop()

    def lookup(self, kind: Registered, subjects: Iterable[str]) -> dict[str, dict[str, Any]]:
        """First registrations in bundle order, shaped as the mirror's projection rows."""
        wanted = {s.lower() for s in subjects}
        found: dict[str, dict[str, Any]] = {}
        for entry in self.bundle.entries:
            subject = to_hex(entry.subject)
            if entry.kind == kind and subject in wanted and subject not in found:
                found[subject] = {
                    **entry.fields(),
                    _ID_COLUMN[kind]: subject,
                    "entry_id": entry.id_hex,
                }
        return found

    def timelines(self, subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
        """Entries of `kind` about each subject: anchor order (block, leaf), then unanchored
        ones in bundle order; block and time are the chain's where it holds the root."""
        about = self._positions.get(kind, {})
        at = sorted(i for s in {s.lower() for s in subjects} for i in about.get(s, []))
        on_chain: list[tuple[int, int, dict[str, Any]]] = []
        pending: list[dict[str, Any]] = []
        for entry in (self.bundle.entries[i] for i in at):
            row = entry.signed().to_json_dict() | {
                "anchor_status": None,
                "block_number": None,
                "anchor_timestamp": None,
                "tx_hash": None,
                "leaf_index": None,
            }
            if entry.proof and entry.anchor:
                anchored = self.anchored_root(bytes.fromhex(entry.anchor.root[2:]))
                row |= {
                    "anchor_status": "submitted",
                    "block_number": anchored.block_number
                    if anchored
                    else entry.anchor.block_number,
                    "anchor_timestamp": anchored.timestamp if anchored else None,
                    "tx_hash": self._transactions.get(entry.anchor.root.lower()),
                    "leaf_index": entry.proof.leaf_index,
                }
                on_chain.append((row["block_number"] or 0, entry.proof.leaf_index, row))
            else:
                pending.append(row)
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for row in [r for *_, r in sorted(on_chain, key=lambda t: t[:2])] + pending:
            by_subject.setdefault(row["subject"], []).append(row)
        return by_subject

    @functools.cached_property
    def _positions(self) -> dict[str, dict[str, list[int]]]:
        """Where each kind's entries about each subject sit in the bundle: verification
        reads timelines a hundred facilities at a time, and a scan of every entry for each
        was a second of a 20,000-entry bundle."""
        positions: dict[str, dict[str, list[int]]] = {}
        for i, entry in enumerate(self.bundle.entries):
            positions.setdefault(entry.kind, {}).setdefault(to_hex(entry.subject), []).append(i)
        return positions

    def supplies(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The bundle's supply links by supplier."""
        wanted = {f.lower() for f in facility_ids}
        found: dict[str, list[dict[str, Any]]] = {}
        for entry in self.bundle.entries:
            if entry.kind == "supply_link" and entry.body["supplier"] in wanted:
                found.setdefault(entry.body["supplier"], []).append(
                    {**entry.fields(), "entry_id": entry.id_hex}
                )
        return found

    def entries(self, entry_ids: Sequence[str]) -> dict[str, SignedEntry]:
        """The bundle's signed entries."""
        found: dict[str, SignedEntry] = {}
        for entry_id in entry_ids:
            key = entry_id.lower()
            if key not in self._entries:
                raise InputError(f"bundle: entry {entry_id} is referred to but not included")
            if key not in self._signed:
                self._signed[key] = self._entries[key].signed()
            found[key] = self._signed[key]
        return found

    def carried(self) -> list[str]:
        """Every entry but the revocations, which are judged (and ignored) on their own."""
        return [e.id_hex for e in self.bundle.entries if e.kind != "revocation"]

    def holds(self, entry_ids: Iterable[str]) -> set[str]:
        """Which entries the bundle holds."""
        return {i.lower() for i in entry_ids if i.lower() in self._entries}

    def proofs(self, entry_ids: Iterable[str]) -> dict[str, StoredProof]:
        """The proofs the bundle carries."""
        found: dict[str, StoredProof] = {}
        for entry_id in entry_ids:
            entry = self._entries.get(entry_id.lower())
            if entry is None or entry.proof is None or entry.anchor is None:
                continue
            found[entry.id_hex] = StoredProof(
                entry.proof.inclusion(entry.anchor.root),
                self._transactions.get(entry.anchor.root.lower()),
            )
        return found

    def revocations(self, entry_ids: Iterable[str]) -> Revocations:
        """The bundle's revocations of `entry_ids`, judged."""
        found = {
            target: self._targets[target]
            for target in dict.fromkeys(i.lower() for i in entry_ids)
            if target in self._targets
        }
        if not found:
            return Revocations()
        ids = [*found, *(r for rs in found.values() for r in rs)]
        facts = RevocationFacts(
            domain=self.domain,
            entries={i: self._entries[i].signed() for i in ids if i in self._entries},
            proofs={i: p.proof for i, p in self.proofs(ids).items()},
            anchored_root=self.anchored_root,
            held_admin=lambda account, block: self._has_role("ADMIN", account, block),
        )
        return judge_revocations(found, facts)

    def walk_upstream(self, batch_id: str, *, on: str) -> list[dict[str, Any]]:
        """The walk over the bundle's transformations and supply links; an edge is cut only
        by a revocation that counts."""
        edges: list[Edge] = []
        made: dict[str, list[str]] = {}
        for entry in self.bundle.entries:
            body = entry.body  # as its kind reads it (`BundleEntry`), but for defaults
            if entry.kind == "transformation":
                made.setdefault(body["output"], []).append(entry.id_hex)
                edges += [Edge(body["output"], i, "batch", entry.id_hex) for i in body["inputs"]]
            elif entry.kind == "supply_link":
                edges.append(
                    Edge(
                        body["buyer"],
                        body["supplier"],
                        "facility",
                        entry.id_hex,
                        body["valid_from"],
                        body.get("valid_to"),
                    )
                )
        cut = self.revocations(e.via for e in edges).counted
        batches = self.lookup("batch", self._subjects("batch"))

        def hop(batch: str) -> str | None:
            if any(t not in cut for t in made.get(batch, [])):
                return batch
            found = batches.get(batch)
            return str(found["facility"]) if found else None

        return walk_upstream(batch_id, on=on, edges=[e for e in edges if e.via not in cut], hop=hop)

    def _subjects(self, kind: str) -> list[str]:
        return [to_hex(e.subject) for e in self.bundle.entries if e.kind == kind]

    # -- the chain -------------------------------------------------------------

    @functools.cache  # noqa: B019 - one source serves one verification
    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """What the contract holds for `root`; read once, as the mirror's source does."""
        return anchored_root_on(self._chain, root)

    def _anchoring_transactions(self) -> dict[str, str | None]:
        """The transaction that anchored each root the bundle's entries claim, as the chain
        logs it (None where the chain holds no such root): the transaction a bundle names
        is its own claim, and a report shows only what the chain says."""
        found: dict[str, str | None] = {}
        for root in {e.anchor.root.lower() for e in self.bundle.entries if e.anchor is not None}:
            anchored = self.anchored_root(bytes.fromhex(root[2:]))
            event = (
                self._chain.anchored_event(anchored.root, anchored.block_number)
                if anchored
                else None
            )
            found[root] = to_hex(event.tx_hash) if event else None
        return found

    def has_role(self, role: str, account: str, block: int) -> bool:
        """Whether `account` held `role` at `block`."""
        return self._has_role(role, account, block)

    @functools.cache  # noqa: B019 - one source serves one verification
    def _has_role(self, role: str, account: str, block: int | None) -> bool:
        return self._chain.has_role(role, account, block)

    def role_history(self) -> list[RoleEvent]:
        """Role events from the bundle's deploy block on."""
        return self._chain.role_events(self.chain.deploy_block, self._chain.latest_block())

    def index_events(self, subjects: Iterable[bytes]) -> list[IndexEvent]:
        """`Indexed` events from the bundle's deploy block on."""
        return self._chain.index_events(subjects, self.chain.deploy_block)

    def runtime_code_matches(self) -> bool:
        """Whether the bundle's contract runs the shipped code."""
        return self._chain.runtime_code_matches()

    def chain_checks(self) -> list[CheckResult]:
        """The bundle's deploy block, checked: the contract's code exists at that block and
        not at the one before. A later block would hide role grants and, worse, the index
        events of entries left out; an earlier one is refused too, as a claim that is false."""
        block = self.chain.deploy_block
        address = self._chain.contract_address
        assert address is not None  # attach() set it
        code = functools.partial(self._chain.w3.eth.get_code, address)
        head = self._chain.latest_block()
        # A block the chain has yet to make holds no code, and a node refuses to be asked.
        at = block <= head and bool(code(block_identifier=block))
        before = 0 < block <= head + 1 and bool(code(block_identifier=block - 1))
        if at and not before:
            return [
                CheckResult(
                    "deploy_block",
                    Outcome.PASS,
                    f"the contract at {address} was deployed in block {block}, as the bundle says",
                )
            ]
        if before:
            where = "already existed before"
        elif block <= head:
            where = "did not exist yet at"
        else:
            where = f"exists on a chain whose newest block, {head}, comes before"
        return [
            CheckResult(
                "deploy_block",
                Outcome.FAIL,
                f"the bundle says the contract at {address} was deployed in block {block}, but "
                f"it {where} that block; role grants and the completeness index are read from "
                "the deploy block, so the bundle's claim cannot be relied on",
            )
        ]
