"""The closed vocabularies of entry bodies (ILO indicators, severities, grievance channels,
categories and statuses), in a module of the standard library alone.

The pydantic models in `labourledger.kinds` validate against these; the CLI lists them in
its help, which must not wait for pydantic and the models to load.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CATEGORIES",
    "CHANNEL_TYPES",
    "GRIEVANCE_STATUSES",
    "ILO_INDICATORS",
    "SEVERITIES",
    "ChannelType",
    "GrievanceCategory",
    "GrievanceStatus",
    "IloIndicator",
    "OtherCategory",
    "Severity",
]

IloIndicator = Literal[
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_and_sexual_violence",
    "intimidation_and_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_and_living_conditions",
    "excessive_overtime",
]
ILO_INDICATORS: tuple[str, ...] = get_args(IloIndicator)
Severity = Literal["zero_tolerance", "critical", "major", "minor", "observation"]
#: Worst first.
SEVERITIES: tuple[str, ...] = get_args(Severity)

ChannelType = Literal["hotline", "app", "sms", "in_person", "union", "other"]
CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)
OtherCategory = Literal[
    "wages",
    "health_and_safety",
    "harassment",
    "discrimination",
    "freedom_of_association",
    "child_labour",
]
GrievanceCategory = IloIndicator | OtherCategory
#: The eleven ILO forced labour indicators, then the other labour rights categories.
CATEGORIES: tuple[str, ...] = (*get_args(IloIndicator), *get_args(OtherCategory))
GrievanceStatus = Literal[
    "acknowledged",
    "under_investigation",
    "substantiated",
    "unsubstantiated",
    "remediated",
    "withdrawn",
]
GRIEVANCE_STATUSES: tuple[str, ...] = get_args(GrievanceStatus)
