"""Long operations report real progress, (done, total), as their work finishes; --verbose logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import PASSPHRASE, Cli, facility_rows, write_csv

from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

ROWS = 600  # more than one chunk of stored entries


class Calls:
    """A progress callback that remembers what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.seen.append((done, total))

    def assert_advances_to_the_end(self, total: int, *, steps: int) -> None:
        done = [d for d, _ in self.seen]
        assert {t for _, t in self.seen} == {total}
        assert done == sorted(done) and done[-1] == total
        assert len(set(done)) >= steps, self.seen  # steps of real work, not one jump


@pytest.fixture
def workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    cli.ok("init")
    return cli


def test_import_anchor_sync_and_doctor_report_their_work(workspace: Cli, tmp_path: Path) -> None:
    ledger = Ledger.open(workspace.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    csv = write_csv(tmp_path / "facilities.csv", facility_rows(ROWS))

    stored = Calls()
    ledger.import_facilities(csv, admin, progress=stored)
    stored.assert_advances_to_the_end(ROWS, steps=3)

    anchored = Calls()
    ledger.anchor(admin, progress=anchored)
    # Hashing the leaves, storing them (a row per run of entries: one statement), the
    # transaction: each seen apart.
    anchored.assert_advances_to_the_end(2 * ROWS + 1, steps=3)
    assert (ROWS, 2 * ROWS + 1) in anchored.seen

    synced = Calls()
    ledger.sync(progress=synced)
    [blocks] = {t for _, t in synced.seen}
    synced.assert_advances_to_the_end(blocks, steps=2)  # the start, then each chunk of blocks

    checked = Calls()
    ledger.doctor(progress=checked)
    [total] = {t for _, t in checked.seen}
    checked.assert_advances_to_the_end(total, steps=2)


def test_verbose_logs_what_the_library_does(workspace: Cli, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "facilities.csv", facility_rows(3))
    workspace.ok("supplier", "import", str(csv), "--key", "admin")
    code, _, err = workspace.run("anchor", "--key", "admin")
    assert code == 0 and "anchoring" not in err
    more = write_csv(tmp_path / "more.csv", facility_rows(3, start=3))
    workspace.ok("supplier", "import", str(more), "--key", "admin")
    code, _, err = workspace.run("anchor", "--key", "admin", "--verbose")
    assert code == 0 and "INFO" in err and "anchoring 3 entries under root" in err


def test_the_cli_progress_bar_runs_no_thread_of_its_own(tmp_path: Path) -> None:
    # A refresh thread would keep verification from forking its process pool
    # (labourledger.parallel forks only as the process's sole thread).
    import threading

    from labourledger.cli.context import State, progress_bar

    before = threading.active_count()
    with progress_bar(State(workspace=tmp_path), "checking") as report:
        for done in range(1, 4):
            report(done, 3)
            assert threading.active_count() == before
