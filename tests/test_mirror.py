"""The SQL mirror on SQLite and PostgreSQL: schema, transactional ingest, anchors, reorgs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import delete, insert, inspect, select

from labourledger.envelope import Domain, sign_entry
from labourledger.errors import DatabaseUnavailable, InputError, MirrorBehind
from labourledger.merkle import MerkleTree, verify_inclusion
from labourledger.mirror import Mirror, schema
from labourledger.mirror.projections import rows_for
from labourledger.mirror.runs import runs_of, uncovered
from labourledger.mirror.schema import metadata
from labourledger.mirror.store import SCHEMA_REVISION

pytestmark = pytest.mark.integration

DOMAIN = Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
BRAND = Account.create()


def _facility(i: int) -> dict[str, Any]:
    body = {"name": f"Mill {i}", "country": "BD", "address": f"Road {i}", "tier": 2}
    return _entry("facility", body, i)


def _entry(kind: str, body: dict[str, Any], i: int) -> dict[str, Any]:
    entry = sign_entry(
        private_key=BRAND.key,
        domain=DOMAIN,
        kind=kind,
        subject=keccak(text=f"{kind} {i}"),
        body=body,
        issued_at=1_700_000_000 + i,
    )
    data = entry.to_json_dict()
    data.pop("issued_at_iso")
    return data | {"chain_id": DOMAIN.chain_id, "contract": DOMAIN.verifying_contract}


@pytest.fixture
def mirror(mirror_url: str) -> Mirror:
    m = Mirror(mirror_url)
    m.upgrade()
    return m


def test_migrations_create_exactly_the_declared_schema(mirror: Mirror) -> None:
    assert mirror.current_revision() == mirror.head_revision() == SCHEMA_REVISION
    with mirror.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_mirror_of_the_first_release_upgrades_with_its_entries(mirror_url: str) -> None:
    old = Mirror(mirror_url)
    entry = _facility(1)
    with old.transaction(schema_check=False) as conn:
        command.upgrade(old._alembic(conn), "0001")
        # Written as that release wrote it: today's add_entry refuses an old schema.
        conn.execute(insert(schema.entries).values(entry | {"source": "local"}))
        [(table, row)] = rows_for(entry["entry_id"], "facility", entry["body"], entry["subject"])
        conn.execute(insert(table).values(row))
    assert old.current_revision() == "0001"
    # The library says what is wrong; the CLI adds "run `labourledger db upgrade`".
    with pytest.raises(MirrorBehind, match=r"at schema revision 0001, this labourledger needs"):
        old.timeline(entry["subject"])
    with pytest.raises(InputError, match="revision 0001"), old.transaction() as conn:
        old.add_entry(conn, _facility(2), source="local")
    assert Mirror(mirror_url).upgrade() == SCHEMA_REVISION
    with old.engine.connect() as conn:
        indexes = {i["name"] for i in inspect(conn).get_indexes("entries")}
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert "ix_entries_subject_kind" in indexes and "ix_entries_subject" not in indexes
    subject = _facility(1)["subject"]
    assert [r["kind"] for r in old.timeline(subject, "facility")] == ["facility"]


def test_upgrading_to_0003_draws_the_edges_of_entries_already_stored(mirror: Mirror) -> None:
    ids = ["0x" + keccak(text=name).hex() for name in ("out", "in-1", "in-2", "mill", "farm")]
    out, in1, in2, mill, farm = ids
    made = {"output": out, "inputs": [in1, in2], "facility": mill, "date": "2026-05-01"}
    link = {"supplier": farm, "buyer": mill, "material": "cotton", "valid_from": "2026-01-01"}
    with mirror.transaction() as conn:
        mirror.add_entry(conn, _entry("transformation", made, 1), source="local")
        mirror.add_entry(conn, _entry("supply_link", link, 2), source="local")

    def edges() -> list[tuple[Any, ...]]:
        with mirror.engine.connect() as conn:
            rows = conn.execute(select(schema.edges).order_by(schema.edges.c.child))
            return [tuple(r) for r in rows]

    projected = edges()
    assert {(r[2], r[1], r[3], r[4]) for r in projected} == {
        (out, in1, "batch", None),
        (out, in2, "batch", None),
        (mill, farm, "facility", "2026-01-01"),
    }
    with mirror.transaction(schema_check=False) as conn:
        command.downgrade(mirror._alembic(conn), "0002")
    assert mirror.current_revision() == "0002"
    assert mirror.upgrade() == SCHEMA_REVISION  # through 0003, up to the head
    assert edges() == projected


def test_entry_and_projection_stored_together_once(mirror: Mirror) -> None:
    entry = _facility(1)
    with mirror.transaction() as conn:
        assert mirror.add_entry(conn, entry, source="local")
        assert not mirror.add_entry(conn, entry, source="local")
    stored = mirror.get_entry(entry["entry_id"])
    assert stored is not None
    assert stored["body"] == entry["body"] and stored["refs"] == entry["refs"]
    facility = mirror.facility(entry["subject"])
    assert facility is not None
    assert (facility["name"], facility["country"], facility["tier"]) == ("Mill 1", "BD", 2)
    assert [f["entry_id"] for f in mirror.registrations()] == [entry["entry_id"]]
    assert [f["entry_id"] for f in mirror.registrations([entry["subject"].upper()])] == [
        entry["entry_id"]
    ]
    assert mirror.registrations(["0x" + "00" * 32]) == []
    assert mirror.counts()["pending"] == 1


def test_batched_reads_group_by_key_across_chunks(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Mirror, "in_chunk", 2)  # several IN queries
    entries = [_facility(i) for i in range(5)]
    with mirror.transaction() as conn:
        mirror.add_entries(conn, entries, source="local")
    subjects = [e["subject"].upper().replace("0X", "0x") for e in entries]
    found = mirror.timelines([*subjects, "0x" + "00" * 32], "facility")
    assert list(found) == [e["subject"] for e in entries]  # recording order, unknown absent
    assert [[r["entry_id"] for r in rows] for rows in found.values()] == [
        [e["entry_id"] for e in entries[i : i + 1]] for i in range(5)
    ]
    assert mirror.timelines(subjects, "audit") == {}
    ids = [e["entry_id"] for e in entries]
    assert sorted(mirror.get_entries([*reversed(ids), ids[0].upper()])) == sorted(ids)
    assert mirror.proofs_for(ids) == {}  # nothing anchored yet
    facilities = mirror.lookup("facilities", "facility_id", subjects)
    assert facilities == {}  # lookup compares values as given: ids are stored lower-case
    facilities = mirror.lookup("facilities", "facility_id", [e["subject"] for e in entries])
    assert [f["name"] for f in facilities.values()] == [f"Mill {i}" for i in range(5)]


def test_failure_midway_leaves_nothing(mirror: Mirror) -> None:
    entries = [_facility(i) for i in range(5)]
    broken = dict(entries[3])
    broken["body"] = {"name": "no country"}  # the projection needs country: fails on row 4
    with pytest.raises(KeyError), mirror.transaction() as conn:
        mirror.add_entries(conn, [*entries[:3], broken, entries[4]], source="local")
    assert mirror.counts()["entries"] == 0
    assert mirror.registrations() == []


def test_anchor_lifecycle_and_reorg_rewind(mirror: Mirror) -> None:
    entries = [_facility(i) for i in range(3)]
    tree, ids = _prepared(mirror, entries)
    root = "0x" + tree.root.hex()
    assert ids == [e["entry_id"] for e in entries]  # recording order = leaf order
    assert mirror.pending_entries() == []  # in a prepared batch: not re-batched
    assert mirror.entry_status(ids[0]) == "pending"  # but not on chain yet
    assert [a["root"] for a in mirror.unfinished_anchors()] == [root]

    with mirror.transaction() as conn:
        mirror.mark_anchor(conn, root, "submitted", block_number=10, tx_hash="0x" + "cd" * 32)
        mirror.record_block(conn, 10, "0x" + "10" * 32)
    assert mirror.entry_status(ids[0]) == "submitted"
    proof = mirror.proof_for(ids[0])
    assert proof is not None
    path = ["0x" + h.hex() for h in tree.inclusion_proof(0)]
    assert (proof["leaf_index"], proof["tree_size"], proof["path"]) == (0, 3, path)
    with mirror.transaction() as conn:
        assert mirror.finalise_anchors(conn, 9) == 0
        assert mirror.finalise_anchors(conn, 10) == 1
    assert mirror.entry_status(ids[2]) == "final"
    assert mirror.counts()["anchored"] == 3

    with mirror.transaction() as conn:
        assert mirror.rewind(conn, 10, keep_roots=set()) == 1
    assert [e.entry_id for e in mirror.pending_entries()] == ids
    assert mirror.get_anchor(root)["status"] == "orphaned"  # type: ignore[index]
    assert mirror.blocks_since(0) == []


def test_sync_state_round_trip(mirror: Mirror) -> None:
    assert mirror.get_sync_state("last_synced_block") is None
    with mirror.transaction() as conn:
        mirror.set_sync_state(conn, "last_synced_block", "5")
        mirror.set_sync_state(conn, "last_synced_block", "7")
    assert mirror.get_sync_state("last_synced_block") == "7"


def test_empty_database_asks_for_db_upgrade(mirror_url: str) -> None:
    with pytest.raises(MirrorBehind, match="no labourledger tables"):
        Mirror(mirror_url).pending_entries()


def test_unreachable_database_is_reported_as_such() -> None:
    with pytest.raises(DatabaseUnavailable, match="unreachable") as raised:
        Mirror("postgresql://nobody:secret@127.0.0.1:1/none").check()
    # psycopg's text spans lines ("…refused\n\tIs the server running…"); the error does not.
    assert "\n" not in str(raised.value) and "\t" not in str(raised.value)
    assert "secret" not in Mirror("postgresql://nobody:secret@127.0.0.1:1/none").display_url


def test_a_damaged_mirror_file_or_another_database_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mirror.sqlite"
    made = Mirror(f"sqlite:///{path}")
    made.upgrade()
    made.engine.dispose()  # closed, so the file holds the whole database (no WAL beside it)
    whole = path.read_bytes()
    for damage in (b"not a database at all", whole[:100]):  # another file; cut short
        path.write_bytes(damage)
        with pytest.raises(DatabaseUnavailable, match=r"cannot be read .*restore it from a backup"):
            Mirror(f"sqlite:///{path}").pending_entries()
    with pytest.raises(InputError, match=r"runs on SQLite .* or PostgreSQL"):
        Mirror("mysql://root@127.0.0.1/test").check()


def test_upgrade_does_not_say_done_over_a_damaged_page(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite"
    made = Mirror(f"sqlite:///{path}")
    made.upgrade()
    with made.engine.connect() as conn:
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        root = conn.exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'facilities'"
        ).scalar()
    made.engine.dispose()
    assert made.upgrade() == made.head_revision()  # an intact file upgrades, and says so
    made.engine.dispose()
    with path.open("r+b") as file:  # one table's root page overwritten; the header intact
        file.seek(page_size * (root - 1))
        file.write(b"\x07" * 64)
    with pytest.raises(DatabaseUnavailable, match=r"is damaged \(.*Page \d+.*restore it"):
        Mirror(f"sqlite:///{path}").upgrade()


def _prepared(mirror: Mirror, entries: list[dict[str, Any]]) -> tuple[MerkleTree, list[str]]:
    """`entries` stored, then the pending ones prepared as one batch, as anchoring does: the
    tree and its leaves' ids, in the order they were read back as pending."""
    with mirror.transaction() as conn:
        mirror.add_entries(conn, entries, source="local")
    pending = mirror.pending_entries()
    ids = [e.entry_id for e in pending]
    tree = MerkleTree([bytes.fromhex(i[2:]) for i in ids])
    with mirror.transaction() as conn:
        mirror.prepare_anchor(
            conn,
            root="0x" + tree.root.hex(),
            size=len(ids),
            chain_id=1,
            contract=DOMAIN.verifying_contract,
            seqs=[e.seq for e in pending],
        )
    return tree, ids


def _anchored_here(mirror: Mirror, count: int) -> tuple[MerkleTree, list[str]]:
    """`count` facilities in one batch prepared as anchoring does, then mined."""
    tree, ids = _prepared(mirror, [_facility(i) for i in range(count)])
    with mirror.transaction() as conn:
        root = "0x" + tree.root.hex()
        mirror.mark_anchor(conn, root, "submitted", block_number=10, tx_hash="0x" + "cd" * 32)
    return tree, ids


def _stored(mirror: Mirror) -> tuple[list[Any], list[tuple[int, int, str, int]]]:
    """The `proofs` rows' paths, and the leaf runs (first_seq, last_seq, root, first_leaf)."""
    r = schema.leaf_runs
    with mirror.engine.connect() as conn:
        paths = list(conn.execute(select(schema.proofs.c.path)).scalars())
        runs = conn.execute(
            select(r.c.first_seq, r.c.last_seq, r.c.root, r.c.first_leaf).order_by(r.c.first_seq)
        )
        return paths, [tuple(run) for run in runs]


def test_an_anchor_made_here_stores_one_run_and_reads_its_trees(mirror: Mirror) -> None:
    tree, ids = _anchored_here(mirror, 37)
    root = "0x" + tree.root.hex()
    paths, [(first, last, run_root, first_leaf)] = _stored(mirror)
    assert (paths, last - first, run_root, first_leaf) == ([], 36, root, 0)
    expected = {
        entry_id: ["0x" + h.hex() for h in tree.inclusion_proof(i)]
        for i, entry_id in enumerate(ids)
    }
    # Read once with the tree rebuilt from the run, once by a mirror that kept it.
    for reader in (Mirror(mirror.url), mirror, mirror):
        found = reader.proofs_for(ids)
        assert {i: f["path"] for i, f in found.items()} == expected
        assert [found[i]["leaf_index"] for i in ids] == list(range(37))
    for i, entry_id in enumerate(ids):
        path = [bytes.fromhex(h[2:]) for h in expected[entry_id]]
        assert verify_inclusion(bytes.fromhex(entry_id[2:]), i, 37, path, tree.root)
    assert mirror.proven([*ids, "0x" + "00" * 32]) == set(ids)
    assert mirror.anchor_members(root) == [
        (e, "facility", _facility(i)["subject"]) for i, e in enumerate(ids)
    ]
    assert mirror.counts()["anchored"] == 37


@pytest.mark.parametrize("alteration", ["deleted", "moved"])
def test_leaves_that_do_not_rebuild_the_root_fail_closed(mirror: Mirror, alteration: str) -> None:
    tree, ids = _anchored_here(mirror, 9)
    _, [(first, last, root, _)] = _stored(mirror)
    r = schema.leaf_runs
    # The run split around the fifth entry: left out, or placed one leaf further on.
    split = [(first, first + 3, 0), (first + 5, last, 5)]
    if alteration == "moved":
        split.append((first + 4, first + 4, 5))
    with mirror.transaction() as conn:
        conn.execute(delete(r))
        conn.execute(
            insert(r),
            [{"first_seq": f, "last_seq": t, "root": root, "first_leaf": n} for f, t, n in split],
        )
    found = Mirror(mirror.url).proofs_for(ids)
    assert len(found) == (8 if alteration == "deleted" else 9)
    for i, entry_id in enumerate(ids):
        if entry_id in found:
            assert found[entry_id]["path"] == []
            leaf = bytes.fromhex(entry_id[2:])
            assert not verify_inclusion(leaf, i, 9, [], tree.root)


def test_a_batch_breaks_into_runs_around_an_entry_anchored_elsewhere(mirror: Mirror) -> None:
    entries = [_facility(i) for i in range(7)]
    carried = entries[3]["entry_id"]
    with mirror.transaction() as conn:
        mirror.add_entries(conn, entries[:3], source="local")
        mirror.add_entries(conn, [entries[3]], source="import")
        mirror.record_chain_anchor(
            conn, root="0x" + "ab" * 32, size=4, status="final", chain_id=1,
            contract=DOMAIN.verifying_contract, block_number=3,
        )  # fmt: skip
        mirror.add_proof(conn, carried, "0x" + "ab" * 32, 2, ["0x" + "01" * 32])
    tree, ids = _prepared(mirror, entries[4:])
    assert ids == [e["entry_id"] for e in entries if e["entry_id"] != carried]
    _, runs = _stored(mirror)
    first = runs[0][0]
    assert [(f - first, t - first, n) for f, t, _, n in runs] == [(0, 2, 0), (4, 6, 3)]
    assert mirror.pending_entries() == []
    assert mirror.proven([carried, *ids]) == {carried, *ids}
    found = mirror.proofs_for([carried, *ids])
    assert [found[i]["leaf_index"] for i in ids] == list(range(6))
    assert [found[i]["path"] for i in ids] == [
        ["0x" + h.hex() for h in tree.inclusion_proof(n)] for n in range(6)
    ]
    assert (found[carried]["leaf_index"], found[carried]["path"]) == (2, ["0x" + "01" * 32])


def test_a_carried_path_is_read_as_stored(mirror: Mirror) -> None:
    entry = _facility(1)
    carried = ["0x" + "01" * 32, "0x" + "02" * 32]
    root = "0x" + "ab" * 32
    with mirror.transaction() as conn:
        mirror.add_entries(conn, [entry], source="import")
        mirror.record_chain_anchor(
            conn,
            root=root,
            size=4,
            status="submitted",
            chain_id=1,
            contract=DOMAIN.verifying_contract,
            block_number=3,
        )
        mirror.add_proof(conn, entry["entry_id"], root, 2, carried)
    found = mirror.proof_for(entry["entry_id"])
    assert found is not None
    assert (found["leaf_index"], found["tree_size"], found["path"]) == (2, 4, carried)


def test_upgrading_to_0005_keeps_stored_paths_and_downgrading_stores_derived_ones(
    mirror_url: str,
) -> None:
    old = Mirror(mirror_url)
    entries = [_facility(i) for i in range(5)]
    ids = [e["entry_id"] for e in entries]
    old_tree = MerkleTree([bytes.fromhex(i[2:]) for i in ids[:3]])
    old_root = "0x" + old_tree.root.hex()
    stored = {
        i: ["0x" + h.hex() for h in old_tree.inclusion_proof(n)] for n, i in enumerate(ids[:3])
    }
    with old.transaction(schema_check=False) as conn:
        command.upgrade(old._alembic(conn), "0004")
        # As 0004's code stored an anchor: a path on every row.
        conn.execute(insert(schema.entries), [e | {"source": "local"} for e in entries])
        conn.execute(
            insert(schema.anchors).values(
                root=old_root,
                size=3,
                status="final",
                chain_id=1,
                contract=DOMAIN.verifying_contract,
                block_number=1,
            )
        )
        conn.execute(
            insert(schema.proofs),
            [
                {"entry_id": i, "root": old_root, "leaf_index": n, "path": stored[i]}
                for n, i in enumerate(ids[:3])
            ],
        )
    assert Mirror(mirror_url).upgrade() == SCHEMA_REVISION
    mirror = Mirror(mirror_url)
    assert {i: f["path"] for i, f in mirror.proofs_for(ids).items()} == stored
    new_tree = MerkleTree([bytes.fromhex(i[2:]) for i in ids[3:]])
    pending = mirror.pending_entries()
    assert [e.entry_id for e in pending] == ids[3:]
    with mirror.transaction() as conn:
        mirror.prepare_anchor(
            conn,
            root="0x" + new_tree.root.hex(),
            size=2,
            chain_id=1,
            contract=DOMAIN.verifying_contract,
            seqs=[e.seq for e in pending],
        )
    with mirror.transaction(schema_check=False) as conn:
        command.downgrade(mirror._alembic(conn), "0004")
    derived = {
        i: ["0x" + h.hex() for h in new_tree.inclusion_proof(n)] for n, i in enumerate(ids[3:])
    }
    with mirror.engine.connect() as conn:
        rows = conn.execute(select(schema.proofs.c.entry_id, schema.proofs.c.path))
        assert dict(rows.all()) == stored | derived
    assert mirror.upgrade() == SCHEMA_REVISION


def test_upgrading_to_0006_turns_derived_rows_into_runs_and_downgrading_back(
    mirror_url: str,
) -> None:
    old = Mirror(mirror_url)
    entries = [_facility(i) for i in range(6)]
    ids = [e["entry_id"] for e in entries]
    # As 0005's code stored them: a batch of the first five without paths, in an order that
    # is not recording order (two runs), and the last entry with a carried path.
    order = [ids[0], ids[1], ids[3], ids[4], ids[2]]
    tree = MerkleTree([bytes.fromhex(i[2:]) for i in order])
    root, carried = "0x" + tree.root.hex(), ["0x" + "01" * 32]
    derived = [{"entry_id": i, "root": root, "leaf_index": n} for n, i in enumerate(order)]
    kept = {"entry_id": ids[5], "root": "0x" + "ab" * 32, "leaf_index": 1, "path": carried}
    with old.transaction(schema_check=False) as conn:
        command.upgrade(old._alembic(conn), "0005")
        conn.execute(insert(schema.entries), [e | {"source": "local"} for e in entries])
        for r, size in ((root, 5), ("0x" + "ab" * 32, 2)):
            conn.execute(
                insert(schema.anchors).values(
                    root=r, size=size, status="final", chain_id=1,
                    contract=DOMAIN.verifying_contract, block_number=1,
                )
            )  # fmt: skip
        conn.execute(insert(schema.proofs), derived)  # path NULL, not JSON null
        conn.execute(insert(schema.proofs), [kept])
    assert Mirror(mirror_url).upgrade() == SCHEMA_REVISION
    mirror = Mirror(mirror_url)
    paths, runs = _stored(mirror)
    assert paths == [carried]
    first = runs[0][0]
    assert [(f - first, t - first, n) for f, t, _, n in runs] == [(0, 1, 0), (2, 2, 4), (3, 4, 2)]
    found = mirror.proofs_for(ids)
    expected = {i: ["0x" + h.hex() for h in tree.inclusion_proof(n)] for n, i in enumerate(order)}
    assert {i: f["path"] for i, f in found.items()} == expected | {ids[5]: carried}
    assert mirror.pending_entries() == []
    with mirror.transaction(schema_check=False) as conn:
        command.downgrade(mirror._alembic(conn), "0005")
    with mirror.engine.connect() as conn:
        p = schema.proofs
        back = conn.execute(select(p.c.entry_id, p.c.root, p.c.leaf_index, p.c.path))
        assert sorted(back.mappings(), key=lambda r: r["entry_id"]) == sorted(
            [r | {"path": None} for r in derived] + [kept], key=lambda r: r["entry_id"]
        )


def test_runs_of_consecutive_entries_and_the_gaps_between_them() -> None:
    # Leaf order need not be seq order: a run breaks wherever the next leaf's seq does not
    # follow the last one's.
    assert runs_of([5, 6, 7, 9, 3, 4]) == [(5, 7, 0), (9, 9, 3), (3, 4, 4)]
    assert uncovered([(1, 3), (4, 6), (9, 9)]) == [(None, 0), (7, 8), (10, None)]
    assert uncovered([]) == [(None, None)]
