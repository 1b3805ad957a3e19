"""The SQL mirror: entries, anchors, proofs, chain events and projections, on SQLite or PostgreSQL.

Every write goes through `transaction()`: an entry and its projections, or a
whole batch of entries, are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Select,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from labourledger._resources import shipped_dir
from labourledger.chain.ledger_contract import RoleEvent
from labourledger.errors import DatabaseUnavailable, InputError
from labourledger.mirror import schema
from labourledger.mirror.projections import rows_for

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = ["ENTRY_FIELDS", "IN_MEMORY", "Mirror", "migrations_dir", "proof_status"]

#: A mirror that lives in memory for one process (a bundle being verified).
IN_MEMORY = "sqlite://"

ENTRY_FIELDS = (
    "entry_id",
    "issuer",
    "kind",
    "schema_version",
    "subject",
    "refs",
    "issued_at",
    "content_hash",
    "signature",
    "body",
    "salt",
)
#: Ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 500
#: Anchor states under which an entry counts as on chain.
ON_CHAIN = ("submitted", "final")
#: The schema revision this code reads and writes (a test holds it equal to the migrations'
#: head): a mirror found at it is ready without loading Alembic, which would add a sixth to
#: the start-up of every command that opens the mirror.
SCHEMA_REVISION = "0003"


def migrations_dir() -> Path:
    """The Alembic scripts: shipped in the wheel, or the checkout's `migrations/`."""
    return shipped_dir("_migrations", "migrations")


@cache
def _revisions() -> tuple[str, ...]:
    """The shipped migrations' revisions, newest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations_dir()))
    return tuple(r.revision for r in script.walk_revisions())


def _stored_revision(conn: Connection) -> str | None:
    """The schema's Alembic revision, or None for an empty database, read from Alembic's
    default version table (migrations/env.py keeps the default) without loading Alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    revision: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision


def _engine_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def proof_status(found: Mapping[str, Any] | None) -> str:
    """An entry's state from what `proof_for` found: pending, submitted or final."""
    if found is None or found["anchor"]["status"] not in ON_CHAIN:
        return "pending"
    return str(found["anchor"]["status"])


def _dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


class Mirror:
    """One SQL database holding the workspace's entries and what the chain says of them."""

    def __init__(self, url: str) -> None:
        """Connect lazily to `url` (any SQLAlchemy URL; postgresql:// uses psycopg 3)."""
        if not url:
            raise InputError("mirror: no database URL configured")
        self.url = url
        self._schema_checked = False
        self._open: Connection | None = None

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use."""
        try:
            parsed = make_url(_engine_url(self.url))
        except ArgumentError as exc:
            raise InputError(f"--db: not a database URL: {self.display_url} ({exc})") from None
        if self.url == IN_MEMORY:
            # One connection for the mirror's life: each new one would be a new, empty database.
            engine = create_engine(
                parsed,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, poolclass=NullPool)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True)

    @property
    def display_url(self) -> str:
        """The URL with any password hidden."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<invalid URL>"

    # -- connection and schema ------------------------------------------

    @contextmanager
    def _connect(self, *, schema_check: bool = True) -> Iterator[Connection]:
        if self._open is not None:
            # In memory, a read during a transaction must see it, and must not end it.
            yield self._open
            return
        try:
            with self.engine.connect() as conn:
                if schema_check and not self._schema_checked:
                    self._ready(conn)
                    conn.rollback()  # ends the check's implicit transaction; callers begin theirs
                    self._schema_checked = True
                yield conn
        except OperationalError as exc:
            if "connect" in str(exc.orig).lower() or "unable to open" in str(exc.orig).lower():
                raise DatabaseUnavailable(
                    f"mirror {self.display_url} is unreachable ({str(exc.orig).strip()}); "
                    "check the database is running and the URL is right"
                ) from None
            raise

    def check(self) -> None:
        """Connect once; DatabaseUnavailable (exit 3) when the database does not answer."""
        with self._connect(schema_check=False) as conn:
            conn.exec_driver_sql("SELECT 1")

    @contextmanager
    def transaction(self, *, schema_check: bool = True) -> Iterator[Connection]:
        """One database transaction: committed when the block ends, rolled back on any error
        (a KeyboardInterrupt included)."""
        with self._connect(schema_check=schema_check) as conn, conn.begin():
            if self.url != IN_MEMORY:
                yield conn
                return
            self._open = conn
            try:
                yield conn
            finally:
                self._open = None

    def _alembic(self, conn: Connection) -> AlembicConfig:
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(migrations_dir()))
        cfg.attributes["connection"] = conn
        return cfg

    def upgrade(self) -> str | None:
        """Migrate the schema to the newest revision; returns it."""
        from alembic import command

        with self.transaction(schema_check=False) as conn:
            command.upgrade(self._alembic(conn), "head")
        return self.current_revision()

    def current_revision(self) -> str | None:
        """The schema's Alembic revision, or None for an empty database."""
        with self._connect(schema_check=False) as conn:
            return _stored_revision(conn)

    def analyze(self) -> None:
        """Refresh the planner's statistics. After a bulk load PostgreSQL otherwise plans
        trace and verify as for empty tables (seconds instead of a tenth) until autovacuum
        catches up."""
        with self.transaction() as conn:
            conn.exec_driver_sql("ANALYZE")

    def head_revision(self) -> str:
        """The newest revision the shipped migrations define."""
        return _revisions()[0]

    def _ready(self, conn: Connection) -> None:
        # Checked on a Mirror's first connection: a query or write on a missing or older
        # schema would otherwise fail halfway with the database's own message.
        revision = _stored_revision(conn)
        if revision == SCHEMA_REVISION:
            return
        head = self.head_revision()
        if revision is None:
            raise InputError(
                f"mirror {self.display_url} has no labourledger tables: "
                "run `labourledger db upgrade`"
            )
        if revision not in _revisions():
            raise InputError(
                f"mirror {self.display_url} is at schema revision {revision}, newer than this "
                f"labourledger knows ({head}): upgrade labourledger"
            )
        if revision != head:
            raise InputError(
                f"mirror {self.display_url} is at schema revision {revision}, this labourledger "
                f"needs {head}: run `labourledger db upgrade`"
            )

    # -- entries --------------------------------------------------------

    def add_entry(self, conn: Connection, entry: Mapping[str, Any], *, source: str) -> bool:
        """Store one signed entry and its projections; False (nothing stored) if already there."""
        return self.add_entries(conn, [entry], source=source) == 1

    def add_entries(
        self, conn: Connection, entries: Sequence[Mapping[str, Any]], *, source: str
    ) -> int:
        """Store signed entries (dicts of ENTRY_FIELDS + chain_id, contract) and their
        projections in `conn`'s transaction, a few statements per batch; returns how many
        were new. Entries already stored are skipped."""
        e = schema.entries
        known: set[str] = set()
        ids = [entry["entry_id"] for entry in entries]
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            known.update(
                conn.execute(select(e.c.entry_id).where(e.c.entry_id.in_(chunk))).scalars()
            )
        new: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            if entry["entry_id"] not in known:
                new.setdefault(entry["entry_id"], entry)
        if not new:
            return 0
        fields = (*ENTRY_FIELDS, "chain_id", "contract")
        conn.execute(
            insert(e), [{k: x[k] for k in fields} | {"source": source} for x in new.values()]
        )
        refs = [
            {"entry_id": entry_id, "ref": ref}
            for entry_id, x in new.items()
            for ref in dict.fromkeys(x["refs"])
        ]
        if refs:
            conn.execute(insert(schema.entry_refs), refs)
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for entry_id, x in new.items():
            for table, row in rows_for(entry_id, x["kind"], x["body"], x["subject"]):
                by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            conn.execute(insert(table), rows)
        return len(new)

    def get_entry(self, entry_id: str) -> dict[str, Any] | None:
        """The stored entry as a dict of ENTRY_FIELDS, or None."""
        return self.get_entries([entry_id]).get(entry_id.lower())

    def get_entries(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored entries among `entry_ids`, keyed by id, as dicts of ENTRY_FIELDS."""
        e = schema.entries
        columns = [e.c[f] for f in ENTRY_FIELDS]
        return {
            row["entry_id"]: row
            for row in self._chunked(
                (i.lower() for i in entry_ids),
                lambda chunk: select(*columns).where(e.c.entry_id.in_(chunk)),
            )
        }

    def _chunked(
        self, values: Iterable[str], query: Callable[[list[str]], Select[Any]]
    ) -> list[dict[str, Any]]:
        """Rows of `query(chunk)` over `values` (de-duplicated) in IN-sized chunks."""
        wanted = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        with self._connect() as conn:
            for start in range(0, len(wanted), _IN_CHUNK):
                rows += _dicts(conn.execute(query(wanted[start : start + _IN_CHUNK])))
        return rows

    def entry_status(self, entry_id: str) -> str:
        """pending, submitted or final."""
        return proof_status(self.proof_for(entry_id))

    def pending_entries(self) -> list[dict[str, Any]]:
        """Entries in no anchor yet, in the order they were recorded."""
        e, p = schema.entries, schema.proofs
        with self._connect() as conn:
            rows = conn.execute(
                select(e.c.entry_id, e.c.kind)
                .outerjoin(p, p.c.entry_id == e.c.entry_id)
                .where(p.c.entry_id.is_(None))
                .order_by(e.c.seq)
            )
            return _dicts(rows)

    def entries_about(self, subject: str) -> list[dict[str, Any]]:
        """Entries whose subject is `subject` or which refer to it, oldest first."""
        e, r = schema.entries, schema.entry_refs
        referring = select(r.c.entry_id).where(r.c.ref == subject)
        with self._connect() as conn:
            rows = conn.execute(
                select(e.c.entry_id, e.c.kind, e.c.issuer, e.c.issued_at)
                .where(or_(e.c.subject == subject, e.c.entry_id.in_(referring)))
                .order_by(e.c.seq)
            )
            return _dicts(rows)

    def timeline(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Entries about `subject` (optionally of one kind) with their anchor facts, in
        anchor order (block, then leaf), then the ones not yet on chain in recording order.

        Each row holds ENTRY_FIELDS plus anchor_status, block_number, anchor_timestamp,
        tx_hash and leaf_index (None while pending).
        """
        return self.timelines([subject], kind).get(subject.lower(), [])

    def timelines(
        self, subjects: Iterable[str], kind: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """`timeline` of many subjects in a few queries, keyed by subject (absent if none)."""
        e, p, a = schema.entries, schema.proofs, schema.anchors

        def query(chunk: list[str]) -> Select[Any]:
            found = (
                select(
                    *(e.c[f] for f in ENTRY_FIELDS),
                    e.c.seq,
                    a.c.status.label("anchor_status"),
                    a.c.block_number,
                    a.c.timestamp.label("anchor_timestamp"),
                    a.c.tx_hash,
                    p.c.leaf_index,
                )
                .outerjoin(p, p.c.entry_id == e.c.entry_id)
                .outerjoin(a, and_(a.c.root == p.c.root, a.c.status.in_(ON_CHAIN)))
                .where(e.c.subject.in_(chunk))
            )
            return found if kind is None else found.where(e.c.kind == kind)

        rows = self._chunked((s.lower() for s in subjects), query)
        for row in rows:
            if row["anchor_status"] is None:
                row["block_number"] = row["anchor_timestamp"] = row["tx_hash"] = None
                row["leaf_index"] = None
        on_chain = sorted(
            (r for r in rows if r["anchor_status"]),
            key=lambda r: (r["block_number"], r["leaf_index"]),
        )
        pending = sorted((r for r in rows if not r["anchor_status"]), key=lambda r: r["seq"])
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for row in on_chain + pending:
            row.pop("seq")
            by_subject.setdefault(row["subject"], []).append(row)
        return by_subject

    def subjects_of(self, kind: str) -> list[str]:
        """The distinct subjects of entries of one kind (say, the facilities with grievances)."""
        e = schema.entries
        with self._connect() as conn:
            query = select(e.c.subject).where(e.c.kind == kind).distinct().order_by(e.c.subject)
            return [str(s) for s in conn.execute(query).scalars()]

    def revocations(self, targets: Iterable[str]) -> dict[str, list[str]]:
        """For each of `targets` that was revoked, the ids of the revocation entries."""
        r = schema.revocations
        found: dict[str, list[str]] = {}
        for row in self._chunked(
            (t.lower() for t in targets),
            lambda chunk: select(r.c.target, r.c.entry_id).where(r.c.target.in_(chunk)),
        ):
            found.setdefault(row["target"], []).append(row["entry_id"])
        return found

    def audits(
        self, *, facility: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[str]:
        """Ids of audits, optionally of one facility and ending within [since, until]
        (ISO dates), oldest first."""
        a = schema.audits
        query = select(a.c.entry_id).order_by(a.c.end_date, a.c.entry_id)
        if facility:
            query = query.where(a.c.facility == facility.lower())
        if since:
            query = query.where(a.c.end_date >= since)
        if until:
            query = query.where(a.c.end_date <= until)
        with self._connect() as conn:
            return [str(x) for x in conn.execute(query).scalars()]

    def walk_upstream(self, batch_id: str, *, on: str, max_depth: int = 64) -> list[dict[str, Any]]:
        """Every node upstream of a batch, in one recursive query.

        Edges go from a batch to the input batches of the transformation that made it;
        from a batch no transformation made to the suppliers of its facility; and from a
        facility to its suppliers. Revoked transformations, and links not valid on `on`
        (an ISO date, the batch's production date), are not followed.
        Rows: kind (batch|facility), id, parent, via (the edge's entry id), depth, and
        cycle (1 when the node is already on its own path: reported, not followed).
        """
        with self._connect() as conn:
            rows = conn.execute(
                _WALK, {"batch": batch_id.lower(), "on": on, "max_depth": max_depth}
            )
            return _dicts(rows)

    def lookup(self, table: str, column: str, values: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Rows of a projection table whose `column` is one of `values`, keyed by it; where
        several entries share a value, the first recorded wins."""
        t = schema.metadata.tables[table]
        rows = self._chunked(
            values,
            lambda chunk: (
                select(t, schema.entries.c.seq)
                .join(schema.entries, schema.entries.c.entry_id == t.c.entry_id)
                .where(t.c[column].in_(chunk))
            ),
        )
        found: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: r.pop("seq")):
            found.setdefault(row[column], row)
        return found

    def counts(self) -> dict[str, int]:
        """Entries pending and on chain, and anchors by status."""
        e, p, a = schema.entries, schema.proofs, schema.anchors
        with self._connect() as conn:
            total = conn.execute(select(func.count()).select_from(e)).scalar_one()
            anchored = conn.execute(
                select(func.count())
                .select_from(p.join(a, a.c.root == p.c.root))
                .where(a.c.status.in_(ON_CHAIN))
            ).scalar_one()
            by_status = dict(
                (str(s), int(n))
                for s, n in conn.execute(select(a.c.status, func.count()).group_by(a.c.status))
            )
        return {
            "entries": total,
            "pending": total - anchored,
            "anchored": anchored,
            **{f"anchors_{s}": n for s, n in sorted(by_status.items())},
        }

    # -- anchors and proofs ---------------------------------------------

    def prepare_anchor(
        self,
        conn: Connection,
        *,
        root: str,
        size: int,
        chain_id: int,
        contract: str,
        entry_ids: Sequence[str],
        paths: Sequence[Sequence[str]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store a batch before its transaction is sent, so a crash can resume it;
        `progress` is told how many proofs are stored so far."""
        if len(entry_ids) != size or len(paths) != size:
            raise ValueError("one entry id and one path per leaf")
        # A root orphaned by a reorg may be prepared again on the new fork.
        conn.execute(
            delete(schema.anchors).where(
                and_(schema.anchors.c.root == root, schema.anchors.c.status == "orphaned")
            )
        )
        conn.execute(
            insert(schema.anchors).values(
                root=root, size=size, status="prepared", chain_id=chain_id, contract=contract
            )
        )
        rows = [
            {"entry_id": e, "root": root, "leaf_index": i, "path": list(path)}
            for i, (e, path) in enumerate(zip(entry_ids, paths, strict=True))
        ]
        for start in range(0, size, _IN_CHUNK):
            conn.execute(insert(schema.proofs), rows[start : start + _IN_CHUNK])
            if progress:
                progress(min(start + _IN_CHUNK, size))

    def drop_prepared(self, conn: Connection, root: str) -> None:
        """Take back a prepared batch whose transaction was never sent: its proofs and row."""
        a = schema.anchors
        prepared = select(a.c.root).where(and_(a.c.root == root, a.c.status == "prepared"))
        conn.execute(delete(schema.proofs).where(schema.proofs.c.root.in_(prepared)))
        conn.execute(delete(a).where(and_(a.c.root == root, a.c.status == "prepared")))

    def add_proof(
        self, conn: Connection, entry_id: str, root: str, leaf_index: int, path: Sequence[str]
    ) -> None:
        """Store one entry's proof in an anchor recorded from elsewhere (a bundle)."""
        conn.execute(
            insert(schema.proofs).values(
                entry_id=entry_id, root=root, leaf_index=leaf_index, path=list(path)
            )
        )

    def mark_anchor(self, conn: Connection, root: str, status: str, **fields: Any) -> None:
        """Set an anchor's status and chain facts (tx_hash, block_number, block_hash, …)."""
        conn.execute(
            update(schema.anchors)
            .where(schema.anchors.c.root == root)
            .values(status=status, **fields)
        )

    def record_chain_anchor(
        self, conn: Connection, *, root: str, size: int, status: str, **fields: Any
    ) -> None:
        """An `Anchored` event seen by sync: update our own anchor, or record another's."""
        existing = conn.execute(
            select(schema.anchors.c.status).where(schema.anchors.c.root == root)
        ).first()
        if existing is None:
            conn.execute(
                insert(schema.anchors).values(root=root, size=size, status=status, **fields)
            )
        elif existing.status != "final" or status == "final":
            self.mark_anchor(conn, root, status, **fields)

    def get_anchor(self, root: str) -> dict[str, Any] | None:
        """One anchor row, or None."""
        with self._connect() as conn:
            row = conn.execute(select(schema.anchors).where(schema.anchors.c.root == root)).first()
        return None if row is None else dict(row._mapping)

    def unfinished_anchors(self) -> list[dict[str, Any]]:
        """Anchors stored but not yet seen mined: their transaction may or may not be sent."""
        with self._connect() as conn:
            rows = conn.execute(select(schema.anchors).where(schema.anchors.c.status == "prepared"))
            return _dicts(rows)

    def anchors_since(self, block: int) -> list[dict[str, Any]]:
        """Anchors mined in `block` or later."""
        with self._connect() as conn:
            rows = conn.execute(
                select(schema.anchors).where(schema.anchors.c.block_number >= block)
            )
            return _dicts(rows)

    def finalise_anchors(self, conn: Connection, max_block: int) -> int:
        """Mark submitted anchors mined at or below `max_block` final; returns how many."""
        a = schema.anchors
        done = conn.execute(
            update(a)
            .where(and_(a.c.status == "submitted", a.c.block_number <= max_block))
            .values(status="final")
        )
        return done.rowcount

    def proof_for(self, entry_id: str) -> dict[str, Any] | None:
        """The entry's leaf index, tree size, path and anchor, or None if in no batch."""
        return self.proofs_for([entry_id]).get(entry_id.lower())

    def anchor_members(self, root: str) -> list[tuple[str, str, str]]:
        """(entry id, kind, subject) of every entry in the batch `root`, in leaf order."""
        p, e = schema.proofs, schema.entries
        query = (
            select(e.c.entry_id, e.c.kind, e.c.subject)
            .join(p, p.c.entry_id == e.c.entry_id)
            .where(p.c.root == root)
            .order_by(p.c.leaf_index)
        )
        with self._connect() as conn:
            return [(r.entry_id, r.kind, r.subject) for r in conn.execute(query)]

    def proofs_for(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """`proof_for` of many entries, keyed by entry id (absent if in no batch)."""
        p, a = schema.proofs, schema.anchors
        rows = self._chunked(
            (i.lower() for i in entry_ids),
            lambda chunk: (
                select(p.c.entry_id, p.c.leaf_index, p.c.path, a)
                .join(a, a.c.root == p.c.root)
                .where(p.c.entry_id.in_(chunk))
            ),
        )
        found = {}
        for data in rows:
            entry_id, leaf_index, path = (data.pop(k) for k in ("entry_id", "leaf_index", "path"))
            found[entry_id] = {
                "leaf_index": leaf_index,
                "tree_size": data["size"],
                "path": path,
                "anchor": data,
            }
        return found

    # -- chain events and reorgs ----------------------------------------

    def record_role_event(self, conn: Connection, ev: RoleEvent) -> None:
        """Store one RoleGranted/RoleRevoked log (once)."""
        tx_hash = "0x" + ev.tx_hash.hex()
        r = schema.role_events
        if conn.execute(
            select(r.c.id).where(and_(r.c.tx_hash == tx_hash, r.c.log_index == ev.log_index))
        ).first():
            return
        conn.execute(
            insert(r).values(
                role=ev.role,
                account=ev.account,
                sender=ev.sender,
                granted=ev.granted,
                block_number=ev.block_number,
                block_hash="0x" + ev.block_hash.hex(),
                tx_hash=tx_hash,
                log_index=ev.log_index,
            )
        )

    def record_block(self, conn: Connection, number: int, block_hash: str) -> None:
        """Remember a block's hash, to notice a reorg later."""
        _upsert(conn, schema.blocks.c.number, number, hash=block_hash)

    def blocks_since(self, number: int) -> list[tuple[int, str]]:
        """(number, hash) of remembered blocks from `number` up, oldest first."""
        b = schema.blocks
        with self._connect() as conn:
            rows = conn.execute(
                select(b.c.number, b.c.hash).where(b.c.number >= number).order_by(b.c.number)
            )
            return [(int(n), str(h)) for n, h in rows]

    def rewind(self, conn: Connection, fork: int, *, keep_roots: set[str]) -> int:
        """Forget what was seen from block `fork` on: anchors not in `keep_roots` become
        orphaned and their entries pending again. Returns how many anchors were orphaned."""
        a, p = schema.anchors, schema.proofs
        lost = [
            root
            for (root,) in conn.execute(
                select(a.c.root).where(and_(a.c.block_number >= fork, a.c.status.in_(ON_CHAIN)))
            )
            if root not in keep_roots
        ]
        if lost:
            conn.execute(delete(p).where(p.c.root.in_(lost)))
            conn.execute(update(a).where(a.c.root.in_(lost)).values(status="orphaned"))
        conn.execute(delete(schema.role_events).where(schema.role_events.c.block_number >= fork))
        conn.execute(delete(schema.blocks).where(schema.blocks.c.number >= fork))
        return len(lost)

    def get_sync_state(self, key: str) -> str | None:
        """A sync bookmark (last_synced_block, …)."""
        s = schema.sync_state
        with self._connect() as conn:
            value = conn.execute(select(s.c.value).where(s.c.key == key)).scalar_one_or_none()
        return value

    def set_sync_state(self, conn: Connection, key: str, value: str) -> None:
        """Set a sync bookmark."""
        _upsert(conn, schema.sync_state.c.key, key, value=value)

    # -- projections ----------------------------------------------------

    def facilities(
        self,
        *,
        country: str | None = None,
        tier: int | None = None,
        facility_type: str | None = None,
    ) -> list[dict[str, Any]]:
        """Registered facilities (first registration of each), filtered."""
        f = schema.facilities
        first = (
            select(func.min(schema.entries.c.seq))
            .join(f, f.c.entry_id == schema.entries.c.entry_id)
            .group_by(f.c.facility_id)
        )
        query = (
            select(f)
            .join(schema.entries, schema.entries.c.entry_id == f.c.entry_id)
            .where(schema.entries.c.seq.in_(first))
            .order_by(f.c.tier, f.c.country, f.c.name)
        )
        if country:
            query = query.where(f.c.country == country.upper())
        if tier is not None:
            query = query.where(f.c.tier == tier)
        if facility_type:
            query = query.where(f.c.facility_type == facility_type)
        with self._connect() as conn:
            return _dicts(conn.execute(query))

    def facility(self, facility_id: str) -> dict[str, Any] | None:
        """The first registration of a facility, or None."""
        f = schema.facilities
        with self._connect() as conn:
            row = conn.execute(
                select(f)
                .join(schema.entries, schema.entries.c.entry_id == f.c.entry_id)
                .where(f.c.facility_id == facility_id.lower())
                .order_by(schema.entries.c.seq)
            ).first()
        return None if row is None else dict(row._mapping)

    def links_of(self, facility_id: str) -> list[dict[str, Any]]:
        """Supply links where the facility is supplier or buyer."""
        s = schema.supply_links
        with self._connect() as conn:
            rows = conn.execute(
                select(s).where(or_(s.c.supplier == facility_id, s.c.buyer == facility_id))
            )
            return _dicts(rows)

    def supplies(self, facility_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Supply links by supplier, for each of `facility_ids` that supplies anyone."""
        s = schema.supply_links
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self._chunked(
            (f.lower() for f in facility_ids),
            lambda chunk: select(s).where(s.c.supplier.in_(chunk)),
        ):
            found.setdefault(row["supplier"], []).append(row)
        return found


def _upsert(conn: Connection, column: Column[Any], key: Any, **values: Any) -> None:
    """Set `values` on the row whose primary-key `column` holds `key`, or add that row
    (portable: SQLite's and PostgreSQL's own upserts are spelled differently)."""
    table = column.table
    if conn.execute(select(column).where(column == key)).first():
        conn.execute(update(table).where(column == key).values(**values))
    else:
        conn.execute(insert(table).values({column.name: key, **values}))


def _hop(batch: str) -> str:
    """SQL for where a batch's parents are looked up: at the batch itself when a live
    transformation made it, else at the facility of its first registration (whose supply
    links stand in for inputs); NULL for a batch unknown here."""
    return f"""CAST(COALESCE(
        (SELECT t.output FROM transformations t WHERE t.output = {batch}
           AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.target = t.entry_id) LIMIT 1),
        (SELECT b.facility FROM batches b JOIN entries n ON n.entry_id = b.entry_id
           WHERE b.batch_id = {batch} ORDER BY n.seq LIMIT 1)
    ) AS VARCHAR(66))"""


# Batch and facility ids are keccak hashes under different prefixes, so one `parent`
# column serves both kinds. Each step is an index lookup per node, whatever the mirror's size.
_WALK = text(
    f"""
    WITH RECURSIVE walk (kind, id, hop, parent, via, depth, path, cycle) AS (
        SELECT CAST('batch' AS VARCHAR(16)), CAST(:batch AS VARCHAR(66)), {_hop(":batch")},
               CAST(NULL AS VARCHAR(66)), CAST(NULL AS VARCHAR(66)), 0,
               CAST('/' || CAST(:batch AS VARCHAR(66)) || '/' AS TEXT), 0
        UNION ALL
        SELECT e.child_kind, e.child,
               CASE WHEN e.child_kind = 'facility' THEN e.child ELSE {_hop("e.child")} END,
               w.id, e.entry_id, w.depth + 1,
               CAST(w.path || e.child || '/' AS TEXT),
               CASE WHEN w.path LIKE '%/' || e.child || '/%' THEN 1 ELSE 0 END
        FROM walk w JOIN edges e ON e.parent = w.hop
        WHERE w.cycle = 0 AND w.depth < :max_depth
          AND (e.valid_from IS NULL OR e.valid_from <= :on)
          AND (e.valid_to IS NULL OR e.valid_to >= :on)
          AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.target = e.entry_id)
    )
    SELECT kind, id, parent, via, depth, cycle FROM walk ORDER BY depth, id
    """
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers work while a writer commits.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
