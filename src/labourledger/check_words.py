"""Each check in the words of someone who never saw the code: its title, and how a failing
or doubtful one reads in a verdict's headline."""

from __future__ import annotations

__all__ = ["HEADLINES", "PER_BATCH", "PER_FACILITY", "TITLES", "check_title"]

#: Each check in the words of someone who never saw the code.
TITLES = {
    "content_hash": "Evidence unaltered since it was signed",
    "entry_id": "Evidence identifier matches its content",
    "signature": "Signed by the party it names",
    "anchored": "Anchored on the blockchain",
    "issued_before_anchor": "Signed before it was anchored",
    "issuer_role": "Signer was accredited for this kind of evidence",
    "issuer_operates_facility": "Declaration signed by the facility's own operator",
    "not_revoked": "Evidence not withdrawn",
    "batch": "Batch recorded in this ledger",
    "audit_valid": "Recent independent audit",
    "forced_labour_findings": "No open forced-labour finding",
    "attestations_in_force": "Certificates and declarations in force",
    "high_risk_notice": "Unannounced audit where goods are on the US forced-labour list",
    "trace_complete": "Traced back to raw material",
    "lineage_in_order": "Each processing step dated and placed as its batches say",
    "worker_grievances": "No substantiated or unresolved worker grievance of forced labour",
    "complete": "Nothing the blockchain's index lists was left out",
    "accredited_by": "Signers accredited by a trusted administrator",
    "contract_code": "The ledger contract runs the published LabourLedger code",
}

#: How a failing or doubtful check reads in the verdict's headline.
HEADLINES = {
    "forced_labour_findings": "forced-labour indicator open at {where}",
    "audit_valid": "no recent independent audit at {where}",
    "attestations_in_force": "a certificate or declaration not in force at {where}",
    "high_risk_notice": "goods on the US forced-labour list without an unannounced audit "
    "at {where}",
    "issuer_operates_facility": "a declaration for {where} signed by someone who does not "
    "operate it",
    "trace_complete": "the supply chain is not traced back to raw material",
    "lineage_in_order": "a processing step its batches' own records contradict",
    "worker_grievances": "a worker grievance of forced labour at {where}",
    "not_revoked": "evidence behind this batch was withdrawn",
    "batch": "this batch is not recorded in this ledger",
    "complete": "evidence about {where} was left out",
    "accredited_by": "a signer accredited by an administrator not trusted",
    "contract_code": "the ledger contract does not run the published code",
}


#: Checks made once per upstream facility, and once per batch or chain; every other check
#: is made per piece of evidence. A pass counted rather than listed reads by what it counted.
PER_FACILITY = frozenset(
    {
        "audit_valid",
        "forced_labour_findings",
        "attestations_in_force",
        "high_risk_notice",
        "goods_list",
        "worker_grievances",
    }
)
PER_BATCH = frozenset(
    {"batch", "trace_complete", "complete", "accredited_by", "contract_code", "deploy_block"}
)


def check_title(check: str) -> str:
    """A check's plain-language name (the code name, spaced, for a check not known here)."""
    return TITLES.get(check, check.replace("_", " ").capitalize())
