"""Issue 16's goals: each real path measured against the raw operation it wraps, in one run.

Every row runs what a user runs (the library's `Ledger` methods, or the CLI in a
subprocess where memory and output size are the point) and, in the same run, the
raw operation that bounds it from below. Ratios hold better than times on a busy
machine; each `Goal` says which of the two its goal applies to.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import coincurve
import provenance
from eth_utils import keccak

from labourledger import parallel
from labourledger.envelope import SignedEntry
from labourledger.facility_csv import facility_body_from_row
from labourledger.gcpause import gc_paused
from labourledger.ledger import Ledger
from labourledger.merkle import MerkleTree

PASS = "benchmark passphrase"


@dataclass
class Goal:
    """One row of issue 16's table: the measured `value`, the raw `reference` measured in the
    same run, their `ratio`, and the `goal` that `compares` (ratio or value) must meet."""

    value: float
    unit: str
    goal: float
    op: str  # "<=" or ">="
    compares: str = "ratio"  # or "value"
    reference: float | None = None
    ratio: float | None = None
    met: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        measured = self.ratio if self.compares == "ratio" else self.value
        assert measured is not None
        self.met = measured <= self.goal if self.op == "<=" else measured >= self.goal

    def as_json(self) -> dict[str, Any]:
        """The row with its numbers rounded for reading."""
        data = asdict(self)
        for key in ("value", "reference", "ratio"):
            if isinstance(data[key], float):
                data[key] = round(data[key], 4)
        return data


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn: Callable[[], object], runs: int) -> float:
    """The median of `runs` timings of `fn`."""
    return statistics.median(timed(fn) for _ in range(runs))


def interleaved(runs: int, *measures: Callable[[], float]) -> list[float]:
    """The median of what each of `measures` returns (seconds it measured), run in turn
    `runs` times (A B A B ...): a slow spell of a shared machine, which here can stretch
    the same work by half for seconds at a time, then falls on a real path and its floor
    alike instead of on one of them, and their ratio holds."""
    seen: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for measure, times in zip(measures, seen, strict=True):
            times.append(measure())
    return [statistics.median(times) for times in seen]


def pinned(fn: Callable[[], object]) -> Callable[[], float]:
    """A measure of `fn` run on one core."""

    def measure() -> float:
        with one_core():
            return timed(fn)

    return measure


@contextmanager
def one_core() -> Iterator[None]:
    """Run the block on core 0 only: the single-core floors and per-entry rates."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _recoverable(entry: SignedEntry) -> tuple[bytes, bytes]:
    sig = bytes(entry.signature)
    return sig[:64] + bytes([sig[64] - 27]), bytes(entry.entry_id)


def raw_recover(pairs: Sequence[tuple[bytes, bytes]]) -> int:
    """libsecp256k1 public-key recovery of each (signature, digest), nothing else."""
    for sig, digest in pairs:
        coincurve.PublicKey.from_signature_and_message(sig, digest, hasher=None)
    return len(pairs)


def two_core_recovery(pairs: Sequence[tuple[bytes, bytes]]) -> Callable[[], float]:
    """A measure of recovering `pairs` split over two worker processes, started before
    timing (as a long-lived verifier would keep them).

    The pool lives for one measure only: a pool's handler threads, alive between measures,
    kept the verify measured in turn with this one from forking its workers (the library
    forks only a single-threaded process), so it ran serially."""
    half = len(pairs) // 2

    def measure() -> float:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(raw_recover, [pairs[:10], pairs[10:20]])
            return timed(lambda: pool.map(raw_recover, [pairs[:half], pairs[half:]]))

    return measure


# -- verify a large batch -------------------------------------------------------------


@dataclass
class VerifyLedger:
    """A workspace holding one anchored supply tree with its evidence."""

    path: Path
    batch: str
    facilities: int
    relied: list[SignedEntry]  # the tree's own entries and evidence: what verify checks
    total: int  # every entry in the mirror, filler included


def build_verify_ledger(
    path: Path, *, audits_each: int, entries_total: int, fanout: Sequence[int] = provenance.FANOUT
) -> VerifyLedger:
    """One tree, `audits_each` audits per facility, filler facilities up to `entries_total`,
    all stored and anchored on the embedded chain."""
    ledger = Ledger.init(path, admin_passphrase=PASS)
    who = provenance.parties(ledger, ledger.workspace.keys.unlock("admin", PASS))
    [tree] = provenance.build_trees(ledger, who, 1, fanout=fanout)
    relied = tree.entries + provenance.evidence(ledger, who, tree, audits_each=audits_each)
    filler = [
        ledger.sign("facility", facility_body_from_row(provenance.facility_row(n, 1)), who.brand)
        for n in range(9_000_000, 9_000_000 + entries_total - len(relied))
    ]
    ledger.store(relied + filler)
    ledger.anchor(who.brand)
    return VerifyLedger(path, tree.top, len(tree.facilities), relied, len(relied) + len(filler))


def verify_once(built: VerifyLedger, verdicts: set[str]) -> float:
    """Seconds of one `Ledger.verify` of the batch in a freshly opened ledger, its verdict
    added to `verdicts`."""
    if not parallel._can_fork():  # the library's own rule for forking its workers
        raise RuntimeError("verify would run serially here: this process has other threads")
    ledger = Ledger.open(built.path)
    report: dict[str, Any] = {}
    elapsed = timed(lambda: report.update(ledger.verify(built.batch)))
    verdicts.add(str(report["verdict"]))
    return elapsed


#: Runs the CLI as `python -m labourledger` does and, at exit, writes the process's own
#: peak RSS (VmHWM: this address space's high-water mark) to the file named by argv[1].
#: Not wait4's ru_maxrss: Linux carries that across fork and exec, so a CLI started from
#: this benchmark (itself several hundred MB by then) would report the benchmark's size.
_PEAK_RSS = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    kb = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    open(out, "w").write(kb)
atexit.register(peak)
sys.argv[0] = "labourledger"
runpy.run_module("labourledger", run_name="__main__", alter_sys=True)
"""


def verify_cli(built: VerifyLedger) -> tuple[float, int, int, str]:
    """`labourledger --json verify BATCH` in a subprocess: seconds, bytes of JSON on stdout,
    peak RSS in bytes of that process alone (see _PEAK_RSS), verdict."""
    import json

    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as stdout:
        peak = Path(scratch) / "peak-kb"
        argv = [sys.executable, "-c", _PEAK_RSS, str(peak), "--workspace", str(built.path),
                "--json", "verify", built.batch]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 4, 5):
            raise RuntimeError(f"labourledger verify exited with {proc.returncode}")
        size = stdout.tell()
        stdout.seek(0)
        verdict = str(json.load(stdout)["verdict"])
        rss = int(peak.read_text()) * 1024
    return elapsed, size, rss, verdict


def verify_goals(built: VerifyLedger, runs: int) -> dict[str, Goal]:
    """verify_large_vs_floor, verify_peak_rss_mb and verify_json_mb."""
    pairs = [_recoverable(e) for e in built.relied]
    verdicts: set[str] = set()
    elapsed, single, double = interleaved(
        runs,
        lambda: verify_once(built, verdicts),
        pinned(lambda: raw_recover(pairs)),
        two_core_recovery(pairs),
    )
    verdict = "/".join(sorted(verdicts))
    cli_s, size, rss, cli_verdict = verify_cli(built)
    where = {
        "facilities": built.facilities,
        "entries_in_mirror": built.total,
        "signatures_relied_on": len(built.relied),
        "verdict": verdict,
    }
    return {
        "verify_large_vs_floor": Goal(
            value=elapsed, reference=single, ratio=elapsed / single, unit="s", goal=2.0, op="<=",
            detail=where | {"two_core_floor_s": round(double, 3),
                            "ratio_vs_two_core_floor": round(elapsed / double, 3),
                            "runs": runs},
        ),
        "verify_peak_rss_mb": Goal(
            value=rss / 1e6, unit="MB", goal=200, op="<=", compares="value",
            detail=where | {"cli_seconds": round(cli_s, 2), "cli_verdict": cli_verdict},
        ),
        "verify_json_mb": Goal(
            value=size / 1e6, unit="MB", goal=5, op="<=", compares="value", detail=where
        ),
    }  # fmt: skip


# -- integrity per entry --------------------------------------------------------------


def integrity_goal(built: VerifyLedger, sample: int, runs: int) -> Goal:
    """`Ledger.check_integrity_many`, as verify runs it (hash, id, signature recovered and
    compared with the issuer, proof against the anchored root, signed before anchor), of
    entries of every kind in the batch, against raw recovery of the same signatures; both
    pinned to one core, so the process pool stays out of it."""
    ledger = Ledger.open(built.path)
    step = max(1, len(built.relied) // sample)
    ids = ["0x" + e.entry_id.hex() for e in built.relied[::step][:sample]]
    entries = ledger.entries(ids)
    proofs = ledger.stored_proofs(ids)
    for proof in proofs.values():
        ledger.anchored_root(proof.root)  # the chain read once per root, as verify does
    todo = [(entries[i], proofs.get(i)) for i in ids]
    failed: list[str] = []

    def check_all() -> None:
        failed.clear()
        for results in ledger.check_integrity_many(todo):  # as verify checks them
            failed.extend(r.check for r in results if not r.passed)

    elapsed, raw = interleaved(
        runs, pinned(check_all), pinned(lambda: raw_recover([_recoverable(e) for e, _ in todo]))
    )
    if failed:
        raise RuntimeError(f"integrity checks failed on good entries: {sorted(set(failed))}")
    rate, reference = len(todo) / elapsed, len(todo) / raw
    kinds = sorted({e.kind for e, _ in todo})
    return Goal(
        value=rate, reference=reference, ratio=rate / reference, unit="entries/s", goal=0.5,
        op=">=", detail={"entries": len(todo), "kinds": kinds, "runs": runs},
    )  # fmt: skip


# -- record -----------------------------------------------------------------------------


def record_goal(path: Path, count: int, runs: int) -> Goal:
    """`Ledger.record_many` of facility registrations (validate, sign, store in SQLite, one
    transaction; all cores available) against raw libsecp256k1 signing on one core."""
    ledger = Ledger.init(path, admin_passphrase=PASS)
    who = provenance.parties(ledger, ledger.workspace.keys.unlock("admin", PASS))
    key = coincurve.PrivateKey(who.brand.key)
    digests = [keccak(n.to_bytes(8, "big")) for n in range(count)]
    starts = iter(range(5_000_000, 5_000_000 + runs * count, count))

    def record_once() -> float:
        start = next(starts)
        bodies = [
            facility_body_from_row(provenance.facility_row(n, 1 + n % 4))
            for n in range(start, start + count)
        ]
        return timed(lambda: ledger.record_many("facility", bodies, who.brand))

    elapsed, raw = interleaved(
        runs, record_once, pinned(lambda: [key.sign_recoverable(d, hasher=None) for d in digests])
    )
    rate, reference = count / elapsed, count / raw
    return Goal(
        value=rate, reference=reference, ratio=rate / reference, unit="entries/s", goal=0.5,
        op=">=", detail={"entries_per_run": count, "runs": runs},
    )  # fmt: skip


# -- anchor -----------------------------------------------------------------------------


def anchor_goal(path: Path, entries: Sequence[SignedEntry], runs: int) -> Goal:
    """`Ledger.anchor` of `entries` stored as pending (SQLite, embedded chain: Merkle roots,
    the batches stored, a transaction per batch) against building the MerkleTree of their
    ids alone, in turn (`interleaved`), each anchor in a workspace of its own."""
    leaves = [bytes(e.entry_id) for e in entries]
    workspaces = (path / f"run-{n}" for n in itertools.count())

    def anchor_once() -> float:
        workspace = next(workspaces)
        ledger = Ledger.init(workspace, admin_passphrase=PASS)
        who = provenance.parties(ledger, ledger.workspace.keys.unlock("admin", PASS))
        ledger.store(entries)
        elapsed = timed(lambda: ledger.anchor(who.brand))
        shutil.rmtree(workspace)  # 600 MB a run, mirror and its log
        return elapsed

    def tree_once() -> float:
        # With the collector paused, as `anchor` runs: its walks over the entries held here
        # made the tree half as slow again (1.0 s became 1.5-1.9 s), flattering the ratio.
        with gc_paused():
            return timed(lambda: MerkleTree(leaves))

    elapsed, raw = interleaved(runs, anchor_once, tree_once)
    rate, reference = len(entries) / elapsed, len(entries) / raw
    return Goal(
        value=rate, reference=reference, ratio=rate / reference, unit="entries/s", goal=0.6,
        op=">=", detail={"entries": len(entries), "anchor_s": round(elapsed, 2), "runs": runs},
    )  # fmt: skip


# -- trace ------------------------------------------------------------------------------


def _trace_p50_ms(ledger: Ledger, batches: Sequence[str]) -> float:
    """The median milliseconds of `Ledger.trace` of each of `batches`, once each."""
    return statistics.median(timed(lambda: ledger.trace(b)) * 1000 for b in batches)  # noqa: B023


def trace_goal(ledger: Ledger, built: Sequence[provenance.Tree], runs: int) -> Goal:
    """p50 of `Ledger.trace` of 11- and 111-facility sub-trees (tier-3 and tier-2 batches of
    the trees with transformations), rotating over trees and batches; 1,000 for scale.

    Each tree is traced once before the timed runs, and those first reads are reported
    apart: a host may page out a file's cached pages once idle (this machine's does after a
    minute), so a first read of a tree built minutes before waits on the disk, not on
    the walk."""
    trees = list(built[:-1]) or list(built)
    sizes = {"11": range(10, 100), "111": range(1, 10), "1000": range(0, 1)}
    p50, first = {}, {}
    for label, positions in sizes.items():
        count = runs if label != "1000" else max(3, runs // 5)
        batches = [
            trees[k % len(trees)].batches[positions[k % len(positions)]] for k in range(count)
        ]
        first[label] = _trace_p50_ms(ledger, batches)  # the first reads
        p50[label] = _trace_p50_ms(ledger, batches)
    facilities = sum(len(t.facilities) for t in built)
    return Goal(
        value=max(p50["11"], p50["111"]), unit="ms", goal=20, op="<=", compares="value",
        detail={"p50_ms": {k: round(v, 2) for k, v in p50.items()},
                "first_read_p50_ms": {k: round(v, 2) for k, v in first.items()},
                "mirror_facilities": facilities, "runs": runs},
    )  # fmt: skip
