"""Audit and attestation views are typed, and their JSON is the signed bodies' shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from labourledger.audits import attestation_views, audit_views
from labourledger.vocabulary import FindingStatus, Severity

FACILITY = "0x" + "f" * 64
AUDIT = "0x" + "a" * 64
CLOSED, REOPENED = "0x" + "b" * 64, "0x" + "c" * 64
CERTIFICATE = "0x" + "d" * 64
ANCHORED = {"anchor_status": "final", "block_number": 7, "anchor_timestamp": 1_780_000_000,
            "tx_hash": "0x" + "1" * 64}  # fmt: skip
PENDING = dict.fromkeys(ANCHORED)

AUDIT_BODY = {
    "facility": FACILITY, "standard": "SA8000", "audit_type": "periodic", "notice": "unannounced",
    "start_date": "2026-03-10", "end_date": "2026-03-12", "workers_interviewed": 38,
    "evidence": [],
    "findings": [
        {"id": "F-1", "ilo_indicators": ["debt_bondage"], "severity": "critical",
         "description": "Recruitment-fee debts", "evidence": [],
         "corrective_action": {"action": "Repay fees", "due_date": "2026-05-01"},
         "status": "open"},
    ],
}  # fmt: skip


def _row(
    entry_id: str, subject: str, body: dict[str, Any], anchor: dict[str, Any]
) -> dict[str, Any]:
    return {"entry_id": entry_id, "subject": subject, "issuer": "0xAuditor", "issued_at": 1,
            "body": body, **anchor}  # fmt: skip


def _update(entry_id: str, status: str, anchor: dict[str, Any]) -> dict[str, Any]:
    body = {"audit": AUDIT, "finding_id": "F-1", "status": status, "evidence": [],
            "verification_method": "onsite", "verified_on": "2026-04-01"}  # fmt: skip
    return _row(entry_id, AUDIT, body, anchor)


TIMELINES = {
    "audit": {FACILITY: [_row(AUDIT, FACILITY, AUDIT_BODY, ANCHORED)]},
    "finding_update": {
        AUDIT: [_update(CLOSED, "closed", ANCHORED), _update(REOPENED, "open", PENDING)]
    },
    "attestation": {
        FACILITY: [
            _row(CERTIFICATE, FACILITY,
                 {"facility": FACILITY, "claim": "no_recruitment_fees",
                  "valid_from": "2026-01-01", "valid_until": "2026-12-31", "evidence": []},
                 PENDING),
        ]
    },
}  # fmt: skip


def _timelines(subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
    wanted = set(subjects)
    return {s: rows for s, rows in TIMELINES[kind].items() if s in wanted}


def _revoked(entry_ids: Iterable[str]) -> dict[str, list[str]]:
    return {}


def test_a_finding_takes_the_last_anchored_update_and_shows_every_step() -> None:
    [view] = audit_views(_timelines, _revoked, [FACILITY])[FACILITY]
    [finding] = view.findings
    assert finding.status is FindingStatus.CLOSED  # the pending reopening changes nothing
    assert finding.severity is Severity.CRITICAL
    assert [(s.by, s.state) for s in finding.history] == [
        ("audit", "anchored"), ("finding_update", "anchored"), ("finding_update", "pending"),
    ]  # fmt: skip
    assert finding.history[1].verified_on == dt.date(2026, 4, 1)
    assert view.body.end_date == dt.date(2026, 3, 12)
    assert view.state == "final"
    assert view.open_findings == []  # closed by the anchored update


def test_a_finding_is_open_until_an_anchored_update_closes_it() -> None:
    # Only the update still pending: it does not close the finding.
    only_pending = {**TIMELINES, "finding_update": {AUDIT: [_update(CLOSED, "closed", PENDING)]}}

    def timelines(subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
        return {s: rows for s, rows in only_pending[kind].items() if s in set(subjects)}

    [view] = audit_views(timelines, _revoked, [FACILITY])[FACILITY]
    assert [f.id for f in view.open_findings] == ["F-1"]


def test_the_json_keeps_the_signed_shape() -> None:
    [view] = audit_views(_timelines, _revoked, [FACILITY])[FACILITY]
    shown = view.model_dump(mode="json")
    assert shown["body"] == {k: v for k, v in AUDIT_BODY.items() if k != "findings"}
    [finding] = shown["findings"]
    history = finding.pop("history")
    # Unset optional fields (clause, root cause, preventive action) stay absent, as signed.
    assert finding == {**AUDIT_BODY["findings"][0], "status": "closed"}
    assert history[0] == {
        "status": "open", "by": "audit", "entry_id": AUDIT, "issued_at": 1,
        "verification_method": None, "verified_on": None, "state": "anchored",
        "anchor": {"status": "final", "block_number": 7, "timestamp": 1_780_000_000,
                   "tx_hash": "0x" + "1" * 64},
    }  # fmt: skip
    assert history[2]["anchor"] is None


def test_an_attestation_is_in_force_only_within_its_dates() -> None:
    for day, in_force in ((dt.date(2026, 6, 1), True), (dt.date(2027, 1, 1), False)):
        [view] = attestation_views(_timelines, _revoked, [FACILITY], day)[FACILITY]
        assert view.in_force is in_force
        assert view.model_dump(mode="json")["valid_until"] == "2026-12-31"


def test_views_share_their_field_name_sets_and_a_copy_changes_no_other() -> None:
    [view] = audit_views(_timelines, _revoked, [FACILITY])[FACILITY]
    [again] = audit_views(_timelines, _revoked, [FACILITY])[FACILITY]
    # One set per distinct set of names, not one per view (728 bytes for 8 names).
    assert view.body.model_fields_set is again.body.model_fields_set
    first, closed, _ = view.findings[0].history
    assert first.model_fields_set is closed.model_fields_set
    graded = view.body.model_copy(update={"grade": "A"})
    assert "grade" in graded.model_fields_set
    assert "grade" not in again.body.model_fields_set


def test_findings_signed_with_one_status_share_the_audits_step() -> None:
    second = {**AUDIT_BODY["findings"][0], "id": "F-2", "description": "Passports held"}
    body = {**AUDIT_BODY, "findings": [*AUDIT_BODY["findings"], second]}
    rows = {**TIMELINES, "audit": {FACILITY: [_row(AUDIT, FACILITY, body, ANCHORED)]}}

    def timelines(subjects: Iterable[str], kind: str) -> dict[str, list[dict[str, Any]]]:
        return {s: found for s, found in rows[kind].items() if s in set(subjects)}

    [view] = audit_views(timelines, _revoked, [FACILITY])[FACILITY]
    first, other = view.findings
    assert first.history[0] is other.history[0]
    assert [s.entry_id for s in first.history] == [AUDIT, CLOSED, REOPENED]
    assert [s.entry_id for s in other.history] == [AUDIT]  # the updates name F-1 alone
    assert other.model_dump(mode="json")["history"] == [first.model_dump(mode="json")["history"][0]]
