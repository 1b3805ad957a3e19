"""The facade: record, anchor, sync and query one workspace's ledger.

The CLI is a thin layer over this class; so is any script a brand writes.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import string
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from labourledger import anchoring, kinds
from labourledger.anchoring import AnchorResult
from labourledger.audits import anchor_view, finding_histories
from labourledger.authority import (
    RevocationRefused,
    issue_refusal,
    may_update_grievance,
    revocation_refusal,
    speaks_for_facility,
)
from labourledger.bundle import Bundle, BundleEntry
from labourledger.chain import LedgerChain, open_embedded, open_rpc
from labourledger.chain.ledger_contract import ROLES, RoleEvent
from labourledger.envelope import (
    Domain,
    ExternalSigner,
    HashSigner,
    Kind,
    SignatureRequested,
    SignedEntry,
    sign_entry,
)
from labourledger.errors import ChainError, InputError
from labourledger.exchange import (
    entry_from_file,
    read_entry_file,
    shape_problems,
    write_entry_file,
)
from labourledger.grievances import counts_of
from labourledger.identifiers import facility_id_from_os_id
from labourledger.kinds import EvidenceRef, evidence_ref
from labourledger.mirror import Mirror
from labourledger.mirror.store import ENTRY_FIELDS, IN_MEMORY, proof_status
from labourledger.progress import Progress
from labourledger.redaction import redact_url
from labourledger.revocations import RevocationFacts, Revocations, judge_revocations
from labourledger.suppliers import RowError, read_facility_csv
from labourledger.verify.batch import collect_evidence, verify_batch
from labourledger.verify.integrity import (
    AnchoredRoot,
    ContentHashMatches,
    EntryCheck,
    EntryIdMatches,
    IncludedInAnchor,
    InclusionProof,
    SignatureMatchesIssuer,
    SignedBeforeAnchor,
)
from labourledger.verify.policy import Policy, audit_status_on, production_dates
from labourledger.verify.results import CheckResult
from labourledger.workspace import EMBEDDED, ChainConfig, Config, Workspace

__all__ = [
    "AnchorResult",
    "EntriesRefused",
    "FacilityImport",
    "ImportResult",
    "Ledger",
    "RowsInvalid",
    "SyncResult",
]


log = logging.getLogger(__name__)

#: Entries stored per round of statements (and per progress-bar step) within one transaction.
STORE_CHUNK = 250
#: New entries in one store after which the mirror's planner statistics are refreshed.
ANALYZE_AFTER = 5_000
#: Blocks re-checked on every sync for a changed hash (a reorg).
REORG_WINDOW = 64


@dataclass(frozen=True)
class FacilityImport:
    """Facilities recorded from a CSV, and the rows skipped as invalid."""

    entries: list[SignedEntry]
    errors: list[RowError]


class RowsInvalid(InputError):
    """A CSV with invalid rows; nothing from it was stored."""

    def __init__(self, path: Path, errors: Sequence[RowError]) -> None:
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(
            f"{path}: {len(errors)} invalid row(s), nothing imported "
            f"(fix them, or pass --skip-invalid):\n{lines}"
        )
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportResult:
    """Entries read from a signed entry file: all verified; `new` of them were not stored yet."""

    entries: list[SignedEntry]
    new: int
    #: Entries stored that `verify` will fail until a brand names their issuer as an
    #: operator of the facility they concern, each with what to run.
    warnings: list[str] = field(default_factory=list)


class EntriesRefused(InputError):
    """A signed entry file that failed verification; nothing from it was stored."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: refused, nothing imported:\n{lines}")
        self.problems = list(problems)


@dataclass(frozen=True)
class SyncResult:
    """What one `sync` read from the chain."""

    from_block: int
    to_block: int
    anchors: int
    role_events: int
    finalised: int
    orphaned: int


_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class Ledger:
    """One workspace: its keys, mirror and chain, and everything done with them."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.mirror = Mirror(workspace.mirror_url)
        self._roots: dict[bytes, AnchoredRoot | None] = {}
        self._staged: list[Path] | None = None
        self._admins: dict[tuple[str, int], bool] = {}

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Ledger:
        """Open an initialised workspace."""
        return cls(Workspace.open(root))

    @classmethod
    def init(
        cls,
        root: Path,
        *,
        chain: str = EMBEDDED,
        contract: str | None = None,
        db: str | None = None,
        confirmations: int | None = None,
        admin_passphrase: str | None = None,
    ) -> Ledger:
        """Create a workspace, migrate its mirror and connect its chain.

        On the embedded chain this also creates the `admin` key (encrypted with
        `admin_passphrase`), funds it from a dev account and deploys the
        contract. On a URL chain it records the chain and, with `contract`,
        attaches to an existing deployment.
        """
        if confirmations is not None and confirmations < 0:
            raise InputError("--confirmations: must be 0 or more")
        chain_config = ChainConfig(
            url=chain,
            confirmations=confirmations
            if confirmations is not None
            else (0 if chain == EMBEDDED else 12),
        )
        if chain != EMBEDDED and not chain.startswith(("http://", "https://")):
            raise InputError(
                f"--chain: expected 'embedded' or an http(s) URL, got {redact_url(chain)!r}"
            )
        if chain == EMBEDDED and admin_passphrase is None:
            raise InputError("the embedded chain needs a passphrase for the admin key")
        # Reach the chain and database before writing anything.
        Mirror(db).check() if db else None
        connected = (
            open_embedded(root.resolve() / "chain" / "embedded.sqlite")
            if (chain == EMBEDDED)
            else open_rpc(chain)
        )
        chain_config.chain_id = connected.chain_id
        if contract:
            connected.attach(contract)
            chain_config.contract = connected.contract_address or contract
        workspace = Workspace.create(root, Config(chain=chain_config, mirror_url=db or ""))
        ledger = cls(workspace)
        ledger.__dict__["chain"] = connected
        ledger.mirror.upgrade()
        if chain == EMBEDDED and not contract:
            assert admin_passphrase is not None
            info = workspace.keys.new("admin", admin_passphrase)
            connected.fund(info.address, 100 * 10**18)
            ledger.deploy(workspace.keys.unlock("admin", admin_passphrase))
        return ledger

    @cached_property
    def chain(self) -> LedgerChain:
        """The chain, connected on first use (signing alone never needs it)."""
        cfg = self.workspace.config.chain
        connected = (
            open_embedded(self.workspace.chain_file) if cfg.is_embedded else open_rpc(cfg.url)
        )
        if cfg.chain_id and connected.chain_id != cfg.chain_id:
            raise InputError(
                f"chain {connected.label} has chain id {connected.chain_id}, but this workspace "
                f"was set up for {cfg.chain_id}"
            )
        if cfg.contract:
            connected.attach(cfg.contract)
        return connected

    @property
    def config(self) -> Config:
        """The workspace's config."""
        return self.workspace.config

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain every entry of this workspace is signed for."""
        cfg = self.config.chain
        if not cfg.contract:
            raise InputError(
                "no contract configured: run `labourledger contracts deploy --key admin` "
                "or `labourledger init --contract ADDRESS`"
            )
        return Domain(chain_id=cfg.chain_id, verifying_contract=cfg.contract)

    def deploy(self, admin: LocalAccount) -> str:
        """Deploy the LabourLedger contract with `admin` as DEFAULT_ADMIN and remember it."""
        result = self.chain.deploy(admin)
        cfg = self.config.chain
        assert self.chain.contract_address is not None
        cfg.contract = self.chain.contract_address
        cfg.deploy_block = result.block_number
        self.workspace.save()
        return cfg.contract

    # -- recording ---------------------------------------------------------

    def sign(
        self,
        kind: Kind,
        body: Mapping[str, Any],
        signer: HashSigner,
        *,
        issued_at: int | None = None,
    ) -> SignedEntry:
        """Validate a body against its kind and sign it; nothing is stored."""
        model = kinds.parse_body(kind, body)
        canonical = model.model_dump(mode="json", exclude_none=True)
        # A key held here signs through libsecp256k1 directly, much faster than eth_keys.
        local = isinstance(signer, LocalAccount)
        return sign_entry(
            private_key=signer.key if isinstance(signer, LocalAccount) else None,
            signer=None if local else signer,
            domain=self.domain,
            kind=kind,
            subject=kinds.subject_for(kind, model, issuer=signer.address),
            refs=kinds.refs_for(kind, model),
            body=canonical,
            issued_at=int(time.time()) if issued_at is None else issued_at,
            schema_version=kinds.SCHEMA_VERSION,
        )

    def record(
        self,
        kind: Kind,
        body: Mapping[str, Any],
        signer: HashSigner,
        *,
        issued_at: int | None = None,
    ) -> SignedEntry:
        """Validate, sign and store one entry as pending, in one transaction."""
        return self.record_many(kind, [body], signer, issued_at=issued_at)[0]

    def record_many(
        self,
        kind: Kind,
        bodies: Sequence[Mapping[str, Any]],
        signer: HashSigner,
        *,
        issued_at: int | None = None,
        progress: Progress | None = None,
    ) -> list[SignedEntry]:
        """Sign and store many bodies of one kind, all or nothing.

        Every body is validated before anything is signed, so a bad row is
        reported without touching the mirror.
        """
        if isinstance(signer, ExternalSigner) and len(bodies) > 1:
            raise InputError(
                f"an external signer signs one entry at a time; these are {len(bodies)}: "
                "sign them with a key (--key NAME)"
            )
        entries = [self.sign(kind, body, signer, issued_at=issued_at) for body in bodies]
        if kind == "revocation":
            self._check_revocations(entries, signer.address)
        self.store(entries, progress=progress)
        return entries

    def _check_revocations(self, entries: Sequence[SignedEntry], signer: str) -> None:
        """Refuse, before anything is stored, a revocation its signer may not issue."""
        targets = [str(e.body["target"]) for e in entries]
        held = self.mirror.get_entries(targets)
        for target in targets:
            issuer = held[target]["issuer"] if target in held else None
            refusal = revocation_refusal(
                signer, target, issuer, lambda: self.chain.has_role("ADMIN", signer)
            )
            if refusal:
                raise RevocationRefused(f"revocation: {refusal}; nothing recorded")

    def store(
        self,
        entries: Sequence[SignedEntry],
        *,
        source: str = "local",
        progress: Progress | None = None,
        proofs: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """Store signed entries as pending in one transaction, with the `proofs` (views with
        entry_id, proof and anchor, already checked) of those anchored elsewhere; returns
        how many entries were new."""
        new = 0
        with self.mirror.transaction() as session:
            for start in range(0, len(entries), STORE_CHUNK):
                chunk = entries[start : start + STORE_CHUNK]
                new += self.mirror.add_entries(
                    session, [self._stored(e) for e in chunk], source=source
                )
                if progress:
                    progress(start + len(chunk), len(entries))
            self._add_proofs(session, proofs)
        if new >= ANALYZE_AFTER:
            self.mirror.analyze()
        return new

    def _add_proofs(self, session: Any, views: Iterable[Mapping[str, Any]]) -> None:
        """Store the proofs that come with entries anchored elsewhere (a bundle, an entry
        file), recording their anchor when the mirror does not know it yet."""
        cfg = self.config.chain
        carried = [v for v in views if v.get("anchor") and v.get("proof")]
        known = self.mirror.proofs_for(v["entry_id"] for v in carried)
        for view in carried:
            anchor, proof = view["anchor"], view["proof"]
            if view["entry_id"] in known:
                continue
            if self.mirror.get_anchor(anchor["root"]) is None:
                # Block and time come from the contract, not the carrier: the policy dates
                # closures by them. A root the chain lacks keeps the claim and fails verify.
                on_chain = self.chain.anchor_of(bytes.fromhex(anchor["root"][2:]))
                self.mirror.record_chain_anchor(
                    session,
                    root=anchor["root"],
                    size=proof["tree_size"],
                    status="submitted",
                    chain_id=cfg.chain_id,
                    contract=cfg.contract,
                    tx_hash=anchor["tx_hash"],
                    block_number=on_chain.block_number if on_chain else anchor["block_number"],
                    timestamp=on_chain.timestamp if on_chain else None,
                )
            self.mirror.add_proof(
                session, view["entry_id"], anchor["root"], proof["leaf_index"], proof["path"]
            )

    def _stored(self, entry: SignedEntry) -> dict[str, Any]:
        data = entry.to_json_dict()
        data.pop("issued_at_iso")
        data["chain_id"] = self.config.chain.chain_id
        data["contract"] = self.config.chain.contract
        return data

    def import_facilities(
        self,
        path: Path,
        signer: HashSigner,
        *,
        skip_invalid: bool = False,
        progress: Progress | None = None,
    ) -> FacilityImport:
        """Register every facility of an Open Supply Hub CSV, in one transaction.

        Any invalid row refuses the whole file (RowsInvalid, listing each row)
        unless `skip_invalid`, in which case the valid rows are stored and the
        invalid ones returned.
        """
        rows = read_facility_csv(path)
        if rows.errors and not skip_invalid:
            raise RowsInvalid(path, rows.errors)
        entries = self.record_many("facility", rows.bodies, signer, progress=progress)
        return FacilityImport(entries=entries, errors=rows.errors)

    def facility_id(self, ref: str, *, registered: bool = False) -> str:
        """A facility id from its Open Supply Hub id or its 0x id. With `registered`, a 0x id
        must be one of a facility registered here, since nothing catches a typo in it (an
        OS id's check character does, so it may name a facility registered elsewhere)."""
        if not ref.startswith("0x"):
            return _hex(facility_id_from_os_id(ref))
        if len(ref) != 66 or not all(c in string.hexdigits for c in ref[2:]):
            raise InputError(f"facility {ref}: expected a 0x id of 64 hex digits or an OS id")
        if registered and self.mirror.facility(ref.lower()) is None:
            raise InputError(
                f"facility {ref}: no facility with this id is registered here; register it "
                "with `labourledger supplier add`, import its registration, or give its OS id"
            )
        return ref.lower()

    def facilities(
        self,
        *,
        country: str | None = None,
        tier: int | None = None,
        facility_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """Registered facilities, filtered, each with the revocations of its registration."""
        rows = self.mirror.facilities(country=country, tier=tier, facility_type=facility_type)
        revoked = self.revoked(r["entry_id"] for r in rows)
        return [{**r, "revoked_by": revoked.get(r["entry_id"], [])} for r in rows]

    def facility(self, ref: str) -> dict[str, Any]:
        """A facility: its registration, every entry about it with status, and its links."""
        facility_id = self.facility_id(ref)
        row = self.mirror.facility(facility_id)
        if row is None:
            entry = self.mirror.get_entry(facility_id)
            if entry is not None:
                raise InputError(f"{ref}: the id of a {entry['kind']} entry, not of a facility")
            raise InputError(
                f"facility {ref}: not registered here; add it with `labourledger supplier add`"
            )
        entries = [
            {**view, "body": None}
            for view in self.describe_many(
                [e["entry_id"] for e in self.mirror.entries_about(facility_id)]
            )
        ]
        return {
            "facility_id": facility_id,
            "facility": row,
            "entries": entries,
            "links": self.mirror.links_of(facility_id),
            "audits": self.audits_of([facility_id]).get(facility_id, []),
            "attestations": self.attestations(facility_id),
        }

    def operators(self, ref: str) -> list[str]:
        """The SUPPLIER keys a facility's registrations now name as speaking for it
        (pending registrations included; `verify` counts only anchored ones)."""
        return sorted(kinds.operators_named(self._live_registrations(self.facility_id(ref))))

    def _live_registrations(self, facility_id: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.mirror.timeline(facility_id, "facility")
        revoked = self.revoked(r["entry_id"] for r in rows)
        return [(r["issuer"], r["body"]) for r in rows if r["entry_id"] not in revoked]

    def change_operators(
        self,
        ref: str,
        signer: HashSigner,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
    ) -> SignedEntry:
        """Register a facility again with operators added or removed: the SUPPLIER keys
        whose self-declarations and transformations count for it. Once anchored, the new
        registration replaces the signer's earlier list; other brands' lists stay."""
        live = self._live_registrations(self.facility_id(ref))
        own = [body for issuer, body in live if issuer == signer.address]
        shared = [body for _, body in live if body.get("os_id")]
        if not (own or shared):
            raise InputError(
                f"facility {ref}: nothing to amend: {signer.address} has not registered it and "
                "it has no OS id to share another brand's registration; run "
                "`labourledger supplier add` first"
            )
        body = dict((own or shared)[-1])
        # The signer's list starts from its own last one, never from another brand's.
        named = own[-1].get("operators", []) if own else []
        named = [*named, *(kinds.checksum_address(x, "--add") for x in add)]
        gone = {kinds.checksum_address(x, "--remove") for x in remove}
        body["operators"] = [a for a in dict.fromkeys(named) if a not in gone]
        return self.record("facility", body, signer)

    # -- evidence and entry files -------------------------------------------

    def store_evidence(self, path: Path) -> EvidenceRef:
        """Keep a copy of an evidence file in the workspace, named by its salted hash,
        and return the reference that goes into a body."""
        ref = evidence_ref(path)
        self.workspace.evidence_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        stored = self.workspace.evidence_dir / ref.hash[2:]
        stored.write_bytes(path.read_bytes())
        if self._staged is not None:
            self._staged.append(stored)
        return ref

    @contextmanager
    def evidence_staged(self) -> Iterator[None]:
        """Evidence stored within the block is deleted again if the block fails, so a
        command that fails after storing its evidence leaves nothing behind."""
        self._staged = []
        try:
            yield
        except SignatureRequested:
            raise  # the entry is only waiting for a wallet: its evidence stays
        except BaseException:
            for stored in self._staged:
                stored.unlink(missing_ok=True)
            raise
        finally:
            self._staged = None

    def write_entries(
        self, path: Path, entries: Sequence[SignedEntry], *, with_proofs: bool = False
    ) -> Path:
        """Write signed entries to a file another party can `import`; `with_proofs` adds the
        proof and anchor of each one anchored here, so the importer stores it as anchored."""
        proofs: dict[str, dict[str, Any]] = {}
        if with_proofs:
            ids = [_hex(e.entry_id) for e in entries]
            loaded = {_hex(e.entry_id): e for e in entries}
            for view in self.describe_many(ids, loaded=loaded):
                if view["proof"]:
                    proofs[view["entry_id"]] = {"proof": view["proof"], "anchor": view["anchor"]}
        return write_entry_file(path, self.domain, entries, proofs)

    def import_file(self, path: Path) -> ImportResult:
        """Verify every entry of a signed entry file against this workspace's chain, then
        store them all as pending, or refuse the file (EntriesRefused) storing nothing."""
        file = read_entry_file(path)
        domain = self.domain
        if (file.chain_id, file.contract.lower()) != (
            domain.chain_id,
            domain.verifying_contract.lower(),
        ):
            raise EntriesRefused(
                path,
                [
                    f"signed for chain {file.chain_id}, contract {file.contract}; this workspace "
                    f"uses chain {domain.chain_id}, contract {domain.verifying_contract}"
                ],
            )
        entries: list[SignedEntry] = []
        problems: list[str] = []
        carried: list[dict[str, Any]] = []
        for number, raw in enumerate(file.entries, 1):
            try:
                entry = entry_from_file(raw)
            except InputError as exc:
                problems.append(f"entry {number}: malformed ({exc})")
                continue
            reasons = shape_problems(entry, domain) or self._eligibility(entry, entries)
            if not reasons and raw.get("proof") and raw.get("anchor"):
                reasons = self._proof_problems(entry, raw["proof"], raw["anchor"])
                carried.append(raw)
            label = f"entry {number} ({entry.kind} {_hex(entry.entry_id)})"
            problems += [f"{label}: {reason}" for reason in reasons]
            entries.append(entry)
        if problems:
            raise EntriesRefused(path, problems)
        new = self.store(entries, source="import", proofs=carried)
        return ImportResult(entries, new, self._not_operators(entries))

    def _proof_problems(
        self, entry: SignedEntry, proof: Mapping[str, Any], anchor: Mapping[str, Any]
    ) -> list[str]:
        """Why a proof that came with an entry does not show it anchored on this chain."""
        try:
            # The transaction hash is stored as carried: it must at least be one.
            if not _HASH.fullmatch(anchor["tx_hash"]) or not _HASH.fullmatch(anchor["root"]):
                return ["its anchor is malformed (root and tx_hash: 0x and 64 hex digits)"]
            checked = InclusionProof(
                root=bytes.fromhex(anchor["root"][2:]),
                leaf_index=int(proof["leaf_index"]),
                tree_size=int(proof["tree_size"]),
                path=[bytes.fromhex(h[2:]) for h in proof["path"]],
            )
        except (KeyError, TypeError, ValueError):
            return ["its proof is malformed"]
        result = IncludedInAnchor(checked, self.anchored_root(checked.root), 0)(entry)
        return [] if result.passed else [f"its proof does not check: {result.reason}"]

    def _not_operators(self, entries: Sequence[SignedEntry]) -> list[str]:
        """Supplier-signed entries for a facility whose registrations do not name the signer."""
        warnings = []
        operators = functools.cache(self.operators)
        for number, entry in enumerate(entries, 1):
            held_brand = functools.partial(self.chain.has_role, "BRAND", entry.issuer)
            facility = str(entry.body.get("facility"))
            if speaks_for_facility(entry.kind, entry.body, held_brand) and (
                entry.issuer not in operators(facility)
            ):
                warnings.append(
                    f"entry {number} ({entry.kind} {_hex(entry.entry_id)}): {entry.issuer} is "
                    f"not an operator of facility {facility}, so verify will fail it; a brand "
                    f"can run `labourledger supplier operators {facility} --add {entry.issuer}`"
                )
        return warnings

    def _eligibility(self, entry: SignedEntry, earlier: Sequence[SignedEntry]) -> list[str]:
        """Why the issuer may not issue this entry, judged by the contract's roles now."""
        if entry.kind == "revocation":
            target_id = str(entry.body["target"])
            issuer = self._issuer_of(target_id, earlier)
            refusal = revocation_refusal(
                entry.issuer,
                target_id,
                issuer,
                lambda: self.chain.has_role("ADMIN", entry.issuer),
            )
            if issuer is None:
                refusal = f"{refusal}: import it first"
            return [refusal] if refusal else []
        if entry.kind == "grievance_update":
            grievance = entry.body["grievance"]
            channel = self._issuer_of(grievance, earlier)
            if channel is None:
                return [f"updates {grievance}, which this workspace does not hold: import it first"]
            auditor = functools.partial(self.chain.has_role, "AUDITOR", entry.issuer)
            if not may_update_grievance(entry.issuer, channel, auditor):
                return [
                    f"only the channel that recorded it ({channel}) or an AUDITOR may update it"
                ]
        refusal = issue_refusal(
            entry.kind,
            entry.body,
            entry.issuer,
            lambda role: self.chain.has_role(role, entry.issuer),
        )
        return [refusal] if refusal else []

    def _issuer_of(self, entry_id: str, earlier: Sequence[SignedEntry]) -> str | None:
        """Who issued an entry held here, or earlier in the file being imported."""
        for e in earlier:
            if _hex(e.entry_id) == entry_id:
                return e.issuer
        row = self.mirror.get_entry(entry_id)
        return str(row["issuer"]) if row else None

    def revoked(self, entry_ids: Iterable[str]) -> dict[str, list[str]]:
        """Which of `entry_ids` were revoked, and by which revocation entries (only those
        that count: see `revocations`)."""
        return self.revocations(entry_ids).counted

    def revocations(self, entry_ids: Iterable[str]) -> Revocations:
        """The revocations of `entry_ids` held here, judged by `labourledger.authority`:
        those that count, and those ignored with the reason."""
        found = self.mirror.revocations(entry_ids)
        if not found:
            return Revocations()
        revocation_ids = [r for rs in found.values() for r in rs]
        rows = self.mirror.get_entries([*revocation_ids, *found])
        facts = RevocationFacts(
            domain=self.domain,
            entries={i: SignedEntry.model_validate(row) for i, row in rows.items()},
            proofs=self.stored_proofs(revocation_ids),
            anchored_root=self.anchored_root,
            held_admin=self._held_admin,
        )
        return judge_revocations(found, facts)

    def _held_admin(self, account: str, block: int | None) -> bool:
        if block is None:
            return self.chain.has_role("ADMIN", account)
        key = (account, block)
        if key not in self._admins:
            self._admins[key] = self.chain.has_role("ADMIN", account, block)
        return self._admins[key]

    # -- products, batches and trace ---------------------------------------

    def _resolve(self, ref: str, table: str, key: str, by: tuple[str, ...], what: str) -> str:
        """An id from a 0x id, or from a unique value of one of the `by` columns."""
        if ref.startswith("0x") and len(ref) == 66:
            return ref.lower()
        matches: set[str] = {
            str(row[key])
            for column in by
            for row in self.mirror.lookup(table, column, [ref]).values()
        }
        if len(matches) == 1:
            return matches.pop()
        if not matches:
            raise InputError(f"{what} {ref}: not found here; give its 0x id or add it first")
        raise InputError(f"{what} {ref}: matches {len(matches)} {what}s; give its 0x id")

    def product_id(self, ref: str) -> str:
        """A product id from its 0x id, GTIN or SKU."""
        return self._resolve(ref, "products", "product_id", ("gtin", "sku"), "product")

    def batch_id(self, ref: str) -> str:
        """A batch id from its 0x id or its lot (when only one batch has that lot)."""
        return self._resolve(ref, "batches", "batch_id", ("lot",), "batch")

    def trace(self, batch: str) -> dict[str, Any]:
        """The upstream graph of a batch: nodes (batches and facilities, with tier and
        audit status), edges to inputs and suppliers, and problems (cycles, gaps).
        Supply links count when valid on the batch's production date."""
        return self.trace_with_audits(batch)[0]

    def trace_with_audits(
        self, batch: str
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """`trace`, and the audits of its registered facilities as `audits_of` gives them,
        read once for callers that need both."""
        batch_id = self.batch_id(batch)
        root = self.mirror.lookup("batches", "batch_id", [batch_id]).get(batch_id)
        on = root["produced_at"] if root else time.strftime("%Y-%m-%d", time.gmtime())
        rows = self.mirror.walk_upstream(batch_id, on=on)
        batches = self.mirror.lookup(
            "batches", "batch_id", [r["id"] for r in rows if r["kind"] == "batch"]
        )
        facility_ids = [
            batches[r["id"]]["facility"] if r["id"] in batches else r["id"]
            for r in rows
            if r["kind"] == "facility" or r["id"] in batches
        ]
        facilities = self.mirror.lookup("facilities", "facility_id", facility_ids)
        nodes: dict[str, dict[str, Any]] = {}
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        problems: list[dict[str, Any]] = []
        for row in rows:
            if row["parent"] is not None:
                kind = "transformation" if row["kind"] == "batch" else "supply_link"
                edges.setdefault(
                    (row["parent"], row["id"]),
                    {"from": row["parent"], "to": row["id"], "via": row["via"], "kind": kind},
                )
            if row["cycle"]:
                problems.append(
                    {
                        "kind": "cycle",
                        "node": row["id"],
                        "reason": f"{row['kind']} {row['id']} is upstream of itself "
                        f"(via {row['via']}); not followed further",
                    }
                )
                continue
            if row["id"] not in nodes:
                nodes[row["id"]] = self._trace_node(row, batches, facilities)
        registered = [n["facility"] for n in nodes.values() if "facility_name" in n]
        audits = self.audits_of(registered)
        grievances = counts_of(self, registered)
        made = production_dates(list(nodes.values()), dt.date.fromisoformat(on))
        policy = self.policy()
        for node in nodes.values():
            if "facility_name" in node:
                node["audit_status"] = audit_status_on(
                    audits.get(node["facility"], []), made[node["facility"]], policy
                )
                node["grievances"] = grievances[node["facility"]].to_dict()
        parents = {e["from"] for e in edges.values()}
        for node in nodes.values():
            if node["kind"] == "batch" and node.get("lot") is None:
                problems.append(
                    {
                        "kind": "unknown_batch",
                        "node": node["id"],
                        "reason": f"batch {node['id']} is not registered here",
                    }
                )
            elif node["id"] not in parents and node.get("tier") != 4:
                problems.append(
                    {
                        "kind": "missing_link",
                        "node": node["id"],
                        "reason": f"{node.get('facility_name') or node['id']} "
                        f"(tier {node.get('tier', '?')}): nothing recorded upstream, "
                        "so the trace stops short of raw material",
                    }
                )
        graph = {
            "batch": batch_id,
            "nodes": list(nodes.values()),
            "edges": list(edges.values()),
            "problems": problems,
        }
        return graph, audits

    def _trace_node(
        self,
        row: Mapping[str, Any],
        batches: Mapping[str, Mapping[str, Any]],
        facilities: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        node: dict[str, Any] = {"id": row["id"], "kind": row["kind"], "depth": row["depth"]}
        facility_id = row["id"]
        if row["kind"] == "batch":
            found = batches.get(row["id"])
            if found is None:
                return node | {"lot": None}
            facility_id = found["facility"]
            node |= {
                "lot": found["lot"],
                "product": found["product"],
                "quantity": found["quantity"],
                "unit": found["unit"],
                "produced_at": found["produced_at"],
            }
        facility = facilities.get(facility_id)
        node["facility"] = facility_id
        if facility is not None:
            node |= {
                "facility_name": facility["name"],
                "country": facility["country"],
                "tier": facility["tier"],
                "os_id": facility["os_id"],
            }
        return node

    # -- verification and bundles -----------------------------------------

    def policy(self, **overrides: Any) -> Policy:
        """The workspace's policy, with any non-None `overrides` (flags of one run)."""
        cfg = self.config.policy
        values: dict[str, Any] = {
            "audit_validity_months": cfg.audit_validity_months,
            "fail_severities": tuple(cfg.fail_severities),
            "attention_severities": tuple(cfg.attention_severities),
            "high_risk_notice": tuple(cfg.high_risk_notice),
            "required_tier": cfg.required_tier,
            "missing_audit": cfg.missing_audit,
            "trusted_admins": tuple(cfg.trusted_admins),
            "look_ahead_months": cfg.look_ahead_months,
            # A relative path in config.toml is relative to the workspace.
            "goods_list": str(self.workspace.root / cfg.goods_list) if cfg.goods_list else "",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Policy(**values)

    def verify(
        self, batch: str, policy: Policy | None = None, *, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Verify a batch end to end; the report's `verdict` is PASS, ATTENTION or FAIL."""
        return verify_batch(self, batch, policy or self.policy(), progress=progress)

    def export_bundle(self, batch: str) -> Bundle:
        """Everything a verifier needs besides chain access: every entry the verdict depends
        on and every revocation of them that counts, with bodies, salts, signatures, proofs
        and anchors."""
        evidence = collect_evidence(self, batch)
        revocations = self.revoked(evidence.entry_ids)
        ids = evidence.entry_ids + [r for rs in revocations.values() for r in rs]
        cfg = self.config.chain
        return Bundle(
            chain_id=cfg.chain_id,
            contract=cfg.contract,
            deploy_block=cfg.deploy_block,
            batch=evidence.trace["batch"],
            entries=[BundleEntry.model_validate(view) for view in self.describe_many(ids)],
        )

    @classmethod
    def from_bundle(cls, bundle: Bundle, chain: LedgerChain) -> Ledger:
        """A ledger in memory (no workspace, no database file) holding just a bundle's
        entries and proofs, checked against `chain` (whose contract must be the bundle's)."""
        if chain.chain_id != bundle.chain_id:
            raise InputError(
                f"bundle: anchored on chain {bundle.chain_id}, but {chain.label} is chain "
                f"{chain.chain_id}; pass --chain with an RPC URL of that chain"
            )
        chain.attach(bundle.contract)
        config = Config(
            chain=ChainConfig(
                url=chain.label,
                chain_id=chain.chain_id,
                contract=bundle.contract,
                confirmations=0 if chain.is_embedded else 12,
                deploy_block=bundle.deploy_block,
            ),
            mirror_url=IN_MEMORY,
        )
        ledger = cls(Workspace(Path("bundle"), config))
        ledger.__dict__["chain"] = chain
        ledger.mirror.upgrade()
        entries = [
            {k: v for k, v in e.signed().to_json_dict().items() if k in ENTRY_FIELDS}
            | {"chain_id": chain.chain_id, "contract": bundle.contract}
            for e in bundle.entries
        ]
        carried = [
            {"entry_id": e.id_hex, "proof": e.proof.model_dump(), "anchor": e.anchor.model_dump()}
            for e in bundle.entries
            if e.proof and e.anchor
        ]
        with ledger.mirror.transaction() as session:
            ledger.mirror.add_entries(session, entries, source="bundle")
            ledger._add_proofs(session, carried)
        return ledger

    # -- audits and attestations ------------------------------------------

    def audit(self, audit_id: str) -> dict[str, Any]:
        """An audit: its entry, anchor, and each finding with its history and current status."""
        entry = self.entry(audit_id)
        if entry.kind != "audit":
            raise InputError(f"entry {audit_id}: a {entry.kind}, not an audit")
        facility = _hex(entry.subject)
        return next(
            view
            for view in self.audits_of([facility])[facility]
            if view["entry_id"] == _hex(entry.entry_id)
        )

    def audits_of(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Each facility's audits as `audit` shows them, by end date; a few queries whatever
        the number of facilities. Facilities without audits are absent."""
        by_facility = self.mirror.timelines(facility_ids, "audit")
        audit_ids = [r["entry_id"] for rows in by_facility.values() for r in rows]
        updates = self.mirror.timelines(audit_ids, "finding_update")
        revoked = self.revoked(
            [*audit_ids, *(u["entry_id"] for rows in updates.values() for u in rows)]
        )

        def view(row: Mapping[str, Any]) -> dict[str, Any]:
            entry_id, body = row["entry_id"], row["body"]
            return {
                "entry_id": entry_id,
                "issuer": row["issuer"],
                "issued_at": row["issued_at"],
                "facility": body["facility"],
                "body": {k: v for k, v in body.items() if k != "findings"},
                "anchor": anchor_view(row),
                "revoked_by": revoked.get(entry_id, []),
                "findings": finding_histories(row, updates.get(entry_id, []), revoked),
            }

        return {
            facility: sorted(map(view, rows), key=lambda v: (v["body"]["end_date"], v["entry_id"]))
            for facility, rows in by_facility.items()
        }

    def audits(
        self,
        *,
        facility: str | None = None,
        status: str | None = None,
        severity: str | None = None,
        indicator: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Audits matching every filter given; status, severity and indicator select audits
        with at least one finding that has all of them (status = the current status)."""
        facility_id = self.facility_id(facility) if facility else None
        ids = self.mirror.audits(facility=facility_id, since=since, until=until)
        of = {r["facility"] for r in self.mirror.lookup("audits", "entry_id", ids).values()}
        by_id = {v["entry_id"]: v for views in self.audits_of(of).values() for v in views}
        views = [by_id[i] for i in ids]
        if status is None and severity is None and indicator is None:
            return views

        def wanted(finding: Mapping[str, Any]) -> bool:
            return (
                (status is None or finding["status"] == status)
                and (severity is None or finding["severity"] == severity)
                and (indicator is None or indicator in finding.get("ilo_indicators", []))
            )

        return [v for v in views if any(wanted(f) for f in v["findings"])]

    def attestations(self, facility_id: str, *, on: str | None = None) -> list[dict[str, Any]]:
        """A facility's attestations; `in_force` when valid on `on` (ISO date, default today),
        not revoked, and anchored or pending."""
        return self.attestations_of([facility_id], on=on).get(facility_id.lower(), [])

    def attestations_of(
        self, facility_ids: Iterable[str], *, on: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """`attestations` of many facilities in a few queries; those with none are absent."""
        day = on or time.strftime("%Y-%m-%d", time.gmtime())
        by_facility = self.mirror.timelines(facility_ids, "attestation")
        revoked = self.revoked(r["entry_id"] for rows in by_facility.values() for r in rows)

        def view(row: Mapping[str, Any]) -> dict[str, Any]:
            body = row["body"]
            return {
                "entry_id": row["entry_id"],
                "issuer": row["issuer"],
                "claim": body["claim"],
                "valid_from": body["valid_from"],
                "valid_until": body["valid_until"],
                "anchor": anchor_view(row),
                "revoked_by": revoked.get(row["entry_id"], []),
                "in_force": body["valid_from"] <= day <= body["valid_until"]
                and row["entry_id"] not in revoked,
            }

        return {facility: list(map(view, rows)) for facility, rows in by_facility.items()}

    # -- health ------------------------------------------------------------

    def doctor(self, *, quick: bool = False, progress: Progress | None = None) -> list[CheckResult]:
        """What state the workspace is in, re-verified from scratch (see `health`)."""
        from labourledger.health import doctor

        return doctor(self, quick=quick, progress=progress)

    # -- roles -------------------------------------------------------------

    def grant_role(self, admin: LocalAccount, role: str, account: str) -> str:
        """Grant BRAND, AUDITOR, SUPPLIER or ADMIN; returns the tx hash."""
        with _sender_may("grant", role, admin):
            return _hex(self.chain.grant_role(admin, _role(role), account).tx_hash)

    def revoke_role(self, admin: LocalAccount, role: str, account: str) -> str:
        """Revoke a role; returns the tx hash."""
        with _sender_may("revoke", role, admin):
            return _hex(self.chain.revoke_role(admin, _role(role), account).tx_hash)

    def role_members(self) -> dict[str, list[str]]:
        """Current members of each role, replayed from the contract's role events."""
        members: dict[str, list[str]] = {role: [] for role in ROLES}
        start = self.config.chain.deploy_block
        for event in self.chain.role_events(start, self.chain.latest_block()):
            holders = members[event.role]
            if event.granted and event.account not in holders:
                holders.append(event.account)
            elif not event.granted and event.account in holders:
                holders.remove(event.account)
        return members

    def role_history(self) -> list[RoleEvent]:
        """Every role grant and revocation since the contract was deployed, oldest first."""
        return self.chain.role_events(self.config.chain.deploy_block, self.chain.latest_block())

    def roles_of(self, accounts: Iterable[str]) -> dict[str, list[str]]:
        """Roles each address holds now, read from the contract."""
        return {a: [r for r in ROLES if self.chain.has_role(r, a)] for a in accounts}

    # -- anchoring ---------------------------------------------------------

    def anchor(
        self, sender: LocalAccount, *, progress: Progress | None = None
    ) -> list[AnchorResult]:
        """Anchor every pending entry as one Merkle batch; see `labourledger.anchoring`."""
        return anchoring.anchor(self, sender, progress)

    def _status_at(self, block_number: int) -> str:
        deep_enough = self.chain.latest_block() - block_number >= self.config.chain.confirmations
        return "final" if deep_enough else "submitted"

    # -- queries -----------------------------------------------------------

    def entry(self, entry_id: str) -> SignedEntry:
        """A stored entry (InputError naming the id when it is unknown)."""
        return self.entries([entry_id])[entry_id.lower()]

    def entries(self, entry_ids: Sequence[str]) -> dict[str, SignedEntry]:
        """Stored entries keyed by lower-case id; InputError naming the first unknown one."""
        rows = self.mirror.get_entries(entry_ids)
        for entry_id in entry_ids:
            if entry_id.lower() not in rows:
                raise InputError(
                    f"entry {entry_id}: not in this workspace's mirror "
                    "(check the id, or `labourledger import` the signed entry file)"
                )
        return {i: SignedEntry.model_validate(row) for i, row in rows.items()}

    def describe(self, entry_id: str) -> dict[str, Any]:
        """An entry in DESIGN.md's JSON shape, with `status`, `proof` and `anchor`."""
        return self.describe_many([entry_id])[0]

    def describe_many(
        self, entry_ids: Sequence[str], *, loaded: Mapping[str, SignedEntry] | None = None
    ) -> list[dict[str, Any]]:
        """`describe` of many entries, in order, in a few queries; `loaded` are entries
        already read with `entries`, so they are not read again."""
        entries = loaded if loaded is not None else self.entries(entry_ids)
        proofs = self.mirror.proofs_for(entry_ids)
        revoked = self.revoked(entry_ids)
        views = []
        for entry_id in entry_ids:
            view = entries[entry_id.lower()].to_json_dict()
            found = proofs.get(view["entry_id"])
            view["status"] = proof_status(found)
            view["revoked_by"] = revoked.get(view["entry_id"], [])
            view["proof"] = view["anchor"] = None
            if found and view["status"] != "pending":
                anchor = found["anchor"]
                view["proof"] = {
                    "leaf_index": found["leaf_index"],
                    "tree_size": found["tree_size"],
                    "path": found["path"],
                }
                view["anchor"] = {
                    "root": anchor["root"],
                    "tx_hash": anchor["tx_hash"],
                    "block_number": anchor["block_number"],
                    "chain_id": anchor["chain_id"],
                    "contract": anchor["contract"],
                }
            views.append(view)
        return views

    def proof(self, entry_id: str) -> dict[str, Any]:
        """The entry's proof and anchor, re-checked locally and by the contract itself."""
        view = self.describe(entry_id)
        proof = self.stored_proof(view["entry_id"])
        if proof is None:
            raise InputError(f"entry {view['entry_id']} is pending: run `labourledger anchor`")
        leaf = bytes.fromhex(view["entry_id"][2:])
        local = IncludedInAnchor(proof, self.anchored_root(proof.root), 0)(self.entry(entry_id))
        by_contract = self.chain.verify_inclusion(
            leaf, proof.leaf_index, proof.tree_size, proof.path, proof.root
        )
        return {
            "entry_id": view["entry_id"],
            "proof": view["proof"],
            "anchor": view["anchor"],
            "verified": local.passed and by_contract,
            "reason": local.reason if by_contract else "the contract rejects this proof",
        }

    # -- integrity ---------------------------------------------------------

    def stored_proof(self, entry_id: str) -> InclusionProof | None:
        """The mirror's proof of an entry, once its anchor was sent; None while pending."""
        return self.stored_proofs([entry_id]).get(entry_id.lower())

    def stored_proofs(self, entry_ids: Iterable[str]) -> dict[str, InclusionProof]:
        """`stored_proof` of many entries; pending ones are absent."""
        return {
            entry_id: InclusionProof(
                root=bytes.fromhex(found["anchor"]["root"][2:]),
                leaf_index=found["leaf_index"],
                tree_size=found["tree_size"],
                path=[bytes.fromhex(h[2:]) for h in found["path"]],
            )
            for entry_id, found in self.mirror.proofs_for(entry_ids).items()
            if proof_status(found) != "pending"
        }

    def forget_chain_reads(self) -> None:
        """Drop what was read from the contract, for a ledger that outlives a chain head."""
        self._roots.clear()
        self._admins.clear()

    def anchored_root(self, root: bytes) -> AnchoredRoot | None:
        """What the contract holds for `root`, with its current depth; cached per ledger."""
        if root not in self._roots:
            record = self.chain.anchor_of(root)
            self._roots[root] = (
                None
                if record is None
                else AnchoredRoot(
                    root=root,
                    size=record.size,
                    block_number=record.block_number,
                    timestamp=record.timestamp,
                    submitter=record.submitter,
                    confirmations=self.chain.latest_block() - record.block_number,
                )
            )
        return self._roots[root]

    def check_integrity(
        self, entry: SignedEntry, proof: InclusionProof | None
    ) -> list[CheckResult]:
        """Hash, id, signature and anchoring checks of one entry, re-done from scratch."""
        anchored = self.anchored_root(proof.root) if proof else None
        checks: list[EntryCheck] = [
            ContentHashMatches(),
            EntryIdMatches(self.domain),
            SignatureMatchesIssuer(self.domain),
            IncludedInAnchor(proof, anchored, self.config.chain.confirmations),
            SignedBeforeAnchor(anchored),
        ]
        return [check(entry) for check in checks]

    def check_entry(self, entry_id: str) -> list[CheckResult]:
        """Integrity checks of a stored entry, against the chain."""
        entry = self.entry(entry_id)
        return self.check_integrity(entry, self.stored_proof("0x" + entry.entry_id.hex()))

    # -- sync --------------------------------------------------------------

    def sync(self, *, progress: Progress | None = None) -> SyncResult:
        """Read `Anchored` and role events into the mirror, roll back reorged anchors,
        and finalise anchors that reached the configured depth."""
        chain = self.chain
        latest = chain.latest_block()
        orphaned = self._rewind_reorg(latest)
        last = self.mirror.get_sync_state("last_synced_block")
        start = int(last) + 1 if last is not None else self.config.chain.deploy_block
        anchors = chain.anchored_events(start, latest) if start <= latest else []
        roles = chain.role_events(start, latest) if start <= latest else []
        log.info("syncing blocks %d to %d: %d anchors, %d role events", start, latest,
                 len(anchors), len(roles))  # fmt: skip
        # Units of work: each anchor read (a block lookup each), then the role events.
        total = len(anchors) + 1
        with self.mirror.transaction() as session:
            for done, event in enumerate(anchors):
                if progress:
                    progress(done, total)
                self.mirror.record_chain_anchor(
                    session,
                    root=_hex(event.root),
                    size=event.size,
                    # finalise_anchors below promotes it, so the result counts it as finalised
                    status="submitted",
                    chain_id=self.config.chain.chain_id,
                    contract=self.config.chain.contract,
                    tx_hash=_hex(event.tx_hash),
                    block_number=event.block_number,
                    block_hash=_hex(event.block_hash),
                    timestamp=chain.block_timestamp(event.block_number),
                    submitter=event.submitter,
                )
                self.mirror.record_block(session, event.block_number, _hex(event.block_hash))
            for role_event in roles:
                self.mirror.record_role_event(session, role_event)
                self.mirror.record_block(
                    session, role_event.block_number, _hex(role_event.block_hash)
                )
            finalised = self.mirror.finalise_anchors(
                session, latest - self.config.chain.confirmations
            )
            self.mirror.record_block(session, latest, _hex(chain.block_hash(latest)))
            self.mirror.set_sync_state(session, "last_synced_block", str(latest))
        if progress:
            progress(total, total)
        return SyncResult(start, latest, len(anchors), len(roles), finalised, orphaned)

    def _rewind_reorg(self, latest: int) -> int:
        """Find the first recent block whose hash changed and roll the mirror back to it."""
        fork = None
        for number, stored_hash in self.mirror.blocks_since(latest - REORG_WINDOW):
            if number > latest or _hex(self.chain.block_hash(number)) != stored_hash:
                fork = number
                break
        if fork is None:
            return 0
        still_anchored = {
            a["root"]
            for a in self.mirror.anchors_since(fork)
            if self.chain.anchor_of(bytes.fromhex(a["root"][2:])) is not None
        }
        with self.mirror.transaction() as session:
            orphaned = self.mirror.rewind(session, fork, keep_roots=still_anchored)
            self.mirror.set_sync_state(session, "last_synced_block", str(fork - 1))
        return orphaned


@contextmanager
def _sender_may(action: str, role: str, sender: LocalAccount) -> Iterator[None]:
    """The contract refusing the sender is the user's choice of key, not a chain failure."""
    try:
        yield
    except ChainError as exc:
        if exc.error_name != "AccessControlUnauthorizedAccount":
            raise
        raise InputError(
            f"--key: {sender.address} may not {action} {role.upper()} (the contract says: {exc})"
        ) from None


def _role(name: str) -> str:
    role = name.upper().removesuffix("_ROLE")
    if role not in ROLES:
        raise InputError(f"role {name!r}: expected one of {', '.join(ROLES)}")
    return role
