"""An anchor made here, stored as runs of entries: the leaves of a batch are entries read
back as pending in recording order (`entries.seq`), so each run of consecutive `seq` is a
run of consecutive leaves, and one `leaf_runs` row stands for all of its entries.

A row per leaf cost 0.4 s of the 1.1 s an anchor of 100,000 entries took on SQLite (three
B-trees keyed by 66-character text, and their pages written at commit); a row per run
costs nothing measurable. An entry's run is the one starting at the greatest `first_seq`
at or below its `seq` (one index seek), provided the run reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true

from labourledger.mirror import schema

__all__ = ["GAPS_PER_QUERY", "gaps_test", "member_rows", "placed", "runs_of", "uncovered"]

#: Gaps between runs per pending query: a few hundred bound values, far under the limits.
GAPS_PER_QUERY = 200


def runs_of(seqs: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first_seq, last_seq, first_leaf) of each run of consecutive `seqs` (in leaf order)."""
    runs: list[tuple[int, int, int]] = []
    for leaf, seq in enumerate(seqs):
        if runs and seq == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], seq, runs[-1][2])
        else:
            runs.append((seq, seq, leaf))
    return runs


def placed(picked: Select[Any]) -> Select[Any]:
    """The columns of `picked` (a select of entries that includes seq and entry_id) with
    each entry's root, leaf_index and path: from its `proofs` row if it has one (a carried
    proof), else from its run (path NULL, derived when read); all three NULL if neither."""
    e, p, r = schema.entries, schema.proofs, schema.leaf_runs
    start = select(func.max(r.c.first_seq)).where(r.c.first_seq <= e.c.seq).scalar_subquery()
    found = picked.add_columns(start.label("run_start")).subquery()
    in_run = and_(r.c.first_seq == found.c.run_start, found.c.seq <= r.c.last_seq)
    return select(
        *(c for c in found.c if c.name != "run_start"),
        func.coalesce(p.c.root, r.c.root).label("root"),
        func.coalesce(p.c.leaf_index, r.c.first_leaf + found.c.seq - r.c.first_seq).label(
            "leaf_index"
        ),
        p.c.path,
    ).select_from(found.outerjoin(p, p.c.entry_id == found.c.entry_id).outerjoin(r, in_run))


def member_rows(*columns: Any) -> Select[Any]:
    """`columns` (of `entries` and `leaf_runs`) with the leaf_index of every entry in a run,
    a run's entries read as a range of `seq`; callers pick the runs (by root, say)."""
    e, r = schema.entries, schema.leaf_runs
    leaf_index = (r.c.first_leaf + e.c.seq - r.c.first_seq).label("leaf_index")
    return select(*columns, leaf_index).join(
        r, and_(e.c.seq >= r.c.first_seq, e.c.seq <= r.c.last_seq)
    )


def uncovered(runs: Sequence[tuple[int, int]]) -> list[tuple[int | None, int | None]]:
    """The ranges of `seq` (bounds inclusive, None for open) outside every run of `runs`
    ((first_seq, last_seq), sorted by first_seq)."""
    gaps: list[tuple[int | None, int | None]] = []
    low: int | None = None
    for first, last in runs:
        if low is None or first > low:
            gaps.append((low, first - 1))
        low = last + 1 if low is None else max(low, last + 1)
    gaps.append((low, None))
    return gaps


def gaps_test(gaps: Sequence[tuple[int | None, int | None]]) -> ColumnElement[bool]:
    """`entries.seq` inside one of `gaps` (from `uncovered`)."""
    seq = schema.entries.c.seq
    tests = []
    for low, high in gaps:
        checks = []
        if low is not None:
            checks.append(seq >= low)
        if high is not None:
            checks.append(seq <= high)
        tests.append(and_(*checks) if checks else true())
    return or_(*tests)
