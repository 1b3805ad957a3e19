"""Checks of an entry's issuer: that it held a role allowed for the entry's kind when the
entry was anchored, and that a supplier speaks only for facilities it operates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from labourledger.envelope import SignedEntry, to_hex
from labourledger.verify.integrity import Signed
from labourledger.verify.results import CheckResult, pass_or_fail

__all__ = ["IssuerHeldRole", "IssuerOperatesFacility"]


@dataclass(frozen=True)
class IssuerHeldRole:
    """The issuer held a role allowed for the kind at the block of the anchor including it.

    `held` answers whether an account held a role at a block (the contract, asked
    at that block). Pending entries fail: there is no anchor block to judge by.
    """

    roles: tuple[str, ...]
    block: int | None
    held: Callable[[str, str, int], bool]
    name: str = "issuer_role"

    def __call__(self, entry: Signed) -> CheckResult:
        wanted = " or ".join(self.roles)
        entry_id = to_hex(entry.entry_id)
        if self.block is None:
            return pass_or_fail(self.name, entry_id, False, "pending: no anchor block to judge by")
        ok = self.holds(entry.issuer)
        return pass_or_fail(
            self.name,
            entry_id,
            ok,
            f"issuer held {wanted} at block {self.block}"
            if ok
            else f"issuer {entry.issuer} held no {wanted} role at block {self.block}, "
            "where the entry was anchored",
        )

    def holds(self, issuer: str) -> bool:
        """Whether `issuer` held one of the roles at the anchor's block."""
        block = self.block
        return block is not None and any(self.held(role, issuer, block) for role in self.roles)


@dataclass(frozen=True)
class IssuerOperatesFacility:
    """A supplier signs only for its own facilities: the issuer of a self-declaration,
    or of a transformation it signed without a BRAND role, is named among the facility's
    operators by a brand's latest registration of it.

    `operators` maps a facility id to the accounts its registrations name (checksummed).
    """

    operators: Mapping[str, frozenset[str]]
    name: str = "issuer_operates_facility"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        facility = str(entry.body["facility"])
        ok = entry.issuer in self.operators.get(facility, frozenset())
        result = pass_or_fail(
            self.name,
            to_hex(entry.entry_id),
            ok,
            f"issuer is an operator of facility {facility}"
            if ok
            else f"issuer {entry.issuer} is not an operator of facility {facility} in any "
            "brand's latest registration of it; a supplier signs only for its own facilities",
        )
        return replace(result, facility=facility)  # reported with the facility it concerns
