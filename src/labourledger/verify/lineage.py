"""A lot's lineage as its own records tell it: each transformation happens at the facility
that produced the lot it makes, no later than that lot was produced and no earlier than the
lots it is made from were. Recording refuses a transformation its batches contradict
(`provenance.record_transformation`); this check finds one signed elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labourledger.verify.results import CheckResult, Outcome

__all__ = ["LineageInOrder", "contradictions"]


def contradictions(
    transformation: Mapping[str, Any], batches: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, Mapping[str, Any]]]:
    """Where a transformation (its body) and its batches (bodies or mirror rows, by id)
    disagree, as (its field, the batch): "facility" and "date" against the lot it makes,
    "inputs[i]" against a lot it is made from. The one rule recording and verify share."""
    day, found = str(transformation["date"]), []
    made = batches.get(transformation["output"])
    if made is not None:
        if made["facility"] != transformation["facility"]:
            found.append(("facility", made))
        if day > made["produced_at"]:
            found.append(("date", made))
    for place, source in enumerate(transformation["inputs"]):
        used = batches.get(source)
        if used is not None and used["produced_at"] > day:
            found.append((f"inputs[{place}]", used))
    return found


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
        for field, batch in contradictions(transformation, self.batches):
            if field == "facility":
                problems.append(f"it happened at {transformation['facility']}, but lot "
                                f"{batch['lot']} was produced at {batch['facility']}")  # fmt: skip
            elif field == "date":
                problems.append(f"it is dated {day}, after lot {batch['lot']} was produced "
                                f"({batch['produced_at']})")  # fmt: skip
            else:
                problems.append(f"it is dated {day}, before its input lot {batch['lot']} was "
                                f"produced ({batch['produced_at']})")  # fmt: skip
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
