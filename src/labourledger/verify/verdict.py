"""The verification report: the verdict, the checks a reader must see, counts of the rest.

Checks stream through a `CheckTally` as they are made: every check that is not a pass is
kept with its full text; passes (tens of thousands about single entries on a large batch,
five per facility) are counted per check name, unless all checks were asked for, and each
entry's worst outcome is kept only when it is not a pass. Memory and the report then grow
with the problems found, not with the entries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from labourledger.verify.results import CheckResult, Outcome

if TYPE_CHECKING:
    from labourledger.errors import NextStep

__all__ = ["REPORT_FORMAT", "CheckTally", "VerificationReport"]

REPORT_FORMAT = "labourledger-report/3"

_check_name = attrgetter("check")


class CheckTally:
    """Checks as they are made: counts by outcome, the worst, and those kept in full."""

    def __init__(self, *, all_checks: bool = False) -> None:
        self.all_checks = all_checks
        self.kept: list[CheckResult] = []
        #: Passes counted, not kept, by check name.
        self.passed: Counter[str] = Counter()
        # By identity, not through the enum: `add` runs six times per entry of a batch, and
        # an enum member's hash and properties are Python calls.
        self._outcomes = {id(o): o for o in Outcome}
        self._counted: Counter[int] = Counter()
        #: The worst outcome of each entry with a check that is not a pass.
        self.entries: dict[str, Outcome] = {}

    def add(self, result: CheckResult) -> None:
        """Count one check in, keeping it when a reader needs its text."""
        outcome = result.outcome
        self._counted[id(outcome)] += 1
        if outcome is not Outcome.PASS and result.entry_id is not None:
            before = self.entries.get(result.entry_id)
            if before is None or outcome.rank > before.rank:
                self.entries[result.entry_id] = outcome
        if outcome is not Outcome.PASS or self.all_checks:
            self.kept.append(result)
        else:
            self.passed[result.check] += 1

    def extend(self, results: Iterable[CheckResult]) -> None:
        """`add` each of `results`."""
        for result in results:
            self.add(result)

    def add_passes(self, results: Sequence[CheckResult]) -> None:
        """`add` each of `results`, all passes, at once: judging a relied-on entry counts
        six, and one at a time they were a tenth of a large verify's judging."""
        if self.all_checks:
            self.extend(results)
            return
        self.add_passes_named(list(map(_check_name, results)))

    def add_passes_named(self, checks: Sequence[str]) -> None:
        """Count a pass of each of `checks` (names) without the results: an entry whose
        checks all pass, judged from its facts, makes none unless all checks are kept."""
        if self.all_checks:
            raise ValueError("every check is kept: add the results")
        self._counted[id(Outcome.PASS)] += len(checks)
        self.passed.update(checks)  # in order, as `add` counts them

    @property
    def counts(self) -> dict[str, int]:
        """How many checks had each outcome, by its value."""
        return {o.value: self._counted[i] for i, o in self._outcomes.items()}

    @property
    def verdict(self) -> Outcome:
        """The worst outcome counted; FAIL when nothing was checked (fail closed)."""
        counted = [o for i, o in self._outcomes.items() if self._counted[i]]
        return max(counted, key=lambda o: o.rank) if counted else Outcome.FAIL


@dataclass
class VerificationReport:
    """A batch's verification: verdict, the checks kept in full, counts of all checks, the
    stages (one per upstream facility) and the graph, the anchors and entries (see
    `labourledger.verify.listing`), and whose word the verdict rests on (`trust`)."""

    verdict: Outcome
    #: Every check, every audit in full and every entry listed (`--all-checks`).
    all_checks: bool
    generated_at: str
    batch: dict[str, Any]
    chain: dict[str, Any]
    goods_list: dict[str, Any]
    checks: list[CheckResult]
    #: Passes counted per check name rather than listed (none with `all_checks`).
    passed: dict[str, int]
    #: Every check made, by outcome.
    counts: dict[str, int]
    stages: list[dict[str, Any]]
    graph: dict[str, Any]
    #: Each root the entries are anchored under, with how many it holds.
    anchors: list[dict[str, Any]]
    #: Every entry relied on, counted by kind.
    entry_counts: dict[str, int]
    #: The entries listed: those a reader must look at, or every one with `all_checks`.
    entries: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    #: Failed checks on revocations that do not count, outside the verdict.
    ignored: list[CheckResult] = field(default_factory=list)
    trust: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, say: Callable[[NextStep], str] | None = None) -> dict[str, Any]:
        """The JSON form (`labourledger schema verify-report`); with `say`, each check's
        reason ends with its next step as `say` words it."""
        return {
            "format": REPORT_FORMAT,
            "all_checks": self.all_checks,
            "generated_at": self.generated_at,
            "batch": self.batch,
            "verdict": self.verdict.value.upper(),
            "chain": self.chain,
            "goods_list": self.goods_list,
            "counts": {o.value: self.counts.get(o.value, 0) for o in Outcome},
            "passed": self.passed,
            "checks": [r.to_dict(say) for r in self.checks],
            "stages": self.stages,
            "graph": self.graph,
            "anchors": self.anchors,
            "entry_counts": self.entry_counts,
            "entries": self.entries,
            "problems": self.problems,
            "ignored": [r.to_dict(say) for r in self.ignored],
            "trust": self.trust,
        }
