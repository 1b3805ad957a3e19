"""Check results: pass, attention or fail, each with a reason a person can act on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from labourledger.errors import NextStep

__all__ = ["CheckResult", "Outcome", "pass_or_fail", "worst"]


class Outcome(StrEnum):
    """A check's outcome, ordered from best to worst."""

    PASS = "pass"
    ATTENTION = "attention"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        """0 for pass, 1 for attention, 2 for fail."""
        return _RANK[self]


_RANK = {Outcome.PASS: 0, Outcome.ATTENTION: 1, Outcome.FAIL: 2}
# Reading a member off an Enum class goes through its metaclass (70 ns, a plain attribute
# 17): `passed` is asked of every result a report counts, 112 -> 51 ns.
_PASS = Outcome.PASS
_set = object.__setattr__


@dataclass(frozen=True, init=False)
class CheckResult:
    """What one named check found, about one entry or facility, and what to do next when
    that is a step to take (the front end words it, in `to_dict`'s reason or apart)."""

    check: str
    outcome: Outcome
    reason: str
    entry_id: str | None = None
    facility: str | None = None
    next_step: NextStep | None = None

    def __init__(
        self,
        check: str,
        outcome: Outcome,
        reason: str,
        entry_id: str | None = None,
        facility: str | None = None,
        next_step: NextStep | None = None,
    ) -> None:
        # The fields set at once, not one frozen `object.__setattr__` each as the generated
        # __init__ does: a verify run makes five results per entry, and this halves their cost.
        _set(
            self,
            "__dict__",
            {
                "check": check,
                "outcome": outcome,
                "reason": reason,
                "entry_id": entry_id,
                "facility": facility,
                "next_step": next_step,
            },
        )

    @property
    def passed(self) -> bool:
        """Whether the outcome is PASS."""
        return self.outcome is _PASS

    def to_dict(self, say: Callable[[NextStep], str] | None = None) -> dict[str, Any]:
        """JSON-ready form; with `say`, the reason ends with the next step as `say` words it
        (a front end's command)."""
        reason = self.reason
        if say is not None and self.next_step is not None:
            reason = f"{reason}; {say(self.next_step)}"
        # Not dataclasses.asdict: it deep-copies every field, and a report has 100,000s.
        return {
            "check": self.check,
            "outcome": self.outcome.value,
            "reason": reason,
            "entry_id": self.entry_id,
            "facility": self.facility,
        }


# Callers choose the reason with `good if ok else bad`, so only the one shown is formatted.
def pass_or_fail(
    check: str, entry_id: str, ok: bool, reason: str, next_step: NextStep | None = None
) -> CheckResult:
    """The result of the check `check` of the entry `entry_id` (hex): a pass when `ok`."""
    # Positional: keyword arguments cost a fifth of making a result, five per entry.
    return CheckResult(check, _PASS if ok else Outcome.FAIL, reason, entry_id, None, next_step)


def worst(results: Iterable[CheckResult]) -> Outcome:
    """The worst outcome; FAIL when there are no results at all (fail closed)."""
    outcomes = [r.outcome for r in results]
    if not outcomes:
        return Outcome.FAIL
    return max(outcomes, key=lambda o: o.rank)
