"""`doctor`: what state a workspace is in, re-checked from scratch rather than trusted.

Besides set-up (permissions, mirror revision, chain, contract) and pending work, it
re-verifies what the mirror holds, since anyone with write access to the database can
change it: every stored entry (content hash, id, signature, schema, subject and refs),
every proof against its stored root, every anchor's proofs being all there, every
projection row against the signed body it was derived from, and every anchor against
the chain (its root recorded there with its size and block, that block's hash unchanged).
`quick` re-verifies a random sample of entries instead of all of them.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Connection,
    RowMapping,
    Select,
    Table,
    Text,
    func,
    select,
    type_coerce,
)

from labourledger.envelope import Domain, SignedEntry
from labourledger.errors import LabourLedgerError, NextStep
from labourledger.exchange import shape_problems
from labourledger.merkle import verify_inclusion
from labourledger.mirror import schema
from labourledger.mirror.checked import row_problem
from labourledger.mirror.projections import rows_for
from labourledger.mirror.runs import member_rows
from labourledger.mirror.store import ENTRY_FIELDS
from labourledger.mirror.sync import REORG_WINDOW
from labourledger.progress import Progress
from labourledger.verify.results import CheckResult, Outcome

if TYPE_CHECKING:
    from labourledger.ledger import Ledger
    from labourledger.mirror import Mirror

__all__ = ["QUICK_SAMPLE", "doctor"]

#: Entries re-verified by `doctor --quick`.
QUICK_SAMPLE = 200
#: How many of the entries at fault a finding names.
SHOWN = 5


class _Report:
    """The findings so far, each PASS, ATTENTION or FAIL with its reason."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def add(
        self,
        check: str,
        ok: bool,
        good: str,
        bad: str,
        *,
        fail: bool = False,
        next_step: NextStep | None = None,
    ) -> None:
        """A PASS saying `good`, else an ATTENTION (a FAIL with `fail`) saying `bad`, with
        `next_step` to put it right."""
        if ok:
            self.results.append(CheckResult(check, Outcome.PASS, good))
        else:
            outcome = Outcome.FAIL if fail else Outcome.ATTENTION
            self.results.append(CheckResult(check, outcome, bad, next_step=next_step))

    def faults(
        self,
        check: str,
        good: str,
        faults: Sequence[str],
        what: str,
        *,
        next_step: NextStep | None = None,
    ) -> None:
        """A FAIL naming the first few `faults` (one line each: an id and what is wrong)."""
        shown = "; ".join(faults[:SHOWN]) + ("; ..." if len(faults) > SHOWN else "")
        bad = f"{len(faults)} {what}: {shown}"
        self.add(check, not faults, good, bad, fail=True, next_step=next_step)

    @property
    def failed(self) -> bool:
        return any(r.outcome is Outcome.FAIL for r in self.results)


def doctor(
    ledger: Ledger, *, quick: bool = False, progress: Progress | None = None
) -> list[CheckResult]:
    """Every finding about the workspace, each with what to do about it."""
    report = _Report()
    latest = _setup(ledger, report)
    # Without the chain the mirror is still worth re-checking; anything else at fault stops.
    if any(r.outcome is Outcome.FAIL and r.check != "chain" for r in report.results):
        return report.results
    if latest is not None:
        _work(ledger, report, latest)
    with ledger.mirror.transaction() as conn:
        everyone = list(conn.execute(select(schema.entries.c.entry_id)).scalars())
        sample = random.sample(everyone, min(QUICK_SAMPLE, len(everyone))) if quick else None
        rows = _entry_rows(conn, sample)
        checked = f"{len(rows)} of {len(everyone)}" if quick else f"all {len(rows)}"
        _entries(report, rows, checked, progress)
        _proofs(report, ledger.mirror, conn, sample, checked)
        _projections(report, conn, rows, sample, checked)
        anchors = _anchor_rows(conn)
    if latest is None:
        synced = ledger.mirror.get_sync_state("last_synced_block")
        report.add(
            "chain anchors",
            False,
            "",
            f"{len(anchors)} anchors not re-checked: the chain cannot be reached, so they "
            f"hold as of block {synced if synced is not None else 'none (never synced)'}",
        )
    else:
        _anchors(ledger, report, anchors, latest)
    return report.results


# -- set-up and pending work ------------------------------------------------------------


def _setup(ledger: Ledger, report: _Report) -> int | None:
    """Set-up checks; the chain's latest block, or None when the chain cannot be reached."""
    loose = ledger.workspace.loose_permissions()
    report.add(
        "permissions",
        not loose,
        "workspace, keys, config and mirror open to their owner only",
        f"open to others: {', '.join(loose)}; run `chmod 700` on the folders and "
        "`chmod 600` on the files",
    )
    mirror = ledger.mirror
    try:
        revision, head = mirror.current_revision(), mirror.head_revision()
    except LabourLedgerError as exc:
        report.add("mirror", False, "", str(exc), fail=True, next_step=exc.next_step)
    else:
        report.add(
            "mirror",
            revision == head,
            f"{mirror.display_url} at revision {head}",
            f"at revision {revision}, the package has {head}",
            fail=True,  # nothing else reads a mirror at another revision
            next_step=NextStep.UPGRADE_DB,
        )
    try:
        chain = ledger.chain
        latest = chain.latest_block()
    except LabourLedgerError as exc:
        report.add("chain", False, "", str(exc), fail=True)
        return None
    cfg = ledger.config.chain
    report.add("chain", True, f"{chain.label}: chain {chain.chain_id}, block {latest}", "")
    report.add(
        "contract",
        bool(cfg.contract),
        f"LabourLedger at {cfg.contract}",
        "none configured",
        fail=True,
        next_step=NextStep.DEPLOY_CONTRACT,
    )
    return latest


def _work(ledger: Ledger, report: _Report, latest: int) -> None:
    mirror = ledger.mirror
    counts = mirror.counts()
    unfinished = mirror.unfinished_anchors()
    report.add(
        "anchors",
        not unfinished,
        "no batch left half-sent",
        f"{len(unfinished)} batch(es) prepared but not confirmed",
        next_step=NextStep.ANCHOR,
    )
    report.add(
        "pending",
        not counts["pending"],
        "every entry is anchored",
        f"{counts['pending']} entries pending",
        next_step=NextStep.ANCHOR,
    )
    synced = mirror.get_sync_state("last_synced_block")
    behind = latest - int(synced) if synced is not None else None
    report.add(
        "sync",
        behind is not None and behind <= REORG_WINDOW,
        f"synced to block {synced}",
        "never synced" if behind is None else f"{behind} blocks behind",
        next_step=NextStep.SYNC,
    )


# -- what the mirror holds ---------------------------------------------------------------


def _entry_rows(conn: Connection, ids: Sequence[str] | None) -> list[dict[str, Any]]:
    """Stored entries as rows, in recording order: all, or those of `ids`."""
    e = schema.entries
    query = _stored(e, (*ENTRY_FIELDS, "chain_id", "contract")).order_by(e.c.seq)
    if ids is not None:
        query = query.where(e.c.entry_id.in_(ids))
    return _parsed(e, conn.execute(query).mappings())


def _stored(table: Table, names: Iterable[str] | None = None) -> Select[Any]:
    """A select of `table`'s columns (those `names`, or all), JSON ones as the text stored:
    parsed by `_parsed`, so text that does not parse is one row's fault (a body left a
    string, which no entry validates with), not the end of the check."""
    columns = list(table.columns) if names is None else [table.c[n] for n in names]
    return select(
        *(type_coerce(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in columns)
    )


def _parsed(table: Table, rows: Iterable[RowMapping]) -> list[dict[str, Any]]:
    """Rows of `table` read with `_stored`, their JSON text parsed where it parses."""
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    return [{k: _json(v) if k in json_columns else v for k, v in r.items()} for r in rows]


def _json(text: Any) -> Any:
    """Stored JSON text parsed (a driver may have parsed it already), or left as it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _entries(
    report: _Report, rows: Sequence[Mapping[str, Any]], checked: str, progress: Progress | None
) -> None:
    """Each entry re-verified as `import` would: hash, id, signature, schema, subject, refs."""
    faults = []
    for done, row in enumerate(rows, 1):
        try:
            entry = SignedEntry.model_validate({k: row[k] for k in ENTRY_FIELDS})
            domain = Domain(chain_id=row["chain_id"], verifying_contract=row["contract"])
            problems = shape_problems(entry, domain)
        except (ValidationError, ValueError) as exc:
            problems = [f"unreadable ({' '.join(str(exc).split())[:120]})"]
        faults += [f"{row['entry_id']}: {p}" for p in problems[:1]]
        if progress and (done % 500 == 0 or done == len(rows)):
            progress(done, len(rows))
    report.faults(
        "entries",
        f"{checked} entries re-verified: content hash, id, signature, schema",
        faults,
        "entries altered in the mirror",
    )


def _proofs(
    report: _Report, mirror: Mirror, conn: Connection, ids: Sequence[str] | None, checked: str
) -> None:
    """Each proof against its stored root; each sent anchor holding a proof per leaf."""
    p, a, r = schema.proofs, schema.anchors, schema.leaf_runs
    faults = []
    rows = mirror.proof_rows(conn, ids, checked=False)  # judged here, each row a fault
    for row in rows:
        try:
            valid = verify_inclusion(
                _bytes(row["entry_id"]),
                row["leaf_index"],
                row["size"],
                [_bytes(h) for h in row["path"]],
                _bytes(row["root"]),
            )
        except (ValueError, TypeError):
            valid = False
        if not valid:
            faults.append(f"{row['entry_id']}: proof does not lead to root {row['root']}")
    held: Counter[str] = Counter()
    for root, n in conn.execute(select(p.c.root, func.count()).group_by(p.c.root)):
        held[root] += int(n)
    # A run's entries counted as they are held, not as the run claims.
    in_runs = member_rows(r.c.root).subquery()
    counted = select(in_runs.c.root, func.count()).group_by(in_runs.c.root)
    for root, n in conn.execute(counted):
        held[root] += int(n)
    for root, size in conn.execute(select(a.c.root, a.c.size).where(a.c.status != "orphaned")):
        if held[root] != size:
            faults.append(f"anchor {root}: {size} leaves, {held[root]} proofs stored")
    report.faults(
        "proofs",
        f"proofs of {checked} entries lead to their anchored roots; no proof missing",
        faults,
        "proofs altered or missing",
    )


def _projection_tables() -> list[tuple[Table, str]]:
    """Tables derived from entry bodies, each with its column naming the entry."""
    derived = []
    for table in schema.metadata.sorted_tables:
        if table is schema.proofs:  # checked on its own, against the anchored roots
            continue
        for column in table.columns:
            if any(fk.target_fullname == "entries.entry_id" for fk in column.foreign_keys):
                derived.append((table, column.name))
    return derived


def _projections(
    report: _Report,
    conn: Connection,
    rows: Sequence[Mapping[str, Any]],
    ids: Sequence[str] | None,
    checked: str,
) -> None:
    """Every projection row equal to the one its entry's signed body gives, and no other."""
    expected: dict[str, Counter[tuple[Any, ...]]] = {}
    tables = _projection_tables()
    columns = {table.name: [c.name for c in table.columns] for table, _ in tables}

    def key(table: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(_comparable(row.get(c)) for c in columns[table])

    for row in rows:
        # Refs that are not a list are already an "entries" fault: no row derives from them.
        listed = row["refs"] if isinstance(row["refs"], list) else []
        refs = [{"entry_id": row["entry_id"], "ref": r} for r in dict.fromkeys(listed)]
        derived = [(schema.entry_refs, r) for r in refs]
        # A body too broken to project is already an "entries" fault.
        with contextlib.suppress(KeyError, TypeError, AttributeError):
            derived += rows_for(row["entry_id"], row["kind"], row["body"], row["subject"])
        for table, values in derived:
            expected.setdefault(table.name, Counter())[key(table.name, values)] += 1
    faults = []
    for table, owner in tables:
        query = _stored(table)
        if ids is not None:
            query = query.where(table.c[owner].in_(ids))
        stored = Counter(key(table.name, r) for r in _parsed(table, conn.execute(query).mappings()))
        want = expected.get(table.name, Counter())
        position = columns[table.name].index(owner)
        for extra in sorted(stored - want, key=repr):
            faults.append(f"{table.name} row of {extra[position]} is not what its entry says")
        for lost in sorted(want - stored, key=repr):
            faults.append(f"{table.name} row of {lost[position]} is missing")
    report.faults(
        "projections",
        f"projection rows of {checked} entries match their signed bodies",
        faults,
        "projection rows differ from the signed entries",
    )


def _comparable(value: Any) -> Any:
    """A hashable stand-in for a column value (JSON lists and objects as text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


# -- the chain ---------------------------------------------------------------------------


def _anchor_rows(conn: Connection) -> list[dict[str, Any]]:
    a = schema.anchors
    query = select(a).where(a.c.status.in_(("submitted", "final"))).order_by(a.c.block_number)
    return [dict(r) for r in conn.execute(query).mappings()]


def _anchors(
    ledger: Ledger, report: _Report, anchors: Iterable[Mapping[str, Any]], latest: int
) -> None:
    """Each anchor the mirror holds as sent: a row of the types its columns hold, on chain
    with its size, in its block at its time, and that block still the chain's (one contract
    call and one block per anchor)."""
    chain = ledger.chain
    faults = []
    count = 0
    for anchor in anchors:
        count += 1
        root, number = anchor["root"], anchor["block_number"]
        if (problem := row_problem("anchors", anchor)) is not None:
            faults.append(f"{root}: {problem}")
            continue
        record = chain.anchor_of(_bytes(root))
        if record is None:
            faults.append(f"{root}: not anchored on chain")
        elif (record.size, record.block_number, record.timestamp) != (
            anchor["size"],
            number,
            anchor["timestamp"],
        ):
            faults.append(
                f"{root}: chain has {record.size} leaves in block {record.block_number} at "
                f"{record.timestamp}, the mirror {anchor['size']} in block {number} at "
                f"{anchor['timestamp']}"
            )
        elif number > latest or "0x" + chain.block_hash(number).hex() != anchor["block_hash"]:
            faults.append(f"{root}: block {number} is no longer the one it was anchored in")
    report.faults(
        "chain anchors",
        f"all {count} anchors found on chain, in unchanged blocks",
        faults,
        "anchors the chain does not confirm (as after a reorg)",
        next_step=NextStep.SYNC,
    )
