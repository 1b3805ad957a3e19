"""The mirror's database connection and schema: engine, transactions, migrations.

`Connected` is the base the mirror's query modules build on: each reads and writes
through `_connect`, `transaction` and `_chunked`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    ARRAY,
    JSON,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Result,
    Select,
    String,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from labourledger._resources import shipped_dir
from labourledger.damage import damaged
from labourledger.errors import DamagedRow, DatabaseUnavailable, InputError, MirrorBehind

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

Among = Callable[[ColumnElement[bool]], Select[Any]]
"""A query given the test that picks its rows (`column IN chunk`)."""

__all__ = ["IN_MEMORY", "SCHEMA_REVISION", "Connected", "as_dicts", "migrations_dir"]

#: A mirror that lives in memory for one process (a bundle being verified).
IN_MEMORY = "sqlite://"
#: The schema revision this code reads and writes (a test holds it equal to the migrations'
#: head): a mirror found at it is ready without loading Alembic, which would add a sixth to
#: the start-up of every command that opens the mirror.
SCHEMA_REVISION = "0006"


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


def as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """A result's rows as plain dicts, column name to value (read at once: a row's
    `_mapping` costs more than the query on a trace of a hundred facilities)."""
    keys = list(result.keys())
    try:
        rows = result.all()
    except json.JSONDecodeError as exc:
        # labourledger writes only JSON there: the row was changed outside it (which one,
        # the driver does not say; doctor finds it).
        raise DamagedRow(f"it holds text that is not JSON: {exc}") from None
    return [dict(zip(keys, row, strict=True)) for row in rows]


class Connected:
    """One SQL database, connected lazily, whose schema is checked on first use."""

    #: Ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
    in_chunk: ClassVar[int] = 500

    def __init__(self, url: str) -> None:
        """Connect lazily to `url` (any SQLAlchemy URL; postgresql:// uses psycopg 3)."""
        if not url:
            raise InputError("mirror: no database URL configured")
        self.url = url
        self._schema_checked = False
        self._open: Connection | None = None
        self._pid = os.getpid()  # the process whose connections the pool holds

    @cached_property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use."""
        try:
            parsed = make_url(_engine_url(self.url))
        except ArgumentError as exc:
            raise InputError(f"mirror: not a database URL: {self.display_url} ({exc})") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise InputError(
                f"mirror: {self.display_url}: the mirror runs on SQLite (sqlite:///PATH) or "
                "PostgreSQL (postgresql://...), not on this database"
            )
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
            # Connections are kept (opening one costs more than most queries) and handed
            # between threads (`serve` reads from worker threads): SQLAlchemy turns off
            # sqlite3's same-thread check for a file. No cap on connections in use: a busy
            # server waits on SQLite's locks, not on the pool.
            engine = create_engine(parsed, poolclass=QueuePool, max_overflow=-1)
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

    @contextmanager
    def _connect(self, *, schema_check: bool = True) -> Iterator[Connection]:
        if self._open is not None:
            # In memory, a read during a transaction must see it, and must not end it.
            yield self._open
            return
        if self._pid != os.getpid() and self.url != IN_MEMORY:
            # A forked worker (verify's read entries) must not use its parent's pooled
            # connections: a SQLite file's locks, or a server's session, are the parent's.
            # It opens its own; an in-memory database's copy is the worker's own already.
            self.engine.dispose(close=False)
            self._pid = os.getpid()
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
        except DatabaseError as exc:
            if "not a database" in str(exc.orig) or "malformed" in str(exc.orig):
                # A damaged file: no command can read it, and none may write to it.
                raise DatabaseUnavailable(
                    f"mirror {self.display_url} cannot be read ({str(exc.orig).strip()}); "
                    "restore it from a backup"
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
            if conn.dialect.name == "sqlite":
                # A damaged page is met only by a query that reads it: say so now, not
                # "upgraded" over a file some later command cannot read.
                found = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()
                if found != "ok":
                    raise DatabaseUnavailable(
                        f"mirror {self.display_url} is damaged ({' '.join(str(found).split())}); "
                        "restore it from a backup"
                    )
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
            raise MirrorBehind(f"mirror {self.display_url} has no labourledger tables")
        if revision not in _revisions():
            raise InputError(
                f"mirror {self.display_url} is at schema revision {revision}, newer than this "
                f"labourledger knows ({head}): upgrade labourledger"
            )
        if revision != head:
            raise MirrorBehind(
                f"mirror {self.display_url} is at schema revision {revision}, this labourledger "
                f"needs {head}"
            )

    def _chunked(
        self,
        column: Column[Any],
        values: Iterable[str],
        query: Among,
        *,
        reuse: Hashable | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of `query(column IN chunk)` over `values`, a chunk at a time. A `reuse` key
        names the statement `query` builds, so it is built once (see `_chunked_in`)."""
        with self._connect() as conn:
            return self._chunked_in(conn, column, values, query, reuse=reuse)

    def _present(self, column: Column[Any], ids: Iterable[str]) -> set[str]:
        """Which of `ids` (lower-cased) are values of `column`, reading that column alone."""
        found = self._chunked(
            column, (i.lower() for i in ids), lambda among: select(column).where(among)
        )
        return {row[column.name] for row in found}

    def _chunked_in(
        self,
        conn: Connection,
        column: Column[Any],
        values: Iterable[str],
        query: Among,
        *,
        reuse: Hashable | None = None,
    ) -> list[dict[str, Any]]:
        """`_chunked` in `conn`: its transaction, say."""
        wanted = list(dict.fromkeys(values))
        # Its values are bound as it runs, so a statement is the same on every call, and
        # building one with subqueries (a timeline's) cost more than running it on a trace.
        key = None if reuse is None else (reuse, conn.dialect.name)
        statement = _built.get(key) if key is not None else None
        if statement is None:
            statement = query(_among(conn, column))
            if key is not None:
                _built[key] = statement
        rows: list[dict[str, Any]] = []
        for start in range(0, len(wanted), self.in_chunk):
            chunk = wanted[start : start + self.in_chunk]
            try:
                rows += as_dicts(conn.execute(statement, {_AMONG: chunk}))
            except DamagedRow as exc:
                if exc.table is not None:
                    raise
                raise _named(conn, statement, column, chunk, exc) from None
        return rows


def _named(
    conn: Connection, statement: Select[Any], column: Column[Any], chunk: list[str], exc: DamagedRow
) -> DamagedRow:
    """`exc` (JSON text that does not parse, which the driver reports for a whole result)
    naming the row that holds it: the rows of `column`'s table among `chunk` are read with
    their JSON columns as text, on this rare path only."""
    table = column.table
    texts = [c for c in table.c if isinstance(c.type, JSON)]
    # An entry's id names its row better than the sequence number that is its key.
    key = table.c["entry_id"] if "entry_id" in table.c else next(iter(table.primary_key))
    query = select(key, *(cast(c, Text).label(c.name) for c in texts)).where(column.in_(chunk))
    for row in conn.execute(query):
        for name, value in zip((c.name for c in texts), row[1:], strict=True):
            try:
                if value is not None:  # NULL, where allowed, is no JSON text
                    json.loads(value)
            except json.JSONDecodeError:
                noun = "entry" if key.name == "entry_id" else key.name
                return damaged(table.name, row[0], f"{table.name}.{name} is not JSON", noun=noun)
    return exc


#: Statements `_chunked_in` built, by their `reuse` key and dialect.
_built: dict[tuple[Hashable, str], Select[Any]] = {}

#: The name `_among`'s values are bound to. They are given as each statement runs, not
#: written into it: SQLAlchemy caches a statement's compiled form with the values written
#: into its first use, 11 MB of ids held on after a large verify.
_AMONG = "among_values"


def _among(conn: Connection, column: Column[Any]) -> ColumnElement[bool]:
    """`column IN :among_values`, written so that the database searches the column's index.
    PostgreSQL costs an IN list of hundreds of values as a scan of the whole table (a
    parallel sequential scan of 100,000 facilities, 67 ms a list); an unnested array it
    costs as the rows it holds, and looks each up."""
    if conn.dialect.name == "postgresql":
        array = cast(bindparam(_AMONG, type_=ARRAY(String)), ARRAY(String))
        return column.in_(select(func.unnest(array)))
    return column.in_(bindparam(_AMONG, expanding=True))


#: SQLite's page cache for bulk writes, and its default (both in KiB, as negative numbers).
_WRITE_CACHE, _DEFAULT_CACHE = -65536, -2000


@contextmanager
def write_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a 64 MiB page cache for a bulk write in `conn`: at the default 2 MiB,
    inserts slow down as the mirror outgrows it (71 -> 176 ms for 3,000 facilities over
    four runs). Reads keep the default: a verify would otherwise hold a 50 MB mirror's pages
    on top of its evidence."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size={_WRITE_CACHE}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={_DEFAULT_CACHE}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers work while a writer commits.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
