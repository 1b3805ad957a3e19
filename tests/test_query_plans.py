"""The mirror's hot queries keep to their indexes whatever the planner's statistics say.

Plans, not timings: each test captures the statement the mirror really runs and asks the
database how it would run it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from labourledger.mirror import Mirror

pytestmark = pytest.mark.integration


@contextmanager
def captured(mirror: Mirror, marker: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (SQL and driver parameters) containing `marker` the mirror runs."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if marker in sql:
            seen.append((sql, params))

    event.listen(mirror.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(mirror.engine, "before_cursor_execute", keep)


def _claim_edges(rows: int) -> Callable[[Any], None]:
    """Statistics as ANALYZE writes them for an `edges` table of `rows` rows, ten edges to a
    parent (the planner reads sqlite_stat1 again on `ANALYZE sqlite_schema`)."""

    def claim(conn: Any) -> None:
        conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'edges'")
        for index, stat in (("ix_edges_parent", f"{rows} 10"), ("sqlite_autoindex_edges_1",
                                                                f"{rows} 1 1")):  # fmt: skip
            conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('edges', ?, ?)", (index, stat))
        conn.exec_driver_sql("ANALYZE sqlite_schema")

    return claim


@pytest.mark.parametrize("edges", [1_000, 199_000, 50_000_000])
def test_each_step_of_the_walk_searches_the_edges_index(tmp_path: Path, edges: int) -> None:
    mirror = Mirror(f"sqlite:///{tmp_path / 'mirror.sqlite'}")
    mirror.upgrade()
    mirror.analyze()  # creates sqlite_stat1
    with captured(mirror, "WITH RECURSIVE") as seen:
        mirror.walk_upstream("0x" + "ab" * 32, on="2026-05-01", counted=lambda ids: {})
    [(sql, params)] = seen
    with mirror.engine.connect() as conn:
        _claim_edges(edges)(conn)
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
        conn.commit()
    step = plan[plan.index("RECURSIVE STEP") :]
    assert "SEARCH e USING INDEX ix_edges_parent (parent=?)" in step, plan
    # A scan or a Bloom filter would read every edge at each step of the walk.
    assert not [p for p in plan if p.startswith(("SCAN e", "BLOOM FILTER ON e"))], plan


def test_lookups_search_the_index_on_postgresql(pg_url: str) -> None:
    # As many registrations as the benchmark's mirror, where an IN list of 500 ids had a
    # parallel sequential scan of every facility (a smaller table is best scanned).
    mirror = Mirror(pg_url)
    mirror.upgrade()
    registered = "'0x' || md5('entry ' || i) || md5('e ' || i)"
    facility = "'0x' || md5('facility ' || i) || md5('f ' || i)"
    with mirror.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO entries (entry_id, kind, issuer, subject, refs, issued_at, "
            "schema_version, content_hash, signature, body, salt, chain_id, contract, source) "
            f"SELECT {registered}, 'facility', '0x', {facility}, '[]', 0, 1, '0x', '0x', '{{}}', "
            "'0x', 1, '0x', 'local' FROM generate_series(1, 100000) i"
        )
        conn.exec_driver_sql(
            "INSERT INTO facilities (entry_id, facility_id, name, country, address, tier) "
            f"SELECT {registered}, {facility}, 'Mill', 'IN', 'Road', 2 "
            "FROM generate_series(1, 100000) i"
        )
        wanted = [str(f) for (f,) in conn.exec_driver_sql(
            f"SELECT {facility} FROM generate_series(1, 100000, 200) i"
        )]  # fmt: skip
    mirror.analyze()
    with captured(mirror, "FROM facilities") as seen:
        found = mirror.lookup("facilities", "facility_id", wanted)
    assert len(found) == len(wanted) == 500
    [(sql, params)] = seen
    with mirror.engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params))
    assert "Index Scan using ix_facilities_facility_id on facilities" in plan, plan
    assert "Seq Scan on facilities" not in plan, plan
