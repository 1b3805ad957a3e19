"""The closed vocabularies of entry bodies and of the policy (ILO indicators, severities,
finding and grievance statuses, channels, claims, facility types, roles), in a module of the
standard library alone.

Each is defined once, as a `StrEnum`: the pydantic models in `labourledger.kinds` validate
against it, the policy checks against it, and the CLI offers its members as choices (so
options validate and complete) without waiting for pydantic and the models to load.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CATEGORIES",
    "CHANNEL_TYPES",
    "GRIEVANCE_STATUSES",
    "ILO_INDICATORS",
    "OPEN_FINDING_STATUSES",
    "SEVERITIES",
    "AuditStandard",
    "AuditType",
    "ChannelType",
    "Claim",
    "FacilityType",
    "FindingStatus",
    "GrievanceCategory",
    "GrievanceStatus",
    "IloIndicator",
    "MissingAudit",
    "Notice",
    "OtherCategory",
    "Role",
    "Severity",
    "VerificationMethod",
    "WorkersBand",
]


class IloIndicator(StrEnum):
    """The eleven ILO indicators of forced labour."""

    ABUSE_OF_VULNERABILITY = "abuse_of_vulnerability"
    DECEPTION = "deception"
    RESTRICTION_OF_MOVEMENT = "restriction_of_movement"
    ISOLATION = "isolation"
    PHYSICAL_AND_SEXUAL_VIOLENCE = "physical_and_sexual_violence"
    INTIMIDATION_AND_THREATS = "intimidation_and_threats"
    RETENTION_OF_IDENTITY_DOCUMENTS = "retention_of_identity_documents"
    WITHHOLDING_OF_WAGES = "withholding_of_wages"
    DEBT_BONDAGE = "debt_bondage"
    ABUSIVE_WORKING_AND_LIVING_CONDITIONS = "abusive_working_and_living_conditions"
    EXCESSIVE_OVERTIME = "excessive_overtime"


ILO_INDICATORS: tuple[str, ...] = tuple(IloIndicator)


class Severity(StrEnum):
    """How grave a finding or a grievance is, worst first."""

    ZERO_TOLERANCE = "zero_tolerance"
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    OBSERVATION = "observation"


#: Worst first.
SEVERITIES: tuple[str, ...] = tuple(Severity)


class FindingStatus(StrEnum):
    """Where an audit finding stands."""

    OPEN = "open"
    PROGRESS_MADE = "progress_made"
    CLOSED = "closed"
    DISPUTED = "disputed"


#: A finding in any of these is not resolved: it still counts against the facility.
OPEN_FINDING_STATUSES: tuple[FindingStatus, ...] = (
    FindingStatus.OPEN,
    FindingStatus.PROGRESS_MADE,
    FindingStatus.DISPUTED,
)


class AuditStandard(StrEnum):
    """The social audit standard an audit followed ("other" with `standard_other`)."""

    SMETA_2_PILLAR = "SMETA 2-pillar"
    SMETA_4_PILLAR = "SMETA 4-pillar"
    AMFORI_BSCI = "amfori BSCI"
    SA8000 = "SA8000"
    RBA_VAP = "RBA VAP"
    OTHER = "other"


class AuditType(StrEnum):
    """Why an audit took place."""

    INITIAL = "initial"
    PERIODIC = "periodic"
    FOLLOW_UP = "follow-up"


class Notice(StrEnum):
    """How much warning the facility had of an audit."""

    ANNOUNCED = "announced"
    SEMI_ANNOUNCED = "semi_announced"
    UNANNOUNCED = "unannounced"


class VerificationMethod(StrEnum):
    """How an auditor verified a finding's new status."""

    DESKTOP = "desktop"
    ONSITE = "onsite"


class Claim(StrEnum):
    """What an attestation claims: a supplier's self-declaration, or an auditor's certificate."""

    NO_RECRUITMENT_FEES = "no_recruitment_fees"
    NO_RETENTION_OF_IDENTITY_DOCUMENTS = "no_retention_of_identity_documents"
    FREEDOM_OF_MOVEMENT = "freedom_of_movement"
    WAGES_PAID_IN_FULL_AND_ON_TIME = "wages_paid_in_full_and_on_time"
    FREEDOM_OF_ASSOCIATION = "freedom_of_association"
    NO_EXCESSIVE_OVERTIME = "no_excessive_overtime"
    OTHER = "other"  # free text, in `statement`
    CERTIFICATE = "certificate"  # signed by an AUDITOR, with `standard` and `certificate_number`


class FacilityType(StrEnum):
    """Open Supply Hub's facility types."""

    FINAL_PRODUCT_ASSEMBLY = "Final Product Assembly"
    PRINTING_DYEING_LAUNDERING = "Printing, Product Dyeing and Laundering"
    TEXTILE_OR_MATERIAL_PRODUCTION = "Textile or Material Production"
    RAW_MATERIAL = "Raw Material Processing or Production"
    WAREHOUSING = "Warehousing / Distribution"
    OFFICE = "Office / HQ"


class ChannelType(StrEnum):
    """How a worker reached a grievance channel."""

    HOTLINE = "hotline"
    APP = "app"
    SMS = "sms"
    IN_PERSON = "in_person"
    UNION = "union"
    OTHER = "other"


CHANNEL_TYPES: tuple[str, ...] = tuple(ChannelType)


class OtherCategory(StrEnum):
    """Grievance categories besides the ILO indicators."""

    WAGES = "wages"
    HEALTH_AND_SAFETY = "health_and_safety"
    HARASSMENT = "harassment"
    DISCRIMINATION = "discrimination"
    FREEDOM_OF_ASSOCIATION = "freedom_of_association"
    CHILD_LABOUR = "child_labour"


GrievanceCategory = IloIndicator | OtherCategory
#: The eleven ILO forced labour indicators, then the other labour rights categories.
CATEGORIES: tuple[str, ...] = (*IloIndicator, *OtherCategory)


class GrievanceStatus(StrEnum):
    """Where a grievance stands."""

    ACKNOWLEDGED = "acknowledged"
    UNDER_INVESTIGATION = "under_investigation"
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    REMEDIATED = "remediated"
    WITHDRAWN = "withdrawn"


GRIEVANCE_STATUSES: tuple[str, ...] = tuple(GrievanceStatus)


class WorkersBand(StrEnum):
    """How many workers a grievance concerns, in bands that identify no one."""

    ONE = "1"
    TWO_TO_FIVE = "2-5"
    SIX_TO_TWENTY = "6-20"
    MORE_THAN_TWENTY = "21+"


class MissingAudit(StrEnum):
    """The policy's outcome for a facility with no audit."""

    ATTENTION = "attention"
    FAIL = "fail"


class Role(StrEnum):
    """The contract's roles."""

    ADMIN = "ADMIN"
    BRAND = "BRAND"
    AUDITOR = "AUDITOR"
    SUPPLIER = "SUPPLIER"
    GRIEVANCE_CHANNEL = "GRIEVANCE_CHANNEL"
