"""A lot's lineage as its own records tell it: each transformation happens at the facility
that produced the lot it makes, no later than that lot was produced and no earlier than the
lots it is made from were. Recording refuses a transformation its batches contradict
(`provenance.record_transformation`); this check finds one signed elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labourledger.verify.results import CheckResult, Outcome

__all__ = ["LineageInOrder"]


@dataclass(frozen=True)
class LineageInOrder:
    """A transformation in step with its batches' signed bodies (`batches`, by id). One
    that is not makes the trace's story of where the material came from doubtful, so it
    needs a person's attention; the facilities upstream are still judged."""

    batches: Mapping[str, Mapping[str, Any]]
    name: str = "lineage_in_order"

    def __call__(self, transformation: Mapping[str, Any]) -> CheckResult:
        """Judge one transformation (its signed body, with `entry_id`)."""
        day, problems = str(transformation["date"]), []
        made = self.batches.get(transformation["output"])
        if made is not None:
            if made["facility"] != transformation["facility"]:
                problems.append(f"it happened at {transformation['facility']}, but lot "
                                f"{made['lot']} was produced at {made['facility']}")  # fmt: skip
            if day > made["produced_at"]:
                problems.append(f"it is dated {day}, after lot {made['lot']} was produced "
                                f"({made['produced_at']})")  # fmt: skip
        for source in transformation["inputs"]:
            used = self.batches.get(source)
            if used is not None and used["produced_at"] > day:
                problems.append(f"it is dated {day}, before its input lot {used['lot']} was "
                                f"produced ({used['produced_at']})")  # fmt: skip
        if problems:
            reason = "the batches' own records contradict this transformation: " + "; ".join(
                problems
            )
            return CheckResult(self.name, Outcome.ATTENTION, reason, transformation["entry_id"])
        return CheckResult(
            self.name,
            Outcome.PASS,
            "dated and placed as its batches say",
            transformation["entry_id"],
        )
